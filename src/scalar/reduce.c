/* Scalar reference reductions over 64 virtual lanes (see lanes.h). amax works
 * on the bit patterns of |x| as unsigned integers, which orders finite values,
 * then infinity, then NaN: exact, order-free, and NaN-propagating. */
#define RG_ISA scalar
#include "isa.h"
#include "lanes.h"

float rg_sum__scalar(int64_t n, const float *x) { return rg_row_sum(n, x); }

double rg_sumsq__scalar(int64_t n, const float *x) { return rg_row_sumsq(n, x); }

float rg_dot__scalar(int64_t n, const float *x, const float *y) { return rg_row_dot(n, x, y); }

float rg_asum__scalar(int64_t n, const float *x) {
  float lane[RG_LANES] = {0};
  for (int64_t i = 0; i < n; i++) lane[i % RG_LANES] = lane[i % RG_LANES] + fabsf(x[i]);
  return rg_lanes_sum(lane);
}

static uint32_t abs_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u & 0x7fffffffu;
}

float rg_amax__scalar(int64_t n, const float *x) {
  uint32_t best = 0;
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = abs_bits(x[i]);
    best = u > best ? u : best;
  }
  float r;
  memcpy(&r, &best, sizeof r);
  return r;
}

/* Gradient of max|x| (value m): g is shared equally by the elements with
 * |x| == m, each taking sign(x) * g / count. */
void rg_amax_bwd__scalar(int64_t n, float m, float g, const float *x, float *dx) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; i++) count += (fabsf(x[i]) == m);
  if (count == 0) return;
  float share = g / (float)count;
  for (int64_t i = 0; i < n; i++) {
    float c = (fabsf(x[i]) == m) ? ((x[i] > 0.0f) ? share : ((x[i] < 0.0f) ? -share : 0.0f))
                                 : 0.0f;
    dx[i] = dx[i] + c;
  }
}

/* One pass over an [m, n] tensor: row sums of squares in double (lanes per
 * row, stored when row_sumsq is not NULL), stats->sumsq = their sum in row
 * order, stats->asum = the same for |x| in float, stats->amax = max |x| as
 * amax. */
void rg_grad_stats__scalar(int64_t m, int64_t n, const float *x, double *row_sumsq,
                           struct rg_grad_stats *stats) {
  double sq = 0.0;
  float ab = 0.0f;
  for (int64_t r = 0; r < m; r++) {
    const float *row = x + r * n;
    double rs = rg_row_sumsq(n, row);
    float ra = rg_asum__scalar(n, row);
    if (row_sumsq) row_sumsq[r] = rs;
    sq = sq + rs;
    ab = ab + ra;
  }
  stats->sumsq = sq;
  stats->asum = ab;
  stats->amax = rg_amax__scalar(m * n, x);
}
