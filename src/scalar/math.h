/* Scalar transcendentals and the regrad formulations built on them (tanh,
 * sigmoid, gelu), which every ISA copies operation for operation. exp, log
 * and log1p are SLEEF's purecfma functions, which agree bit for bit with its
 * avx2, avx512f and advsimd FMA variants; tanh's expm1 is written out here
 * from basic operations. See docs/vector-math.md for the error and speed of
 * each formulation. */
#ifndef RG_SCALAR_MATH_H
#define RG_SCALAR_MATH_H
#include <math.h>
#include <sleef.h>
#include <stdint.h>
#include <string.h>

static inline float rg_expf(float x) { return Sleef_expf1_u10purecfma(x); }
/* u35: at most 2.85 ulp (u10: 0.63), 1.6x (AVX2) to 1.8x (scalar) faster. */
static inline float rg_logf(float x) { return Sleef_logf1_u35purecfma(x); }
static inline float rg_log1pf(float x) { return Sleef_log1pf1_u10purecfma(x); }

/* expm1(y) for y in [0, 2 * RG_TANH_CAP] (or NaN), the e of rg_tanhf:
 *   t = fma(y, 1/ln2, 1.5 * 2^23)  1.5 * 2^23 + k with k = round(y / ln2): at
 *                                  that magnitude floats are the integers, so
 *                                  the FMA's own rounding is the rounding to
 *                                  nearest, identical on every ISA;
 *   k = t - 1.5 * 2^23             exact;
 *   r = fma(k, -ln2, y)            |r| <= ln2 / 2 (one step: ln2 rounded to
 *                                  float is 2e-9 off, which moves tanh by
 *                                  under 0.1 ulp for any k <= 29);
 *   p = fma(r * r, Q(r), r)        expm1(r), Q a degree-5 minimax fit of
 *                                  (expm1(r) - r) / r^2 on [-ln2/2, ln2/2]
 *                                  (relative error 4e-9), by Estrin's scheme
 *                                  with FMA: with r2 = r * r,
 *                                  Q = fma(fma(Q45, r2, Q23), r2, Q01) where
 *                                  Qij = fma(Qj, r, Qi) (a shorter chain than
 *                                  Horner's, so more of them overlap);
 *   s = 2^k                        from t's bits: k sits in the low mantissa
 *                                  bits of t, so (bits(t) << 23) + bits(1.0f)
 *                                  is the float 2^k (k <= 29);
 *   e = fma(s, p, s - 1)           2^k (1 + p) - 1 = expm1(y).
 * k = 0 gives e = p exactly, so a tiny y keeps all its digits; y = +0 gives
 * +0. A NaN y makes r, p and e NaN whatever garbage s holds. */
#define RG_EXPM1_SHIFT 0x1.8p23f    /* 1.5 * 2^23 */
#define RG_EXPM1_INVLN2 0x1.715476p0f /* 1 / ln 2 */
#define RG_EXPM1_NLN2 (-0x1.62e43p-1f) /* -ln 2 */
#define RG_EXPM1_Q0 0x1p-1f
#define RG_EXPM1_Q1 0x1.555556p-3f
#define RG_EXPM1_Q2 0x1.55547p-5f
#define RG_EXPM1_Q3 0x1.1110acp-7f
#define RG_EXPM1_Q4 0x1.6da758p-10f
#define RG_EXPM1_Q5 0x1.a17df6p-13f
#define RG_EXPM1_ONE_BITS 0x3f800000u /* bits of 1.0f */

static inline float rg_bits_to_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
static inline uint32_t rg_float_to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static inline float rg_expm1_tanh(float y) {
  float t = fmaf(y, RG_EXPM1_INVLN2, RG_EXPM1_SHIFT);
  float k = t - RG_EXPM1_SHIFT;
  float r = fmaf(k, RG_EXPM1_NLN2, y);
  float r2 = r * r;
  float q01 = fmaf(RG_EXPM1_Q1, r, RG_EXPM1_Q0);
  float q23 = fmaf(RG_EXPM1_Q3, r, RG_EXPM1_Q2);
  float q45 = fmaf(RG_EXPM1_Q5, r, RG_EXPM1_Q4);
  float q = fmaf(fmaf(q45, r2, q23), r2, q01);
  float p = fmaf(r2, q, r);
  float s = rg_bits_to_float((rg_float_to_bits(t) << 23) + RG_EXPM1_ONE_BITS);
  return fmaf(s, p, s - 1.0f);
}

/* tanh(x) = sign(x) * e / (e + 2) with e = expm1(2|x|): no cancellation near
 * 0, and |x| is capped at 10 where the quotient is already 1.0f (a NaN passes
 * the cap unchanged). */
#define RG_TANH_CAP 10.0f
static inline float rg_tanhf(float x) {
  float a = fabsf(x);
  a = (a > RG_TANH_CAP) ? RG_TANH_CAP : a;
  float e = rg_expm1_tanh(a + a);
  return copysignf(e / (e + 2.0f), x);
}

static inline float rg_sigmoidf(float x) { return 1.0f / (1.0f + rg_expf(-x)); }

/* gelu, tanh form: u = c0 * (x + c1 * x^3). */
#define RG_GELU_C0 0.7978845608028654f /* sqrt(2 / pi) */
#define RG_GELU_C1 0.044715f
static inline float rg_gelu_u(float x) {
  return RG_GELU_C0 * fmaf(RG_GELU_C1, (x * x) * x, x);
}

/* x^2 as gelu's derivative takes it, min(x^2, 100), written
 * (x2 > cap) ? cap : x2 so that a NaN passes. x^2 overflows for |x| >=
 * 1.85e19, and du = c0 (1 + 3 c1 x^2) = inf times 1 - t^2 = 0 was NaN. Past
 * |x| = 10, u >= 43.6 is beyond tanh's cap, t = +-1 exactly and 1 - t^2 is
 * exactly +0, so any finite du gives the same bits: the cap changes no
 * result that was not NaN (checked over all 2^32 floats), and the limits
 * come out exactly, dy for x -> +inf and 0 for x -> -inf. */
#define RG_GELU_X2_CAP 100.0f
static inline float rg_gelu_x2(float x) {
  float x2 = x * x;
  return (x2 > RG_GELU_X2_CAP) ? RG_GELU_X2_CAP : x2;
}
#endif
