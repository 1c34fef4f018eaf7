/* AVX2 transcendentals: SLEEF's avx2 (FMA) u10/u05 variants, which agree bit
 * for bit with the purecfma functions of the scalar reference, and the
 * regrad formulations of scalar/math.h (tanh, sigmoid, gelu) operation for
 * operation. The constants come from scalar/math.h, the single source. */
#ifndef RG_AVX2_VMATH_H
#define RG_AVX2_VMATH_H

#include <sleef.h>

#include "scalar/math.h"
#include "simd.h"

RG_INLINE __m256 rg_vexp(__m256 x) { return Sleef_expf8_u10avx2(x); }
RG_INLINE __m256 rg_vlog(__m256 x) { return Sleef_logf8_u10avx2(x); }
RG_INLINE __m256 rg_vlog1p(__m256 x) { return Sleef_log1pf8_u10avx2(x); }

/* logf of one value through the same avx2 body, for per-row scalars. */
RG_INLINE float rg_logf_avx2(float x) { return _mm256_cvtss_f32(rg_vlog(rg_set(x))); }

/* copysign(e / (e + 2), x) with e = expm1(2 min(|x|, cap)). The cap is
 * (a > cap) ? cap : a, which is minps(cap, a): a NaN a passes through. */
RG_INLINE __m256 rg_vtanh(__m256 x) {
  __m256 a = _mm256_min_ps(rg_set(RG_TANH_CAP), rg_abs(x));
  __m256 e = Sleef_expm1f8_u10avx2(a + a);
  return rg_copysign(e / (e + rg_set(2.0f)), x);
}

/* 1 / (1 + exp(-x)) */
RG_INLINE __m256 rg_vsigmoid(__m256 x) {
  return rg_set(1.0f) / (rg_set(1.0f) + rg_vexp(rg_neg(x)));
}

/* c0 * fma(c1, (x * x) * x, x) */
RG_INLINE __m256 rg_vgelu_u(__m256 x) {
  return rg_set(RG_GELU_C0) * _mm256_fmadd_ps(rg_set(RG_GELU_C1), (x * x) * x, x);
}
#endif
