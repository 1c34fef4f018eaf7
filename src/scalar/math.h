/* Scalar transcendentals: SLEEF's purecfma u10 functions, which agree bit for
 * bit with its avx2, avx512f and advsimd FMA variants, and the regrad
 * formulations built on them (tanh, sigmoid, gelu) that every ISA copies. */
#ifndef RG_SCALAR_MATH_H
#define RG_SCALAR_MATH_H
#include <math.h>
#include <sleef.h>

static inline float rg_expf(float x) { return Sleef_expf1_u10purecfma(x); }
static inline float rg_logf(float x) { return Sleef_logf1_u10purecfma(x); }
static inline float rg_log1pf(float x) { return Sleef_log1pf1_u10purecfma(x); }

/* tanh(x) = sign(x) * e / (e + 2) with e = expm1(2|x|): no cancellation near
 * 0, and |x| is capped at 10 where the quotient is already 1.0f (a NaN passes
 * the cap unchanged). */
#define RG_TANH_CAP 10.0f
static inline float rg_tanhf(float x) {
  float a = fabsf(x);
  a = (a > RG_TANH_CAP) ? RG_TANH_CAP : a;
  float e = Sleef_expm1f1_u10purecfma(a + a);
  return copysignf(e / (e + 2.0f), x);
}

static inline float rg_sigmoidf(float x) { return 1.0f / (1.0f + rg_expf(-x)); }

/* gelu, tanh form: u = c0 * (x + c1 * x^3). */
#define RG_GELU_C0 0.7978845608028654f /* sqrt(2 / pi) */
#define RG_GELU_C1 0.044715f
static inline float rg_gelu_u(float x) {
  return RG_GELU_C0 * fmaf(RG_GELU_C1, (x * x) * x, x);
}
#endif
