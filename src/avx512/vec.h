/* The vector vocabulary on AVX-512 (docs/internals.md): 16 float lanes in
 * a zmm register; lane masks are opmask registers (__mmask16), usable by
 * compares, selects and the masked loads and stores alike. */
#ifndef RG_AVX512_VEC_H
#define RG_AVX512_VEC_H

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 must be compiled with -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma"
#endif

#include <immintrin.h>
#include <stdint.h>

#define RG_VL 16 /* floats per vector */
#define RG_VDL 8 /* doubles per rg_vd */
/* Full blocks unrolled 4 times, to spread the loop overhead. */
#define RG_BLOCK_UNROLL _Pragma("GCC unroll 4")
#define RG_STRIP_VECS 4
#define RG_STRIP_SPLIT 0

typedef __m512 rg_vf;
typedef __mmask16 rg_vm;
typedef __m512i rg_vu;
typedef __m512d rg_vd;
typedef __mmask16 rg_vt; /* a block's live lanes: their mask */

RG_INLINE __m512i rg_iota(void) {
  return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

/* Lanes [0, r): all of them for r >= 16, none for r <= 0. The tail is its
 * mask, computed once per block or strip. */
RG_INLINE rg_vt rg_vtail(int64_t r) {
  if (r >= RG_VL) return (rg_vt)0xFFFF;
  if (r <= 0) return 0;
  return (rg_vt)((1u << r) - 1u);
}
RG_INLINE int rg_vis_full(rg_vt t) { return t == 0xFFFF; }
RG_INLINE int rg_vany(rg_vt t) { return t != 0; }
RG_INLINE rg_vm rg_vlive(rg_vt t) { return t; }

/* Masked loads read +0.0 in the lanes outside m, masked stores leave them
 * alone; neither touches their memory. With the constant full mask of a
 * full block they compile to plain loads and stores. */
RG_INLINE rg_vf rg_vload_m(const float *p, rg_vm m) { return _mm512_maskz_loadu_ps(m, p); }
RG_INLINE void rg_vstore_m(float *p, rg_vf v, rg_vm m) { _mm512_mask_storeu_ps(p, m, v); }
RG_INLINE rg_vf rg_vload(const float *p, rg_vt t) { return rg_vload_m(p, t); }
RG_INLINE void rg_vstore(float *p, rg_vf v, rg_vt t) { rg_vstore_m(p, v, t); }

RG_INLINE rg_vf rg_vset(float x) { return _mm512_set1_ps(x); }
RG_INLINE rg_vf rg_vfma(rg_vf a, rg_vf b, rg_vf c) { return _mm512_fmadd_ps(a, b, c); }
RG_INLINE rg_vf rg_vfnma(rg_vf a, rg_vf b, rg_vf c) { return _mm512_fnmadd_ps(a, b, c); }
RG_INLINE rg_vf rg_vsqrt(rg_vf a) { return _mm512_sqrt_ps(a); }
RG_INLINE rg_vf rg_vabs(rg_vf x) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}
/* Bit select: the sign bit from sgn, the rest from mag. */
RG_INLINE rg_vf rg_vcopysign(rg_vf mag, rg_vf sgn) {
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_set1_epi32((int)0x80000000u),
                                                       _mm512_castps_si512(sgn),
                                                       _mm512_castps_si512(mag), 0xCA));
}
/* copysign(mag, sgn) for a mag whose sign bit is clear (or a NaN). */
RG_INLINE rg_vf rg_vsetsign(rg_vf mag, rg_vf sgn) { return rg_vcopysign(mag, sgn); }

