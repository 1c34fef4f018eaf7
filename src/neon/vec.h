/* NEON building blocks shared by the src/neon bodies: partial loads and
 * stores for the last 1..3 elements, NaN-faithful selects, and the vector
 * forms of the scalar reference's transcendentals (src/scalar/math.h), built
 * on SLEEF's AdvSIMD FMA variants, which agree bit for bit with the purecfma
 * functions the scalar reference calls. Only the constants of scalar/math.h
 * are used here; every formula below copies its scalar twin operation for
 * operation. */
#ifndef RG_NEON_VEC_H
#define RG_NEON_VEC_H
#include <arm_neon.h>
#include <sleef.h>
#include <stdint.h>
#include <string.h>

#include "scalar/math.h"

#ifndef __ARM_NEON
#error "src/neon needs an AArch64 compiler with Advanced SIMD"
#endif

#define RG_INLINE static inline __attribute__((always_inline))

/* The r first elements at p (all 4 when r >= 4), zeros beyond. */
RG_INLINE float32x4_t rg_ld(const float *p, int64_t r) {
  if (r >= 4) return vld1q_f32(p);
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  memcpy(t, p, (size_t)r * sizeof *t);
  return vld1q_f32(t);
}

/* Stores the r first lanes of v at p (all 4 when r >= 4). */
RG_INLINE void rg_st(float *p, float32x4_t v, int64_t r) {
  if (r >= 4) {
    vst1q_f32(p, v);
    return;
  }
  float t[4];
  vst1q_f32(t, v);
  memcpy(p, t, (size_t)r * sizeof *t);
}

/* All-ones in the r first lanes (r = 0..4). */
RG_INLINE uint32x4_t rg_first(int64_t r) {
  static const uint32_t idx[4] = {0, 1, 2, 3};
  return vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)(r < 4 ? r : 4)));
}

RG_INLINE float32x4_t rg_dup(float v) { return vdupq_n_f32(v); }
RG_INLINE float32x4_t rg_zero(void) { return vdupq_n_f32(0.0f); }

/* mask ? a : b, lane by lane. */
RG_INLINE float32x4_t rg_sel(uint32x4_t mask, float32x4_t a, float32x4_t b) {
  return vbslq_f32(mask, a, b);
}

/* (b > a) ? b : a, the reference's max: keeps a when b is NaN and takes b
 * only when it compares greater (vmaxq_f32 would differ on NaN). */
RG_INLINE float32x4_t rg_max(float32x4_t a, float32x4_t b) {
  return vbslq_f32(vcgtq_f32(b, a), b, a);
}

/* copysignf(mag, sgn). */
RG_INLINE float32x4_t rg_copysign(float32x4_t mag, float32x4_t sgn) {
  return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, mag);
}

/* (x > 0) ? a : ((x < 0) ? -a : 0), with a NaN x giving 0. */
RG_INLINE float32x4_t rg_signed(float32x4_t x, float32x4_t a) {
  float32x4_t z = rg_zero();
  return rg_sel(vcgtq_f32(x, z), a, rg_sel(vcltq_f32(x, z), vnegq_f32(a), z));
}

RG_INLINE float32x4_t rg_exp4(float32x4_t x) { return Sleef_expf4_u10advsimd(x); }
RG_INLINE float32x4_t rg_log4(float32x4_t x) { return Sleef_logf4_u35advsimd(x); }
RG_INLINE float32x4_t rg_log1p4(float32x4_t x) { return Sleef_log1pf4_u10advsimd(x); }

/* Scalar logf through the vector body, for per-row steps. */
RG_INLINE float rg_log1(float x) { return vgetq_lane_f32(rg_log4(vdupq_n_f32(x)), 0); }

/* rg_expm1_tanh: t = fma(y, 1/ln2, 1.5 2^23), k = t - 1.5 2^23,
 * r = fma(k, -ln2, y), p = fma(r r, Q(r), r) with Q by Estrin's scheme,
 * s = 2^k from t's bits, e = fma(s, p, s - 1). vfmaq_f32(c, a, b) is
 * fma(a, b, c). */
RG_INLINE float32x4_t rg_expm1_tanh4(float32x4_t y) {
  float32x4_t t = vfmaq_f32(rg_dup(RG_EXPM1_SHIFT), y, rg_dup(RG_EXPM1_INVLN2));
  float32x4_t k = vsubq_f32(t, rg_dup(RG_EXPM1_SHIFT));
  float32x4_t r = vfmaq_f32(y, k, rg_dup(RG_EXPM1_NLN2));
  float32x4_t r2 = vmulq_f32(r, r);
  float32x4_t q01 = vfmaq_f32(rg_dup(RG_EXPM1_Q0), rg_dup(RG_EXPM1_Q1), r);
  float32x4_t q23 = vfmaq_f32(rg_dup(RG_EXPM1_Q2), rg_dup(RG_EXPM1_Q3), r);
  float32x4_t q45 = vfmaq_f32(rg_dup(RG_EXPM1_Q4), rg_dup(RG_EXPM1_Q5), r);
  float32x4_t q = vfmaq_f32(q01, vfmaq_f32(q23, q45, r2), r2);
  float32x4_t p = vfmaq_f32(r, r2, q);
  uint32x4_t sb = vaddq_u32(vshlq_n_u32(vreinterpretq_u32_f32(t), 23),
                            vdupq_n_u32(RG_EXPM1_ONE_BITS));
  float32x4_t s = vreinterpretq_f32_u32(sb);
  return vfmaq_f32(vsubq_f32(s, rg_dup(1.0f)), s, p);
}

/* rg_tanhf: sign(x) * e / (e + 2), e = expm1(2 min(|x|, cap)). */
RG_INLINE float32x4_t rg_tanh4(float32x4_t x) {
  const float32x4_t cap = rg_dup(RG_TANH_CAP);
  float32x4_t a = vabsq_f32(x);
  a = rg_sel(vcgtq_f32(a, cap), cap, a);
  float32x4_t e = rg_expm1_tanh4(vaddq_f32(a, a));
  return rg_copysign(vdivq_f32(e, vaddq_f32(e, rg_dup(2.0f))), x);
}

/* rg_sigmoidf: 1 / (1 + exp(-x)). */
RG_INLINE float32x4_t rg_sigmoid4(float32x4_t x) {
  const float32x4_t one = rg_dup(1.0f);
  return vdivq_f32(one, vaddq_f32(one, rg_exp4(vnegq_f32(x))));
}

/* rg_gelu_u: c0 * fmaf(c1, (x * x) * x, x). */
RG_INLINE float32x4_t rg_gelu_u4(float32x4_t x) {
  float32x4_t x3 = vmulq_f32(vmulq_f32(x, x), x);
  return vmulq_f32(rg_dup(RG_GELU_C0), vfmaq_f32(x, rg_dup(RG_GELU_C1), x3));
}

/* rg_gelu_x2: (x2 > cap) ? cap : x2, NaN passing. */
RG_INLINE float32x4_t rg_gelu_x2_4(float32x4_t x) {
  const float32x4_t cap = rg_dup(RG_GELU_X2_CAP);
  float32x4_t x2 = vmulq_f32(x, x);
  return rg_sel(vcgtq_f32(x2, cap), cap, x2);
}
#endif
