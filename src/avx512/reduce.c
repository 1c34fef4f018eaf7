/* AVX-512 bodies of the reductions over the 64 virtual lanes (lanes.h). amax
 * compares the bit patterns of |x| as unsigned integers, which is exact and
 * order-free, so it may use any tree. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "lanes.h"

float rg_sum__avx512(int64_t n, const float *x) { return rg_row_sum(n, x); }

double rg_sumsq__avx512(int64_t n, const float *x) { return rg_row_sumsq(n, x); }

float rg_dot__avx512(int64_t n, const float *x, const float *y) { return rg_row_dot(n, x, y); }

float rg_asum__avx512(int64_t n, const float *x) { return rg_row_asum(n, x); }

/* Bits of |x| as unsigned integers; masked-off lanes read as 0 = |+0.0|. */
static inline __m512i abs_bits(const float *p, __mmask16 k) {
  return _mm512_and_si512(_mm512_castps_si512(rg_load(p, k)), _mm512_set1_epi32(0x7fffffff));
}

static inline float bits_to_float(uint32_t u) {
  float r;
  memcpy(&r, &u, sizeof r);
  return r;
}

float rg_amax__avx512(int64_t n, const float *x) {
  __m512i best = _mm512_setzero_si512();
  RG_EACH_BLOCK(n, i, k, { best = _mm512_max_epu32(best, abs_bits(x + i, k)); });
  return bits_to_float(_mm512_reduce_max_epu32(best));
}

void rg_amax_bwd__avx512(int64_t n, float m, float g, const float *x, float *dx) {
  __m512 vm = rg_splat(m);
  int64_t count = 0;
  RG_EACH_BLOCK(n, i, k, {
    count += __builtin_popcount(k & rg_eq(rg_abs(rg_load(x + i, k)), vm));
  });
  if (count == 0) return;
  __m512 share = rg_splat(g / (float)count);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    __m512 c = _mm512_maskz_mov_ps(rg_eq(rg_abs(v), vm), rg_signed(v, share));
    rg_store(dx + i, k, _mm512_add_ps(rg_load(dx + i, k), c));
  });
}

/* One pass over each row: its double lanes of x * x (lanes.h) and float
 * lanes of |x|, plus the running unsigned max of the |x| bits for amax. */
void rg_grad_stats__avx512(int64_t m, int64_t n, const float *x, double *row_sumsq,
                           struct rg_grad_stats *stats) {
  double sq = 0.0;
  float ab = 0.0f;
  __m512i best = _mm512_setzero_si512();
  for (int64_t r = 0; r < m; r++) {
    const float *row = x + r * n;
    struct rg_sq_lanes s = {{_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                             _mm512_setzero_pd()}};
    struct rg_lanes a = rg_lanes_splat(0.0f);
#define RG_STEP(q, j, k)                                                       \
  do {                                                                         \
    __m512 v_ = rg_load(row + (j), k);                                         \
    rg_sq_add(&s, q, row + (j), k);                                            \
    a.v[q] = _mm512_mask_add_ps(a.v[q], k, a.v[q], rg_abs(v_));                \
    best = _mm512_max_epu32(best, _mm512_castps_si512(rg_abs(v_)));            \
  } while (0)
    RG_LANE_WALK(n, RG_STEP);
#undef RG_STEP
    double rs = rg_sq_lanes_sum(s);
    float ra = rg_lanes_sum(a);
    if (row_sumsq) row_sumsq[r] = rs;
    sq = sq + rs;
    ab = ab + ra;
  }
  stats->sumsq = sq;
  stats->asum = ab;
  stats->amax = bits_to_float(_mm512_reduce_max_epu32(best));
}
