/* AVX2 bodies of the reductions: the 64-lane model of lanes.h for sums, and
 * amax on the bit patterns of |x| as unsigned integers (order-free, so any
 * grouping gives the scalar result). */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "lanes.h"
#include "simd.h"

float rg_sum__avx2(int64_t n, const float *x) { return rg_row_sum(n, x); }

double rg_sumsq__avx2(int64_t n, const float *x) { return rg_row_sumsq(n, x); }

float rg_dot__avx2(int64_t n, const float *x, const float *y) { return rg_row_dot(n, x, y); }

RG_INLINE void asum_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct rg_row_ctx *c = v;
  c->acc[q] = c->acc[q] + rg_abs(rg_ld(c->x + i, m, tail));
}

float rg_asum__avx2(int64_t n, const float *x) {
  struct rg_row_ctx c = {.x = x};
  rg_lanes_run(n, asum_step, &c);
  return rg_lanes_sum(c.acc);
}

/* |x| bits as unsigned integers; masked tail lanes load +0.0, bits 0, the
 * identity of the unsigned max. */
RG_INLINE __m256i abs_bits(__m256 x) { return _mm256_castps_si256(rg_abs(x)); }

RG_INLINE float hmax_bits(__m256i v) {
  __m128i h = _mm_max_epu32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtss_f32(_mm_castsi128_ps(h));
}

/* Any grouping gives the same maximum; the lane driver just supplies 8
 * independent chains. */
struct amax_ctx {
  const float *x;
  __m256i best[RG_ACCS];
};

RG_INLINE void amax_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct amax_ctx *c = v;
  c->best[q] = _mm256_max_epu32(c->best[q], abs_bits(rg_ld(c->x + i, m, tail)));
}

float rg_amax__avx2(int64_t n, const float *x) {
  struct amax_ctx c = {.x = x};
  rg_lanes_run(n, amax_step, &c);
  __m256i best = c.best[0];
  RG_UNROLL for (int q = 1; q < RG_ACCS; q++) best = _mm256_max_epu32(best, c.best[q]);
  return hmax_bits(best);
}

/* Elements with |x| == m; tail lanes are masked out (they read 0.0, which
 * would match m == 0). */
struct count_ctx {
  const float *x;
  __m256 m;
  int64_t count;
};

RG_INLINE void count_chunk(void *v, int64_t i, __m256i m, int tail) {
  struct count_ctx *c = v;
  __m256 hit = rg_eq(rg_abs(rg_ld(c->x + i, m, tail)), c->m);
  if (tail) hit = _mm256_and_ps(hit, _mm256_castsi256_ps(m));
  c->count += __builtin_popcount((unsigned)_mm256_movemask_ps(hit));
}

/* dx + ((|x| == m) ? sign(x) share : 0) */
RG_INLINE __m256 amax_bwd_op(const struct rg_vin *in) {
  return in->b + rg_keep(rg_eq(rg_abs(in->a), in->s), rg_signsel(in->a, in->t));
}

void rg_amax_bwd__avx2(int64_t n, float m, float g, const float *x, float *dx) {
  struct count_ctx c = {x, rg_set(m), 0};
  rg_chunks(n, count_chunk, &c);
  if (c.count == 0) return;
  float share = g / (float)c.count;
  rg_map2(n, amax_bwd_op, m, share, x, dx, dx);
}

/* One pass per row: sum of squares on the 32 double lanes and sum of |x| on
 * the 64 float lanes, max |x| bits in one register across all rows. */
struct stats_ctx {
  const float *x;
  __m256d sq[RG_SQ_ACCS];
  __m256 ab[RG_ACCS];
  __m256i best;
};

RG_INLINE void stats_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct stats_ctx *c = v;
  __m256 x = rg_ld(c->x + i, m, tail);
  rg_sq_add(c->sq, q, _mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  c->ab[q] = c->ab[q] + rg_abs(x);
  c->best = _mm256_max_epu32(c->best, abs_bits(x));
}

void rg_grad_stats__avx2(int64_t m, int64_t n, const float *x, double *row_sumsq,
                         struct rg_grad_stats *stats) {
  double sq = 0.0;
  float ab = 0.0f;
  __m256i best = _mm256_setzero_si256();
  for (int64_t r = 0; r < m; r++) {
    struct stats_ctx c = {.x = x + r * n, .best = best};
    rg_lanes_run(n, stats_step, &c);
    double rs = rg_sq_lanes_sum(c.sq);
    if (row_sumsq) row_sumsq[r] = rs;
    sq = sq + rs;
    ab = ab + rg_lanes_sum(c.ab);
    best = c.best;
  }
  stats->sumsq = sq;
  stats->asum = ab;
  stats->amax = hmax_bits(best);
}
