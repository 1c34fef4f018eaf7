/* AVX-512 transcendentals: SLEEF's avx512f (FMA) variants, which agree bit
 * for bit with the purecfma functions of the scalar reference, and the bit
 * step of tanh's expm1 (src/algo/vmath.h). */
#ifndef RG_AVX512_VMATH_H
#define RG_AVX512_VMATH_H
#include <sleef.h>

RG_INLINE rg_vf rg_vexp(rg_vf x) { return Sleef_expf16_u10avx512f(x); }
RG_INLINE rg_vf rg_vlog(rg_vf x) { return Sleef_logf16_u35avx512f(x); }
RG_INLINE rg_vf rg_vlog1p(rg_vf x) { return Sleef_log1pf16_u10avx512f(x); }
/* sin(pi x) in .x and cos(pi x) in .y, for the normal draws. */
RG_INLINE Sleef___m512_2 rg_vsincospi(rg_vf x) { return Sleef_sincospif16_u05avx512f(x); }

/* 2^k from t = 1.5 * 2^23 + k: the float whose bits are (bits(t) << 23) +
 * bits(1.0f). */
RG_INLINE rg_vf rg_vscale2k(rg_vf t) {
  return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_slli_epi32(_mm512_castps_si512(t), 23),
                                              _mm512_set1_epi32(0x3f800000)));
}
#endif
