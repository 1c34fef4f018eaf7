/* NEON transcendentals: SLEEF's advsimd (FMA) variants, which agree bit for
 * bit with the purecfma functions of the scalar reference, and the bit step
 * of tanh's expm1 (src/algo/vmath.h). */
#ifndef RG_NEON_VMATH_H
#define RG_NEON_VMATH_H
#include <sleef.h>

RG_INLINE rg_vf rg_vexp(rg_vf x) { return Sleef_expf4_u10advsimd(x); }
RG_INLINE rg_vf rg_vlog(rg_vf x) { return Sleef_logf4_u35advsimd(x); }
RG_INLINE rg_vf rg_vlog1p(rg_vf x) { return Sleef_log1pf4_u10advsimd(x); }
/* sin(pi x) in .x and cos(pi x) in .y, for the normal draws. */
RG_INLINE Sleef_float32x4_t_2 rg_vsincospi(rg_vf x) { return Sleef_sincospif4_u05advsimd(x); }

/* 2^k from t = 1.5 * 2^23 + k: the float whose bits are (bits(t) << 23) +
 * bits(1.0f). */
RG_INLINE rg_vf rg_vscale2k(rg_vf t) {
  return vreinterpretq_f32_u32(
      vaddq_u32(vshlq_n_u32(vreinterpretq_u32_f32(t), 23), vdupq_n_u32(0x3f800000u)));
}
#endif
