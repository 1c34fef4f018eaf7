/* AVX2 transcendentals: SLEEF's avx2 (FMA) variants, which agree bit for bit
 * with the purecfma functions of the scalar reference, and the regrad
 * formulations of scalar/math.h (tanh with its expm1, sigmoid, gelu)
 * operation for operation. The constants come from scalar/math.h, the single
 * source. */
#ifndef RG_AVX2_VMATH_H
#define RG_AVX2_VMATH_H

#include <sleef.h>

#include "scalar/math.h"
#include "simd.h"

RG_INLINE __m256 rg_vexp(__m256 x) { return Sleef_expf8_u10avx2(x); }
RG_INLINE __m256 rg_vlog(__m256 x) { return Sleef_logf8_u35avx2(x); }
RG_INLINE __m256 rg_vlog1p(__m256 x) { return Sleef_log1pf8_u10avx2(x); }

/* logf of one value through the same avx2 body, for per-row scalars. */
RG_INLINE float rg_logf_avx2(float x) { return _mm256_cvtss_f32(rg_vlog(rg_set(x))); }

/* rg_expm1_tanh: t = fma(y, 1/ln2, 1.5 2^23), k = t - 1.5 2^23,
 * r = fma(k, -ln2, y), p = fma(r r, Q(r), r) with Q by Estrin's scheme,
 * s = 2^k from t's bits, e = fma(s, p, s - 1). */
RG_INLINE __m256 rg_vexpm1_tanh(__m256 y) {
  __m256 t = _mm256_fmadd_ps(y, rg_set(RG_EXPM1_INVLN2), rg_set(RG_EXPM1_SHIFT));
  __m256 k = t - rg_set(RG_EXPM1_SHIFT);
  __m256 r = _mm256_fmadd_ps(k, rg_set(RG_EXPM1_NLN2), y);
  __m256 r2 = r * r;
  __m256 q01 = _mm256_fmadd_ps(rg_set(RG_EXPM1_Q1), r, rg_set(RG_EXPM1_Q0));
  __m256 q23 = _mm256_fmadd_ps(rg_set(RG_EXPM1_Q3), r, rg_set(RG_EXPM1_Q2));
  __m256 q45 = _mm256_fmadd_ps(rg_set(RG_EXPM1_Q5), r, rg_set(RG_EXPM1_Q4));
  __m256 q = _mm256_fmadd_ps(_mm256_fmadd_ps(q45, r2, q23), r2, q01);
  __m256 p = _mm256_fmadd_ps(r2, q, r);
  __m256i sb = _mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23),
                                _mm256_set1_epi32((int)RG_EXPM1_ONE_BITS));
  __m256 s = _mm256_castsi256_ps(sb);
  return _mm256_fmadd_ps(s, p, s - rg_set(1.0f));
}

/* copysign(e / (e + 2), x) with e = expm1(2 min(|x|, cap)). The cap is
 * (a > cap) ? cap : a, which is minps(cap, a): a NaN a passes through. The
 * quotient is +0 or more (or NaN), so or-ing in the sign bit of x is
 * copysign. */
RG_INLINE __m256 rg_vtanh(__m256 x) {
  __m256 a = _mm256_min_ps(rg_set(RG_TANH_CAP), rg_abs(x));
  __m256 e = rg_vexpm1_tanh(a + a);
  return _mm256_or_ps(e / (e + rg_set(2.0f)), _mm256_and_ps(rg_sign_bit(), x));
}

/* 1 / (1 + exp(-x)) */
RG_INLINE __m256 rg_vsigmoid(__m256 x) {
  return rg_set(1.0f) / (rg_set(1.0f) + rg_vexp(rg_neg(x)));
}

/* c0 * fma(c1, (x * x) * x, x) */
RG_INLINE __m256 rg_vgelu_u(__m256 x) {
  return rg_set(RG_GELU_C0) * _mm256_fmadd_ps(rg_set(RG_GELU_C1), (x * x) * x, x);
}

/* rg_gelu_x2: (x2 > cap) ? cap : x2 is minps(cap, x2), NaN passing. */
RG_INLINE __m256 rg_vgelu_x2(__m256 x) { return _mm256_min_ps(rg_set(RG_GELU_X2_CAP), x * x); }
#endif
