/* The vector vocabulary on AVX2 (docs/internals.md): 8 float lanes in a
 * ymm register; lane masks are all-ones or all-zeros lanes of a __m256i,
 * usable by compares, selects and the masked loads and stores alike. */
#ifndef RG_AVX2_VEC_H
#define RG_AVX2_VEC_H

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include <immintrin.h>
#include <stdint.h>

#define RG_VL 8  /* floats per vector */
#define RG_VDL 4 /* doubles per rg_vd */
#define RG_BLOCK_UNROLL
#define RG_STRIP_VECS 4
#define RG_STRIP_SPLIT 1

typedef __m256 rg_vf;
typedef __m256i rg_vm;
typedef __m256i rg_vu;
typedef __m256d rg_vd;
typedef int rg_vt; /* a block's live lanes: their count, 0 .. 8 */

RG_INLINE __m256i rg_iota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }

/* Lanes [0, r): all of them for r >= 8, none for r <= 0. */
RG_INLINE rg_vt rg_vtail(int64_t r) { return r < 0 ? 0 : (r > RG_VL ? RG_VL : (int)r); }
RG_INLINE int rg_vis_full(rg_vt t) { return t >= RG_VL; }
RG_INLINE int rg_vany(rg_vt t) { return t > 0; }
RG_INLINE rg_vm rg_vlive(rg_vt t) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(t), rg_iota()); }

/* Masked loads read +0.0 in the lanes outside m, masked stores leave them
 * alone; neither touches their memory. */
RG_INLINE rg_vf rg_vload_m(const float *p, rg_vm m) { return _mm256_maskload_ps(p, m); }
RG_INLINE void rg_vstore_m(float *p, rg_vf v, rg_vm m) { _mm256_maskstore_ps(p, m, v); }
RG_INLINE rg_vf rg_vload(const float *p, rg_vt t) {
  return t >= RG_VL ? _mm256_loadu_ps(p) : rg_vload_m(p, rg_vlive(t));
}
RG_INLINE void rg_vstore(float *p, rg_vf v, rg_vt t) {
  if (t >= RG_VL)
    _mm256_storeu_ps(p, v);
  else
    rg_vstore_m(p, v, rg_vlive(t));
}

RG_INLINE rg_vf rg_vset(float x) { return _mm256_set1_ps(x); }
RG_INLINE rg_vf rg_vfma(rg_vf a, rg_vf b, rg_vf c) { return _mm256_fmadd_ps(a, b, c); }
RG_INLINE rg_vf rg_vfnma(rg_vf a, rg_vf b, rg_vf c) { return _mm256_fnmadd_ps(a, b, c); }
RG_INLINE rg_vf rg_vsqrt(rg_vf a) { return _mm256_sqrt_ps(a); }
RG_INLINE rg_vf rg_vabs(rg_vf x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
RG_INLINE rg_vf rg_vcopysign(rg_vf mag, rg_vf sgn) {
  __m256 sign = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, sgn));
}
/* copysign(mag, sgn) for a mag whose sign bit is clear (or a NaN): the
 * sign bit of sgn or-ed in, one operation less. */
RG_INLINE rg_vf rg_vsetsign(rg_vf mag, rg_vf sgn) {
  return _mm256_or_ps(mag, _mm256_and_ps(_mm256_set1_ps(-0.0f), sgn));
}

/* Ordered, quiet: false when either side is NaN, like C's comparisons. */
#define RG_CMP(a, b, pred) _mm256_castps_si256(_mm256_cmp_ps(a, b, pred))
RG_INLINE rg_vm rg_vlt(rg_vf a, rg_vf b) { return RG_CMP(a, b, _CMP_LT_OQ); }
RG_INLINE rg_vm rg_vgt(rg_vf a, rg_vf b) { return RG_CMP(a, b, _CMP_GT_OQ); }
RG_INLINE rg_vm rg_vle(rg_vf a, rg_vf b) { return RG_CMP(a, b, _CMP_LE_OQ); }
RG_INLINE rg_vm rg_vge(rg_vf a, rg_vf b) { return RG_CMP(a, b, _CMP_GE_OQ); }
RG_INLINE rg_vm rg_veq(rg_vf a, rg_vf b) { return RG_CMP(a, b, _CMP_EQ_OQ); }
#undef RG_CMP
RG_INLINE rg_vm rg_vand(rg_vm a, rg_vm b) { return _mm256_and_si256(a, b); }
RG_INLINE int rg_vcount(rg_vm m) {
  return __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(m)));
}
/* Only lane d, none when d is outside 0 .. 7. */
RG_INLINE rg_vm rg_vlane_is(int64_t d) {
  return _mm256_cmpeq_epi32(rg_iota(), _mm256_set1_epi32(d >= 0 && d < RG_VL ? (int)d : -1));
}

