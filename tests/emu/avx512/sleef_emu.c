/* Test-only: the Sleef_*f16_*avx512f functions for the emulated AVX-512
 * build (docs/kernels-emulation.md), each as 16 calls of its scalar twin
 * Sleef_*f1_*purecfma, the FMA build of the same algorithm, which SLEEF keeps
 * bit-identical to its vector builds and which the scalar reference uses.
 * Compiled with simde_shim.h forced in, which declares these functions under
 * SLEEF's names bound to rg_emu_* symbols, so libsleef's own AVX-512 code is
 * never called. The list is sleef_f16.def: all of them, not only those
 * src/avx512/ calls today. */
#include <stddef.h>

#define RG_EMU_DEF_U(name, f1)                          \
  __m512 name(__m512 a) {                               \
    rg_emu_lanes x = {.v = a};                          \
    for (int i = 0; i < 16; i++) x.f[i] = f1(x.f[i]);   \
    return x.v;                                         \
  }
#define RG_EMU_DEF_B(name, f1)                                   \
  __m512 name(__m512 a, __m512 b) {                              \
    rg_emu_lanes x = {.v = a}, y = {.v = b};                     \
    for (int i = 0; i < 16; i++) x.f[i] = f1(x.f[i], y.f[i]);    \
    return x.v;                                                  \
  }
#define RG_EMU_DEF_T(name, f1)                                           \
  __m512 name(__m512 a, __m512 b, __m512 c) {                            \
    rg_emu_lanes x = {.v = a}, y = {.v = b}, z = {.v = c};               \
    for (int i = 0; i < 16; i++) x.f[i] = f1(x.f[i], y.f[i], z.f[i]);    \
    return x.v;                                                          \
  }
#define RG_EMU_DEF_P(name, f1)                     \
  Sleef___m512_2 name(__m512 a) {                  \
    rg_emu_lanes x = {.v = a}, s, c;               \
    for (int i = 0; i < 16; i++) {                 \
      Sleef_float_2 r = f1(x.f[i]);                \
      s.f[i] = r.x;                                \
      c.f[i] = r.y;                                \
    }                                              \
    Sleef___m512_2 out = {s.v, c.v};               \
    return out;                                    \
  }

/* Sleef_[finz_]<fn>1_<acc>purecfma */
#define RG_EMU_S_NAME(pre, fn, acc) Sleef_##pre##fn##1_##acc##purecfma
#define RG_EMU_SLEEF(shape, fn, acc)                                          \
  RG_EMU_DEF_##shape(RG_EMU_V_NAME(, fn, acc), RG_EMU_S_NAME(, fn, acc))     \
  RG_EMU_DEF_##shape(RG_EMU_V_NAME(finz_, fn, acc), RG_EMU_S_NAME(finz_, fn, acc))
#include "sleef_f16.def"
#undef RG_EMU_SLEEF
