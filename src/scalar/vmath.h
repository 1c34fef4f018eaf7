/* The transcendentals of the scalar reference: SLEEF's purecfma functions,
 * which agree bit for bit with its avx2, avx512f and advsimd FMA variants
 * (docs/vector-math.md), and the bit step of tanh's expm1 (src/algo/vmath.h). */
#ifndef RG_SCALAR_VMATH_H
#define RG_SCALAR_VMATH_H
#include <sleef.h>

RG_INLINE rg_vf rg_vexp(rg_vf x) { return Sleef_expf1_u10purecfma(x); }
/* u35: at most 2.85 ulp (u10: 0.63), 1.6x (AVX2) to 1.8x (scalar) faster. */
RG_INLINE rg_vf rg_vlog(rg_vf x) { return Sleef_logf1_u35purecfma(x); }
RG_INLINE rg_vf rg_vlog1p(rg_vf x) { return Sleef_log1pf1_u10purecfma(x); }
/* sin(pi x) in .x and cos(pi x) in .y, for the normal draws. */
RG_INLINE Sleef_float_2 rg_vsincospi(rg_vf x) { return Sleef_sincospif1_u05purecfma(x); }

/* 2^k from t = 1.5 * 2^23 + k: the float whose bits are (bits(t) << 23) +
 * bits(1.0f). */
RG_INLINE rg_vf rg_vscale2k(rg_vf t) {
  uint32_t u;
  memcpy(&u, &t, sizeof u);
  return rg_bits_to_float((u << 23) + 0x3f800000u);
}
#endif