/* m ? a : b. maxps and minps are exactly C's (a > b) ? a : b and
 * (a < b) ? a : b, NaNs included. */
RG_INLINE rg_vf rg_vsel(rg_vm m, rg_vf a, rg_vf b) {
  return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m));
}
RG_INLINE rg_vf rg_vmax(rg_vf a, rg_vf b) { return _mm256_max_ps(a, b); }
RG_INLINE rg_vf rg_vmin(rg_vf a, rg_vf b) { return _mm256_min_ps(a, b); }

/* The halving trees inside one register (lane[i] with lane[i + w] for
 * w = 4, 2, 1), lane 0 returned: sums, and max as (upper > lower) ?
 * upper : lower. */
RG_INLINE float rg_vhsum(rg_vf v) {
  __m128 h = _mm256_castps256_ps128(v) + _mm256_extractf128_ps(v, 1);
  h = h + _mm_movehl_ps(h, h);
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
RG_INLINE float rg_vhmax(rg_vf v) {
  __m128 h = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  h = _mm_max_ps(_mm_movehl_ps(h, h), h);
  h = _mm_max_ss(_mm_movehdup_ps(h), h);
  return _mm_cvtss_f32(h);
}

/* Doubles, for the sums of squares: block q of the lane walker (elements
 * 8q .. 8q + 7 of a row of 64) lands in double lanes 8q % 32 on, that is
 * sq[2q % 8] for its low half and the next one for its high half. Full
 * blocks load their halves straight into the conversions. */
RG_INLINE rg_vd rg_vdzero(void) { return _mm256_setzero_pd(); }
RG_INLINE rg_vd rg_vdadd(rg_vd a, rg_vd b) { return a + b; }
RG_INLINE double rg_vdhsum(rg_vd v) {
  __m128d h = _mm256_castpd256_pd128(v) + _mm256_extractf128_pd(v, 1);
  h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
  return _mm_cvtsd_f64(h);
}
RG_INLINE void rg_vsq_add(rg_vd *sq, int q, const float *p, rg_vt t) {
  __m128 lo, hi;
  if (t >= RG_VL) {
    lo = _mm_loadu_ps(p), hi = _mm_loadu_ps(p + 4);
  } else {
    __m256 x = rg_vload(p, t);
    lo = _mm256_castps256_ps128(x), hi = _mm256_extractf128_ps(x, 1);
  }
  int a = (2 * q) % (RG_SQ_LANES / RG_VDL);
  __m256d l = _mm256_cvtps_pd(lo), h = _mm256_cvtps_pd(hi);
  sq[a] = _mm256_fmadd_pd(l, l, sq[a]);
  sq[a + 1] = _mm256_fmadd_pd(h, h, sq[a + 1]);
}

/* Unsigned 32-bit lanes: the bits of |x| (whose unsigned order is the order
 * of |x|, NaN above inf) and their maximum. */
RG_INLINE rg_vu rg_vuzero(void) { return _mm256_setzero_si256(); }
RG_INLINE rg_vu rg_vabsbits(rg_vf x) { return _mm256_castps_si256(rg_vabs(x)); }
RG_INLINE rg_vu rg_vumax(rg_vu a, rg_vu b) { return _mm256_max_epu32(a, b); }
RG_INLINE uint32_t rg_vuhmax(rg_vu v) {
  __m128i h = _mm_max_epu32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
  return (uint32_t)_mm_cvtsi128_si32(h);
}
/* Lane 0, as a float. */
RG_INLINE float rg_vlane0(rg_vf v) { return _mm256_cvtss_f32(v); }
/* The floats whose bits these are. */
RG_INLINE rg_vf rg_vfloat_bits(rg_vu u) { return _mm256_castsi256_ps(u); }

#include "algo/vops.h"
#endif
