/* The 64-virtual-lane reductions of src/scalar/lanes.h on NEON: sixteen
 * q-register accumulators, v[q] holding lanes 4q..4q+3, so element i lands in
 * lane i % 64 exactly as in the reference. A last partial vector updates only
 * its valid lanes (the others keep their value bit for bit). The halving tree
 * combines v[q] with v[q + 8], then v[q + 4], v[q + 2], v[q + 1], and finally
 * the lanes of v[0] (w = 2, then w = 1). */
#ifndef RG_NEON_LANES_H
#define RG_NEON_LANES_H
#include "vec.h"

#define RG_NACC (RG_LANES / 4)

struct rg_lanes {
  float32x4_t v[RG_NACC];
};

/* What one element contributes to its lane:
 *   SUM    lane + x            ASUM  lane + |x|
 *   DOT    fmaf(x, y, lane)    MAX   (x > lane) ? x : lane
 *   EXPSUM lane + exp(x - c)   (c: a per-call constant, the row max) */
enum rg_fold { RG_FOLD_SUM, RG_FOLD_ASUM, RG_FOLD_DOT, RG_FOLD_MAX, RG_FOLD_EXPSUM };

RG_INLINE float32x4_t rg_fold_step(enum rg_fold kind, float32x4_t lane, float32x4_t x,
                                   float32x4_t y) {
  switch (kind) {
    case RG_FOLD_SUM: return vaddq_f32(lane, x);
    case RG_FOLD_ASUM: return vaddq_f32(lane, vabsq_f32(x));
    case RG_FOLD_DOT: return vfmaq_f32(lane, x, y);
    case RG_FOLD_MAX: return rg_max(lane, x);
    case RG_FOLD_EXPSUM: return vaddq_f32(lane, rg_exp4(vsubq_f32(x, y)));
  }
  return lane;
}

/* lane[i] combined with lane[i + w]: a + b for sums, (b > a) ? b : a for max. */
RG_INLINE float32x4_t rg_combine(enum rg_fold kind, float32x4_t a, float32x4_t b) {
  return kind == RG_FOLD_MAX ? rg_max(a, b) : vaddq_f32(a, b);
}

/* Lanes all at +0.0 for the sums, -inf for max. */
RG_INLINE void rg_lanes_init(enum rg_fold kind, struct rg_lanes *l) {
  float32x4_t v = rg_dup(kind == RG_FOLD_MAX ? -INFINITY : 0.0f);
#pragma GCC unroll 16
  for (int q = 0; q < RG_NACC; q++) l->v[q] = v;
}

/* Folds elements 0..n-1 of x (and of y for DOT; c is EXPSUM's constant). */
RG_INLINE void rg_fold(enum rg_fold kind, struct rg_lanes *l, int64_t n, const float *x,
                       const float *y, float c) {
  const float32x4_t cv = rg_dup(c);
  int64_t j = 0;
  for (; n - j >= RG_LANES; j += RG_LANES) {
#pragma GCC unroll 16
    for (int q = 0; q < RG_NACC; q++) {
      float32x4_t yv = kind == RG_FOLD_DOT ? vld1q_f32(y + j + 4 * q) : cv;
      l->v[q] = rg_fold_step(kind, l->v[q], vld1q_f32(x + j + 4 * q), yv);
    }
  }
#pragma GCC unroll 16
  for (int q = 0; q < RG_NACC; q++) {
    int64_t r = n - j - 4 * q;
    if (r <= 0) break;
    float32x4_t yv = kind == RG_FOLD_DOT ? rg_ld(y + j + 4 * q, r) : cv;
    float32x4_t s = rg_fold_step(kind, l->v[q], rg_ld(x + j + 4 * q, r), yv);
    l->v[q] = r >= 4 ? s : rg_sel(rg_first(r), s, l->v[q]);
  }
}

