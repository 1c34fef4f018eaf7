/* Scalar model of the 64-virtual-lane reductions (RG_LANES). Accumulate with
 * lane[i % 64], then combine by halving: lane[i] = lane[i] + lane[i + w] for
 * w = 32, 16, ..., 1. Max-type reductions use (b > a) ? b : a at every step,
 * which is what maxps(b, a) computes on x86 and what NEON must reproduce. */
#ifndef RG_SCALAR_LANES_H
#define RG_SCALAR_LANES_H
#include "kernels.h"

static inline float rg_lanes_sum(float *lane) {
  for (int w = RG_LANES / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) lane[i] = lane[i] + lane[i + w];
  return lane[0];
}

static inline float rg_lanes_max(float *lane) {
  for (int w = RG_LANES / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) lane[i] = (lane[i + w] > lane[i]) ? lane[i + w] : lane[i];
  return lane[0];
}

static inline float rg_row_sum(int64_t n, const float *x) {
  float lane[RG_LANES] = {0};
  for (int64_t i = 0; i < n; i++) lane[i % RG_LANES] = lane[i % RG_LANES] + x[i];
  return rg_lanes_sum(lane);
}

static inline float rg_row_dot(int64_t n, const float *x, const float *y) {
  float lane[RG_LANES] = {0};
  for (int64_t i = 0; i < n; i++) lane[i % RG_LANES] = fmaf(x[i], y[i], lane[i % RG_LANES]);
  return rg_lanes_sum(lane);
}

/* Sums of squares: lane[i % RG_SQ_LANES] = fma(v, v, lane) in double with
 * v = (double)x[i] (exact), combined by halving w = 16, 8, ..., 1. v * v is
 * exact, so the fma rounds once, like lane + v * v would. */
static inline double rg_sq_lanes_sum(double *lane) {
  for (int w = RG_SQ_LANES / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) lane[i] = lane[i] + lane[i + w];
  return lane[0];
}

static inline double rg_row_sumsq(int64_t n, const float *x) {
  double lane[RG_SQ_LANES] = {0};
  for (int64_t i = 0; i < n; i++) {
    double v = x[i];
    lane[i % RG_SQ_LANES] = fma(v, v, lane[i % RG_SQ_LANES]);
  }
  return rg_sq_lanes_sum(lane);
}

static inline float rg_row_max(int64_t n, const float *x) {
  float lane[RG_LANES];
  for (int i = 0; i < RG_LANES; i++) lane[i] = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    float *l = &lane[i % RG_LANES];
    *l = (x[i] > *l) ? x[i] : *l;
  }
  return rg_lanes_max(lane);
}
#endif