/* Ordered, quiet: false when either side is NaN, like C's comparisons. */
RG_INLINE rg_vm rg_vlt(rg_vf a, rg_vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
RG_INLINE rg_vm rg_vgt(rg_vf a, rg_vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
RG_INLINE rg_vm rg_vle(rg_vf a, rg_vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
RG_INLINE rg_vm rg_vge(rg_vf a, rg_vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
RG_INLINE rg_vm rg_veq(rg_vf a, rg_vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
RG_INLINE rg_vm rg_vand(rg_vm a, rg_vm b) { return a & b; }
RG_INLINE int rg_vcount(rg_vm m) { return __builtin_popcount(m); }
/* Only lane d, none when d is outside 0 .. 15. */
RG_INLINE rg_vm rg_vlane_is(int64_t d) { return d >= 0 && d < RG_VL ? (rg_vm)(1u << d) : 0; }

/* m ? a : b. maxps and minps are exactly C's (a > b) ? a : b and
 * (a < b) ? a : b, NaNs included. */
RG_INLINE rg_vf rg_vsel(rg_vm m, rg_vf a, rg_vf b) { return _mm512_mask_blend_ps(m, b, a); }
RG_INLINE rg_vf rg_vmax(rg_vf a, rg_vf b) { return _mm512_max_ps(a, b); }
RG_INLINE rg_vf rg_vmin(rg_vf a, rg_vf b) { return _mm512_min_ps(a, b); }

/* The halving trees inside one register (lane[i] with lane[i + w] for
 * w = 8, 4, 2, 1), lane 0 returned: sums, and max as (upper > lower) ?
 * upper : lower. */
RG_INLINE float rg_vhsum(rg_vf v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
  return _mm_cvtss_f32(q);
}
RG_INLINE float rg_vhmax(rg_vf v) {
  __m256 h = _mm256_max_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
  __m128 q = _mm_max_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
  q = _mm_max_ps(_mm_movehl_ps(q, q), q);
  q = _mm_max_ss(_mm_shuffle_ps(q, q, 1), q);
  return _mm_cvtss_f32(q);
}

/* Doubles, for the sums of squares: block q of the lane walker (elements
 * 16q .. 16q + 15 of a row of 64) lands in double lanes 16q % 32 on, that
 * is sq[2q % 4] for its low half and the next one for its high half. Full
 * blocks load their halves straight into the conversions. */
RG_INLINE rg_vd rg_vdzero(void) { return _mm512_setzero_pd(); }
RG_INLINE rg_vd rg_vdadd(rg_vd a, rg_vd b) { return _mm512_add_pd(a, b); }
RG_INLINE double rg_vdhsum(rg_vd v) {
  __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
  __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
  q = _mm_add_sd(q, _mm_unpackhi_pd(q, q));
  return _mm_cvtsd_f64(q);
}
RG_INLINE void rg_vsq_add(rg_vd *sq, int q, const float *p, rg_vt t) {
  __m512d lo, hi;
  if (rg_vis_full(t)) {
    lo = _mm512_cvtps_pd(_mm256_loadu_ps(p));
    hi = _mm512_cvtps_pd(_mm256_loadu_ps(p + 8));
  } else {
    __m512 x = rg_vload(p, t);
    lo = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
    hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1));
  }
  int a = (2 * q) % (RG_SQ_LANES / RG_VDL);
  sq[a] = _mm512_fmadd_pd(lo, lo, sq[a]);
  sq[a + 1] = _mm512_fmadd_pd(hi, hi, sq[a + 1]);
}

/* Unsigned 32-bit lanes: the bits of |x| (whose unsigned order is the order
 * of |x|, NaN above inf) and their maximum. */
RG_INLINE rg_vu rg_vuzero(void) { return _mm512_setzero_si512(); }
RG_INLINE rg_vu rg_vabsbits(rg_vf x) { return _mm512_castps_si512(rg_vabs(x)); }
RG_INLINE rg_vu rg_vumax(rg_vu a, rg_vu b) { return _mm512_max_epu32(a, b); }
RG_INLINE uint32_t rg_vuhmax(rg_vu v) { return _mm512_reduce_max_epu32(v); }
/* Lane 0, as a float. */
RG_INLINE float rg_vlane0(rg_vf v) { return _mm512_cvtss_f32(v); }
/* The floats whose bits these are. */
RG_INLINE rg_vf rg_vfloat_bits(rg_vu u) { return _mm512_castsi512_ps(u); }

#include "algo/vops.h"
#endif
