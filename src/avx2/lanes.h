/* The 64 virtual lanes of every long reduction (RG_LANES, scalar/lanes.h)
 * as 8 ymm accumulators: acc[q] holds lanes 8q .. 8q + 7, so element i of a
 * row lands in lane i % 64 exactly as in the scalar model. */
#ifndef RG_AVX2_LANES_H
#define RG_AVX2_LANES_H

#include <math.h>

#include "kernels.h"
#include "simd.h"

#define RG_ACCS (RG_LANES / RG_W) /* 8 */

/* Lane driver: f(ctx, q, i, m, tail) feeds the chunk of elements i .. i + 7
 * to accumulator q. Full rows of 64 first; then the last partial row, chunk
 * by chunk, masked (tail = 1). Masked lanes load +0.0: an identity for sums,
 * because a lane that starts at +0.0 never becomes -0.0. */
typedef void (*rg_lane_fn)(void *ctx, int q, int64_t i, __m256i m, int tail);

RG_INLINE void rg_lanes_run(int64_t n, rg_lane_fn f, void *ctx) {
  int64_t i = 0;
  for (; i + RG_LANES <= n; i += RG_LANES) {
    RG_UNROLL for (int q = 0; q < RG_ACCS; q++) f(ctx, q, i + RG_W * q, rg_all(), 0);
  }
  RG_UNROLL for (int q = 0; q < RG_ACCS; q++)
    if (i + RG_W * q < n) f(ctx, q, i + RG_W * q, rg_mask(n - i - RG_W * q), 1);
}

/* Halving tree, lane[i] = lane[i] + lane[i + w] for w = 32, 16, 8 (whole
 * accumulators), 4 (128-bit halves), 2, 1. */
RG_INLINE float rg_lanes_sum(const __m256 *acc) {
  __m256 a0 = acc[0] + acc[4], a1 = acc[1] + acc[5], a2 = acc[2] + acc[6], a3 = acc[3] + acc[7];
  a0 = a0 + a2;
  a1 = a1 + a3;
  a0 = a0 + a1;
  __m128 h = _mm256_castps256_ps128(a0) + _mm256_extractf128_ps(a0, 1);
  h = h + _mm_movehl_ps(h, h);
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

/* The same tree with lane[i] = (lane[i + w] > lane[i]) ? lane[i + w] :
 * lane[i], which is maxps(lane[i + w], lane[i]). */
RG_INLINE float rg_lanes_max(const __m256 *acc) {
  __m256 a0 = _mm256_max_ps(acc[4], acc[0]), a1 = _mm256_max_ps(acc[5], acc[1]);
  __m256 a2 = _mm256_max_ps(acc[6], acc[2]), a3 = _mm256_max_ps(acc[7], acc[3]);
  a0 = _mm256_max_ps(a2, a0);
  a1 = _mm256_max_ps(a3, a1);
  a0 = _mm256_max_ps(a1, a0);
  __m128 h = _mm_max_ps(_mm256_extractf128_ps(a0, 1), _mm256_castps256_ps128(a0));
  h = _mm_max_ps(_mm_movehl_ps(h, h), h);
  h = _mm_max_ss(_mm_movehdup_ps(h), h);
  return _mm_cvtss_f32(h);
}

/* The RG_SQ_LANES = 32 double lanes of the sums of squares as 8 ymm of 4
 * doubles: sq[p] holds lanes 4p .. 4p + 3. Chunk q of the lane driver
 * (elements 8q .. 8q + 7 of a row of 64) lands in double lanes 8q % 32 on,
 * that is sq[2q % 8] for its low half and sq[2q % 8 + 1] for its high half.
 * Masked tail lanes load +0.0 and add +0.0, which leaves a lane unchanged
 * (a sum of squares starts at +0.0 and is never -0.0). */
#define RG_SQ_ACCS (RG_SQ_LANES / 4) /* 8 */

RG_INLINE void rg_sq_add(__m256d *sq, int q, __m128 lo, __m128 hi) {
  int p = (2 * q) % RG_SQ_ACCS;
  __m256d l = _mm256_cvtps_pd(lo), h = _mm256_cvtps_pd(hi);
  sq[p] = _mm256_fmadd_pd(l, l, sq[p]);
  sq[p + 1] = _mm256_fmadd_pd(h, h, sq[p + 1]);
}

/* Halving tree, lane[i] = lane[i] + lane[i + w] for w = 16, 8, 4 (whole
 * accumulators), 2 (128-bit halves), 1. */
RG_INLINE double rg_sq_lanes_sum(const __m256d *sq) {
  __m256d a0 = sq[0] + sq[4], a1 = sq[1] + sq[5], a2 = sq[2] + sq[6], a3 = sq[3] + sq[7];
  a0 = a0 + a2;
  a1 = a1 + a3;
  a0 = a0 + a1;
  __m128d h = _mm256_castpd256_pd128(a0) + _mm256_extractf128_pd(a0, 1);
  h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
  return _mm_cvtsd_f64(h);
}

struct rg_sq_ctx {
  const float *x;
  __m256d sq[RG_SQ_ACCS];
};

/* Full chunks load their halves straight into the conversions. */
RG_INLINE void rg_sq_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct rg_sq_ctx *c = v;
  if (tail) {
    __m256 x = _mm256_maskload_ps(c->x + i, m);
    rg_sq_add(c->sq, q, _mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  } else {
    rg_sq_add(c->sq, q, _mm_loadu_ps(c->x + i), _mm_loadu_ps(c->x + i + 4));
  }
}

static inline double rg_row_sumsq(int64_t n, const float *x) {
  struct rg_sq_ctx c = {.x = x};
  rg_lanes_run(n, rg_sq_step, &c);
  return rg_sq_lanes_sum(c.sq);
}

/* Row reductions shared by reduce.c and loss.c. */
struct rg_row_ctx {
  const float *x, *y;
  __m256 acc[RG_ACCS];
};

RG_INLINE void rg_sum_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct rg_row_ctx *c = v;
  c->acc[q] = c->acc[q] + rg_ld(c->x + i, m, tail);
}

RG_INLINE void rg_dot_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct rg_row_ctx *c = v;
  c->acc[q] = _mm256_fmadd_ps(rg_ld(c->x + i, m, tail), rg_ld(c->y + i, m, tail), c->acc[q]);
}

/* lane = (x > lane) ? x : lane, i.e. maxps(x, lane); masked lanes read -inf. */
RG_INLINE void rg_max_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct rg_row_ctx *c = v;
  __m256 x = tail ? rg_sel(_mm256_castsi256_ps(m), _mm256_maskload_ps(c->x + i, m),
                           rg_set(-INFINITY))
                  : _mm256_loadu_ps(c->x + i);
  c->acc[q] = _mm256_max_ps(x, c->acc[q]);
}

static inline float rg_row_sum(int64_t n, const float *x) {
  struct rg_row_ctx c = {.x = x};
  rg_lanes_run(n, rg_sum_step, &c);
  return rg_lanes_sum(c.acc);
}

static inline float rg_row_dot(int64_t n, const float *x, const float *y) {
  struct rg_row_ctx c = {.x = x, .y = y};
  rg_lanes_run(n, rg_dot_step, &c);
  return rg_lanes_sum(c.acc);
}

static inline float rg_row_max(int64_t n, const float *x) {
  struct rg_row_ctx c = {.x = x};
  RG_UNROLL for (int q = 0; q < RG_ACCS; q++) c.acc[q] = rg_set(-INFINITY);
  rg_lanes_run(n, rg_max_step, &c);
  return rg_lanes_max(c.acc);
}
#endif
