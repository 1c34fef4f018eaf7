/* AVX2 transcendentals: SLEEF's avx2 (FMA) variants, which agree bit for bit
 * with the purecfma functions of the scalar reference, and the bit step of
 * tanh's expm1 (src/algo/vmath.h). */
#ifndef RG_AVX2_VMATH_H
#define RG_AVX2_VMATH_H
#include <sleef.h>

RG_INLINE rg_vf rg_vexp(rg_vf x) { return Sleef_expf8_u10avx2(x); }
RG_INLINE rg_vf rg_vlog(rg_vf x) { return Sleef_logf8_u35avx2(x); }
RG_INLINE rg_vf rg_vlog1p(rg_vf x) { return Sleef_log1pf8_u10avx2(x); }
/* sin(pi x) in .x and cos(pi x) in .y, for the normal draws. */
RG_INLINE Sleef___m256_2 rg_vsincospi(rg_vf x) { return Sleef_sincospif8_u05avx2(x); }

/* 2^k from t = 1.5 * 2^23 + k: the float whose bits are (bits(t) << 23) +
 * bits(1.0f). */
RG_INLINE rg_vf rg_vscale2k(rg_vf t) {
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23),
                                              _mm256_set1_epi32(0x3f800000)));
}
#endif