/* The halving tree: w = 32, 16, 8, 4 across accumulators, then 2 and 1. */
RG_INLINE float rg_lanes_reduce(enum rg_fold kind, struct rg_lanes *l) {
#pragma GCC unroll 4
  for (int h = RG_NACC / 2; h >= 1; h /= 2)
#pragma GCC unroll 8
    for (int q = 0; q < h; q++) l->v[q] = rg_combine(kind, l->v[q], l->v[q + h]);
  float32x4_t v = rg_combine(kind, l->v[0], vextq_f32(l->v[0], l->v[0], 2));
  v = rg_combine(kind, v, vextq_f32(v, v, 1));
  return vgetq_lane_f32(v, 0);
}

/* One whole reduction of a row: init, fold, combine. */
RG_INLINE float rg_reduce(enum rg_fold kind, int64_t n, const float *x, const float *y,
                          float c) {
  struct rg_lanes l;
  rg_lanes_init(kind, &l);
  rg_fold(kind, &l, n, x, y, c);
  return rg_lanes_reduce(kind, &l);
}

/* The RG_SQ_LANES = 32 double lanes of the sums of squares as sixteen
 * float64x2 accumulators: v[p] holds lanes 2p and 2p + 1, so the four floats
 * at element 32r + 4q land in v[2q] (low pair) and v[2q + 1] (high pair).
 * A partial last vector loads zeros beyond n, which add +0.0 and leave a lane
 * unchanged (a sum of squares starts at +0.0 and is never -0.0). */
#define RG_SQ_NACC (RG_SQ_LANES / 2)

struct rg_sq_lanes {
  float64x2_t v[RG_SQ_NACC];
};

RG_INLINE void rg_sq_add(struct rg_sq_lanes *s, int q, float32x4_t x) {
  float64x2_t lo = vcvt_f64_f32(vget_low_f32(x)), hi = vcvt_high_f64_f32(x);
  s->v[2 * q] = vfmaq_f64(s->v[2 * q], lo, lo);
  s->v[2 * q + 1] = vfmaq_f64(s->v[2 * q + 1], hi, hi);
}

/* Sum of squares of a row: fold, then halve over the accumulators (w = 16,
 * 8, 4, 2) and add the two lanes of v[0] (w = 1). */
RG_INLINE double rg_row_sumsq(int64_t n, const float *x) {
  struct rg_sq_lanes s;
#pragma GCC unroll 16
  for (int p = 0; p < RG_SQ_NACC; p++) s.v[p] = vdupq_n_f64(0.0);
  int64_t j = 0;
  for (; n - j >= RG_SQ_LANES; j += RG_SQ_LANES) {
#pragma GCC unroll 8
    for (int q = 0; q < RG_SQ_LANES / 4; q++) rg_sq_add(&s, q, vld1q_f32(x + j + 4 * q));
  }
#pragma GCC unroll 8
  for (int q = 0; q < RG_SQ_LANES / 4; q++) {
    int64_t r = n - j - 4 * q;
    if (r <= 0) break;
    rg_sq_add(&s, q, rg_ld(x + j + 4 * q, r));
  }
#pragma GCC unroll 4
  for (int h = RG_SQ_NACC / 2; h >= 1; h /= 2)
#pragma GCC unroll 8
    for (int p = 0; p < h; p++) s.v[p] = vaddq_f64(s.v[p], s.v[p + h]);
  return vgetq_lane_f64(s.v[0], 0) + vgetq_lane_f64(s.v[0], 1);
}

RG_INLINE float rg_row_sum(int64_t n, const float *x) {
  return rg_reduce(RG_FOLD_SUM, n, x, NULL, 0.0f);
}
RG_INLINE float rg_row_dot(int64_t n, const float *x, const float *y) {
  return rg_reduce(RG_FOLD_DOT, n, x, y, 0.0f);
}
RG_INLINE float rg_row_max(int64_t n, const float *x) {
  return rg_reduce(RG_FOLD_MAX, n, x, NULL, 0.0f);
}
#endif
