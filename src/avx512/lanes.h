/* The 64 virtual lanes of every long reduction (RG_LANES, scalar/lanes.h) as
 * four zmm accumulators: v[0] holds lanes 0-15, v[1] 16-31, v[2] 32-47, v[3]
 * 48-63, so element j of a row goes to v[(j / 16) % 4], lane j % 16. Lanes
 * combine by the same halving tree as the scalar model. */
#ifndef RG_AVX512_LANES_H
#define RG_AVX512_LANES_H
#include <math.h>

#include "kernels.h"
#include "simd.h"
#include "vmath.h"

_Static_assert(RG_LANES == 4 * RG_V, "four zmm accumulators hold the 64 lanes");

struct rg_lanes {
  __m512 v[4];
};

static inline struct rg_lanes rg_lanes_splat(float f) {
  struct rg_lanes a = {{rg_splat(f), rg_splat(f), rg_splat(f), rg_splat(f)}};
  return a;
}

/* Walks a row of n floats in lane order: STEP(q, j, k) runs for the block of
 * 16 elements starting at j, which belongs to accumulator q, with k masking
 * the elements below n. q is a literal in each expansion, so the four
 * accumulators stay in registers; blocks at or past n are skipped. */
#define RG_LANE_WALK(n, STEP)                                                   \
  do {                                                                          \
    int64_t i_ = 0;                                                             \
    for (; i_ + RG_LANES <= (n); i_ += RG_LANES) {                              \
      STEP(0, i_, 0xFFFF);                                                      \
      STEP(1, i_ + RG_V, 0xFFFF);                                               \
      STEP(2, i_ + 2 * RG_V, 0xFFFF);                                           \
      STEP(3, i_ + 3 * RG_V, 0xFFFF);                                           \
    }                                                                           \
    for (int64_t j_ = i_; j_ < (n); j_ += RG_V) {                               \
      __mmask16 k_ = rg_mask((n) - j_);                                         \
      switch ((j_ - i_) / RG_V) {                                               \
        case 0: STEP(0, j_, k_); break;                                         \
        case 1: STEP(1, j_, k_); break;                                         \
        case 2: STEP(2, j_, k_); break;                                         \
        default: STEP(3, j_, k_); break;                                        \
      }                                                                         \
    }                                                                           \
  } while (0)

/* lane[i] = lane[i] + lane[i + w] for w = 32, 16, 8, 4, 2, 1. */
static inline float rg_lanes_sum(struct rg_lanes a) {
  __m512 v = _mm512_add_ps(_mm512_add_ps(a.v[0], a.v[2]), _mm512_add_ps(a.v[1], a.v[3]));
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
  return _mm_cvtss_f32(q);
}

/* lane[i] = (lane[i + w] > lane[i]) ? lane[i + w] : lane[i], i.e. maxps with
 * the upper half first: the operand order decides which NaN survives. */
static inline float rg_lanes_max(struct rg_lanes a) {
  __m512 v = _mm512_max_ps(_mm512_max_ps(a.v[3], a.v[1]), _mm512_max_ps(a.v[2], a.v[0]));
  __m256 h = _mm256_max_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
  __m128 q = _mm_max_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
  q = _mm_max_ps(_mm_movehl_ps(q, q), q);
  q = _mm_max_ss(_mm_shuffle_ps(q, q, 1), q);
  return _mm_cvtss_f32(q);
}

/* The RG_SQ_LANES = 32 double lanes of the sums of squares as four zmm of 8
 * doubles: v[p] holds lanes 8p .. 8p + 7. Block q of RG_LANE_WALK (elements
 * 16q .. 16q + 15 of a row of 64) lands in double lanes 16q % 32 on, that is
 * v[2q % 4] for its low half and v[2q % 4 + 1] for its high half. Masked-off
 * elements load +0.0 and add +0.0, which leaves a lane unchanged (a sum of
 * squares starts at +0.0 and is never -0.0). */
struct rg_sq_lanes {
  __m512d v[4];
};

