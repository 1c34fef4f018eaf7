/* 16-lane transcendentals: SLEEF's AVX-512F FMA variants (bit-identical to the
 * purecfma functions of the scalar reference) and the regrad formulations of
 * src/scalar/math.h (tanh with its expm1, sigmoid, gelu), operation for
 * operation. */
#ifndef RG_AVX512_VMATH_H
#define RG_AVX512_VMATH_H
#include <sleef.h>

#include "scalar/math.h" /* RG_TANH_CAP, RG_EXPM1_*, RG_GELU_C0, RG_GELU_C1 */
#include "simd.h"

static inline __m512 rg_v_exp(__m512 x) { return Sleef_expf16_u10avx512f(x); }
static inline __m512 rg_v_log(__m512 x) { return Sleef_logf16_u35avx512f(x); }
static inline __m512 rg_v_log1p(__m512 x) { return Sleef_log1pf16_u10avx512f(x); }

/* logf of one value through the vector function, for per-row scalars. */
static inline float rg_v_log1(float x) { return _mm512_cvtss_f32(rg_v_log(rg_splat(x))); }

/* rg_expm1_tanh: t = fma(y, 1/ln2, 1.5 2^23), k = t - 1.5 2^23,
 * r = fma(k, -ln2, y), p = fma(r r, Q(r), r) with Q by Estrin's scheme,
 * s = 2^k from t's bits, e = fma(s, p, s - 1). */
static inline __m512 rg_v_expm1_tanh(__m512 y) {
  __m512 t = _mm512_fmadd_ps(y, rg_splat(RG_EXPM1_INVLN2), rg_splat(RG_EXPM1_SHIFT));
  __m512 k = _mm512_sub_ps(t, rg_splat(RG_EXPM1_SHIFT));
  __m512 r = _mm512_fmadd_ps(k, rg_splat(RG_EXPM1_NLN2), y);
  __m512 r2 = _mm512_mul_ps(r, r);
  __m512 q01 = _mm512_fmadd_ps(rg_splat(RG_EXPM1_Q1), r, rg_splat(RG_EXPM1_Q0));
  __m512 q23 = _mm512_fmadd_ps(rg_splat(RG_EXPM1_Q3), r, rg_splat(RG_EXPM1_Q2));
  __m512 q45 = _mm512_fmadd_ps(rg_splat(RG_EXPM1_Q5), r, rg_splat(RG_EXPM1_Q4));
  __m512 q = _mm512_fmadd_ps(_mm512_fmadd_ps(q45, r2, q23), r2, q01);
  __m512 p = _mm512_fmadd_ps(r2, q, r);
  __m512i sb = _mm512_add_epi32(_mm512_slli_epi32(_mm512_castps_si512(t), 23),
                                _mm512_set1_epi32((int)RG_EXPM1_ONE_BITS));
  __m512 s = _mm512_castsi512_ps(sb);
  return _mm512_fmadd_ps(s, p, _mm512_sub_ps(s, rg_splat(1.0f)));
}

/* rg_tanhf: copysign(e / (e + 2), x) with e = expm1(2 min(|x|, 10)); the
 * ordered compare lets a NaN pass the cap unchanged. */
static inline __m512 rg_v_tanh(__m512 x) {
  __m512 cap = rg_splat(RG_TANH_CAP);
  __m512 a = rg_abs(x);
  a = _mm512_mask_mov_ps(a, rg_gt(a, cap), cap);
  __m512 e = rg_v_expm1_tanh(_mm512_add_ps(a, a));
  return rg_copysign(_mm512_div_ps(e, _mm512_add_ps(e, rg_splat(2.0f))), x);
}

/* rg_sigmoidf: 1 / (1 + exp(-x)). */
static inline __m512 rg_v_sigmoid(__m512 x) {
  __m512 one = rg_splat(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, rg_v_exp(rg_neg(x))));
}

/* rg_gelu_u: c0 * fma(c1, (x * x) * x, x). */
static inline __m512 rg_v_gelu_u(__m512 x) {
  __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  return _mm512_mul_ps(rg_splat(RG_GELU_C0), _mm512_fmadd_ps(rg_splat(RG_GELU_C1), x3, x));
}

/* rg_gelu_x2: (x2 > cap) ? cap : x2 is minps(cap, x2), NaN passing. */
static inline __m512 rg_v_gelu_x2(__m512 x) {
  return _mm512_min_ps(rg_splat(RG_GELU_X2_CAP), _mm512_mul_ps(x, x));
}
#endif
