/* Shared AVX-512 building blocks: tail masks, masked loads and stores, the
 * block loop of the elementwise bodies, ordered compares and the sign-bit
 * operations. Tails are handled with masks, so no load or store touches
 * memory past the end of an array and no pointer past it is formed. */
#ifndef RG_AVX512_SIMD_H
#define RG_AVX512_SIMD_H

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 must be compiled with -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma"
#endif

#include <immintrin.h>
#include <stdint.h>

#define RG_V 16 /* floats per zmm register */

/* Lanes [0, r) of a 16-lane vector: all of them once r >= 16, none if r <= 0. */
static inline __mmask16 rg_mask(int64_t r) {
  if (r >= RG_V) return (__mmask16)0xFFFF;
  if (r <= 0) return 0;
  return (__mmask16)((1u << r) - 1u);
}

/* Masked-off lanes read as +0.0 and touch no memory. */
static inline __m512 rg_load(const float *p, __mmask16 k) { return _mm512_maskz_loadu_ps(k, p); }
static inline void rg_store(float *p, __mmask16 k, __m512 v) { _mm512_mask_storeu_ps(p, k, v); }

/* Runs the statement given as the last argument (variadic, so it may contain
 * commas) for each block of 16 elements: i is the block's first element and k
 * the mask of its lanes below n. Full blocks get the constant mask 0xFFFF, so
 * their masked loads and stores compile to plain ones (unrolled 4 times to
 * spread the loop overhead); the tail, if any, runs the statement once more
 * with a partial mask. */
#define RG_EACH_BLOCK(n, i, k, ...)          \
  do {                                       \
    const int64_t rg_n_ = (n);               \
    int64_t i = 0;                           \
    _Pragma("GCC unroll 4")                  \
    for (; i + RG_V <= rg_n_; i += RG_V) {   \
      const __mmask16 k = (__mmask16)0xFFFF; \
      __VA_ARGS__                            \
    }                                        \
    if (i < rg_n_) {                         \
      const __mmask16 k = rg_mask(rg_n_ - i); \
      __VA_ARGS__                            \
    }                                        \
  } while (0)

static inline __m512 rg_splat(float v) { return _mm512_set1_ps(v); }
static inline __m512 rg_zero(void) { return _mm512_setzero_ps(); }

/* k ? a : b, lane by lane. */
static inline __m512 rg_select(__mmask16 k, __m512 a, __m512 b) {
  return _mm512_mask_blend_ps(k, b, a);
}

/* Ordered, quiet comparisons: false when either side is NaN, like C's < > <= >= ==. */
static inline __mmask16 rg_lt(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline __mmask16 rg_gt(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static inline __mmask16 rg_le(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static inline __mmask16 rg_ge(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static inline __mmask16 rg_eq(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }

/* Sign-bit operations, exactly as C's -x, fabsf and copysignf (NaNs included). */
#define RG_SIGN_BIT 0x80000000u
static inline __m512 rg_neg(__m512 x) {
  return _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)RG_SIGN_BIT)));
}
static inline __m512 rg_abs(__m512 x) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}
/* |mag| with the sign of sgn: bit select, sign bit from sgn, the rest from mag. */
static inline __m512 rg_copysign(__m512 mag, __m512 sgn) {
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_set1_epi32((int)RG_SIGN_BIT),
                                                       _mm512_castps_si512(sgn),
                                                       _mm512_castps_si512(mag), 0xCA));
}

/* (x > 0) ? a : ((x < 0) ? -a : 0): the sign-of-x terms of sign_acc and amax_bwd. */
static inline __m512 rg_signed(__m512 x, __m512 a) {
  __m512 zero = rg_zero();
  __m512 r = _mm512_mask_mov_ps(zero, rg_lt(x, zero), rg_neg(a));
  return _mm512_mask_mov_ps(r, rg_gt(x, zero), a);
}
#endif