static inline void rg_sq_add(struct rg_sq_lanes *s, int q, const float *p, __mmask16 k) {
  __m512d lo, hi;
  if (k == 0xFFFF) { /* a full block: the halves load straight into the conversions */
    lo = _mm512_cvtps_pd(_mm256_loadu_ps(p));
    hi = _mm512_cvtps_pd(_mm256_loadu_ps(p + 8));
  } else {
    __m512 x = rg_load(p, k);
    lo = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
    hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1));
  }
  int a = (2 * q) % 4;
  s->v[a] = _mm512_fmadd_pd(lo, lo, s->v[a]);
  s->v[a + 1] = _mm512_fmadd_pd(hi, hi, s->v[a + 1]);
}

/* lane[i] = lane[i] + lane[i + w] for w = 16, 8 (whole registers), 4, 2, 1. */
static inline double rg_sq_lanes_sum(struct rg_sq_lanes s) {
  __m512d v = _mm512_add_pd(_mm512_add_pd(s.v[0], s.v[2]), _mm512_add_pd(s.v[1], s.v[3]));
  __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
  __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
  q = _mm_add_sd(q, _mm_unpackhi_pd(q, q));
  return _mm_cvtsd_f64(q);
}

static inline double rg_row_sumsq(int64_t n, const float *x) {
  struct rg_sq_lanes s = {{_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                           _mm512_setzero_pd()}};
#define RG_STEP(q, j, k) rg_sq_add(&s, q, x + (j), k)
  RG_LANE_WALK(n, RG_STEP);
#undef RG_STEP
  return rg_sq_lanes_sum(s);
}

/* Sum of a row. Masked-off lanes keep their accumulator untouched. */
static inline float rg_row_sum(int64_t n, const float *x) {
  struct rg_lanes a = rg_lanes_splat(0.0f);
#define RG_STEP(q, j, k) a.v[q] = _mm512_mask_add_ps(a.v[q], k, a.v[q], rg_load(x + (j), k))
  RG_LANE_WALK(n, RG_STEP);
#undef RG_STEP
  return rg_lanes_sum(a);
}

/* Lanes of fmaf(x[j], y[j], lane), the scalar rg_row_dot. */
static inline float rg_row_dot(int64_t n, const float *x, const float *y) {
  struct rg_lanes a = rg_lanes_splat(0.0f);
#define RG_STEP(q, j, k) \
  a.v[q] = _mm512_mask3_fmadd_ps(rg_load(x + (j), k), rg_load(y + (j), k), a.v[q], k)
  RG_LANE_WALK(n, RG_STEP);
#undef RG_STEP
  return rg_lanes_sum(a);
}

/* Lanes of lane + fabsf(x[j]). */
static inline float rg_row_asum(int64_t n, const float *x) {
  struct rg_lanes a = rg_lanes_splat(0.0f);
#define RG_STEP(q, j, k) \
  a.v[q] = _mm512_mask_add_ps(a.v[q], k, a.v[q], rg_abs(rg_load(x + (j), k)))
  RG_LANE_WALK(n, RG_STEP);
#undef RG_STEP
  return rg_lanes_sum(a);
}

/* Lanes start at -inf and take (x > lane) ? x : lane = maxps(x, lane). */
static inline float rg_row_max(int64_t n, const float *x) {
  struct rg_lanes a = rg_lanes_splat(-INFINITY);
#define RG_STEP(q, j, k) a.v[q] = _mm512_mask_max_ps(a.v[q], k, rg_load(x + (j), k), a.v[q])
  RG_LANE_WALK(n, RG_STEP);
#undef RG_STEP
  return rg_lanes_max(a);
}

/* Lane sum of e[j] = expf(x[j] - mx), also stored to y[j] when y is not NULL:
 * the softmax numerators and their sum in one pass. */
static inline float rg_row_expsum(int64_t n, const float *x, float mx, float *y) {
  struct rg_lanes a = rg_lanes_splat(0.0f);
  __m512 vm = rg_splat(mx);
#define RG_STEP(q, j, k)                                              \
  do {                                                                \
    __m512 e_ = rg_v_exp(_mm512_sub_ps(rg_load(x + (j), k), vm));     \
    if (y) rg_store(y + (j), k, e_);                                  \
    a.v[q] = _mm512_mask_add_ps(a.v[q], k, a.v[q], e_);               \
  } while (0)
  RG_LANE_WALK(n, RG_STEP);
#undef RG_STEP
  return rg_lanes_sum(a);
}
#endif
