/* Confidence intervals over seeds (study_stats.h). */
#include "study_stats.h"

#include <math.h>

/* t(0.975, df) for df = 1..30 (standard tables, 4 decimals). */
static const double t975[30] = {12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060,
                                2.2622,  2.2281, 2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199,
                                2.1098,  2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
                                2.0595,  2.0555, 2.0518, 2.0484, 2.0452, 2.0423};

double study_t975(int df) {
  if (df < 1) return NAN;
  return df <= 30 ? t975[df - 1] : 1.96;
}

study_ci study_mean_ci(const double *x, int n) {
  study_ci c = {.mean = NAN, .lo = NAN, .hi = NAN, .sd = NAN};
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    if (isfinite(x[i])) sum += x[i], c.n++;
  if (c.n == 0) return c;
  c.mean = sum / c.n;
  if (c.n < 2) return c;
  double ss = 0.0;
  for (int i = 0; i < n; i++)
    if (isfinite(x[i])) ss += (x[i] - c.mean) * (x[i] - c.mean);
  c.sd = sqrt(ss / (c.n - 1));
  double half = study_t975(c.n - 1) * c.sd / sqrt((double)c.n);
  c.lo = c.mean - half;
  c.hi = c.mean + half;
  return c;
}

/* A small fixed cap: a study has at most a few dozen seeds (--seeds). */
#define MAX_VALUES 1024

study_ci study_geomean_ci(const double *x, int n) {
  double logs[MAX_VALUES];
  int m = 0;
  for (int i = 0; i < n && m < MAX_VALUES; i++)
    logs[m++] = isfinite(x[i]) && x[i] > 0.0 ? log10(x[i]) : NAN;
  study_ci c = study_mean_ci(logs, m);
  c.mean = pow(10.0, c.mean);
  c.lo = pow(10.0, c.lo);
  c.hi = pow(10.0, c.hi);
  return c; /* sd stays in log10 units */
}

study_diff study_welch(const study_ci *a, const study_ci *b) {
  study_diff r = {.d = a->mean - b->mean, .lo = NAN, .hi = NAN, .df = 0};
  if (a->n < 2 || b->n < 2) return r;
  double va = a->sd * a->sd / a->n, vb = b->sd * b->sd / b->n, se2 = va + vb;
  if (se2 == 0.0) { /* identical values in both: the difference is exact */
    r.lo = r.hi = r.d;
    r.df = a->n + b->n - 2;
    return r;
  }
  double df = se2 * se2 / (va * va / (a->n - 1) + vb * vb / (b->n - 1));
  r.df = (int)floor(df);
  if (r.df < 1) r.df = 1;
  double half = study_t975(r.df) * sqrt(se2);
  r.lo = r.d - half;
  r.hi = r.d + half;
  return r;
}

bool study_diff_separates(const study_diff *d) { return d->lo > 0.0 || d->hi < 0.0; }

bool study_ci_overlap(const study_ci *a, const study_ci *b) {
  if (a->n < 2 || b->n < 2) return true;
  return a->lo <= b->hi && b->lo <= a->hi;
}
