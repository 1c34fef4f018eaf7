/* Confidence intervals over the seeds of a regime: the mean with a 95%
 * Student-t interval, the geometric mean with its interval in log10 space
 * (for ratios that span decades), and Welch's interval of a difference of
 * two means. n = 1 gives no interval (the bounds are NaN). */
#ifndef RG_TOOLS_STUDY_STATS_H
#define RG_TOOLS_STUDY_STATS_H

#include <stdbool.h>

typedef struct study_ci {
  int n;                 /* finite values used */
  double mean, lo, hi;   /* lo, hi: NaN when n < 2 (mean NaN when n = 0) */
  double sd;             /* sample standard deviation (n - 1), NaN when n < 2 */
} study_ci;

/* The 0.975 quantile of Student's t with df degrees of freedom: a table for
 * df 1..30, 1.96 beyond (NaN for df < 1). */
double study_t975(int df);

/* Mean and 95% interval mean +- t975(n - 1) sd / sqrt(n) of the finite
 * values of x[0..n). */
study_ci study_mean_ci(const double *x, int n);

/* Geometric mean and its interval: study_mean_ci of log10 of the finite
 * positive values, mapped back by 10^. n counts the values used. */
study_ci study_geomean_ci(const double *x, int n);

/* The difference a - b of two means with Welch's 95% interval (unequal
 * variances; the Welch-Satterthwaite degrees of freedom, rounded down,
 * which widens the interval). NaN bounds when either side has n < 2. */
typedef struct study_diff {
  double d, lo, hi;
  int df;
} study_diff;
study_diff study_welch(const study_ci *a, const study_ci *b);

/* True when the interval of d excludes 0 (the two means separate). */
bool study_diff_separates(const study_diff *d);

/* True when two intervals overlap, or either has none (n < 2): such
 * regimes cannot be told apart. */
bool study_ci_overlap(const study_ci *a, const study_ci *b);

#endif
