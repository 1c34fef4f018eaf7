/* AVX-512 bodies of the random slots (src/scalar/dropout.c): Philox words come
 * 16 elements at a time from the vector stream of vphilox.h. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "vmath.h"
#include "vphilox.h"

/* Lanes whose top 24 bits are >= threshold: the kept elements. */
static inline __mmask16 keep_mask(struct rg_philox_stream *st, __m512i threshold) {
  __m512i u = _mm512_srli_epi32(rg_stream_next(st), 8);
  return _mm512_cmp_epu32_mask(u, threshold, _MM_CMPINT_NLT);
}

void rg_dropout_fwd__avx512(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                            float scale, const float *x, float *y) {
  struct rg_philox_stream st;
  rg_stream_init(&st, key);
  __m512i thr = _mm512_set1_epi32((int)threshold);
  __m512 vs = rg_splat(scale);
  RG_EACH_BLOCK(n, i, k, {
    __mmask16 keep = keep_mask(&st, thr);
    rg_store(y + i, k, _mm512_maskz_mul_ps(keep, rg_load(x + i, k), vs));
  });
}

void rg_dropout_bwd__avx512(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                            float scale, const float *dy, float *dx) {
  struct rg_philox_stream st;
  rg_stream_init(&st, key);
  __m512i thr = _mm512_set1_epi32((int)threshold);
  __m512 vs = rg_splat(scale);
  RG_EACH_BLOCK(n, i, k, {
    __m512 g = _mm512_maskz_mul_ps(keep_mask(&st, thr), rg_load(dy + i, k), vs);
    rg_store(dx + i, k, _mm512_add_ps(rg_load(dx + i, k), g));
  });
}

void rg_rand_uniform__avx512(int64_t n, const struct rg_rng_key *key, float lo, float hi,
                             float *y) {
  struct rg_philox_stream st;
  rg_stream_init(&st, key);
  __m512 span = rg_splat(hi - lo), vlo = rg_splat(lo);
  RG_EACH_BLOCK(n, i, k, {
    rg_store(y + i, k, _mm512_fmadd_ps(span, rg_u24(rg_stream_next(&st)), vlo));
  });
}

/* Box-Muller per element: the pair of words (2p, 2p + 1) holding the element
 * gives u1 from the even word, u2 from the odd one; even elements take the
 * cosine, odd ones the sine. The partner word sits at position pos ^ 1. */
void rg_rand_normal__avx512(int64_t n, const struct rg_rng_key *key, float mean, float std,
                            float *y) {
  struct rg_philox_stream st;
  rg_stream_init(&st, key);
  __m512i one = _mm512_set1_epi32(1);
  __m512i partner = _mm512_xor_si512(st.pos, one);
  __mmask16 odd = _mm512_test_epi32_mask(st.pos, one); /* offset + i is odd */
  __m512 vmean = rg_splat(mean), vstd = rg_splat(std), minus2 = rg_splat(-2.0f);
  RG_EACH_BLOCK(n, i, k, {
    __m512i own = rg_stream_pick(&st, st.pos), other = rg_stream_pick(&st, partner);
    rg_stream_step(&st);
    __m512i w1 = _mm512_mask_blend_epi32(odd, own, other);
    __m512i w2 = _mm512_mask_blend_epi32(odd, other, own);
    __m512i b1 = _mm512_add_epi32(_mm512_srli_epi32(w1, 8), one);
    __m512 u1 = _mm512_mul_ps(_mm512_cvtepi32_ps(b1), rg_splat(RG_U24_SCALE));
    __m512 u2 = rg_u24(w2);
    __m512 r = _mm512_sqrt_ps(_mm512_mul_ps(minus2, rg_v_log(u1)));
    Sleef___m512_2 sc = Sleef_sincospif16_u05avx512f(_mm512_add_ps(u2, u2));
    __m512 z = _mm512_mul_ps(r, rg_select(odd, sc.x, sc.y));
    rg_store(y + i, k, _mm512_fmadd_ps(vstd, z, vmean));
  });
}
