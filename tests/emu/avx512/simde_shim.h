/* Test-only: compiles the unmodified src/avx512/ bodies for a CPU without
 * AVX-512 (docs/kernels-emulation.md). Forced into each emulated translation
 * unit with `-include`, so it comes before the sources' own guards and
 * includes; the compile flags are -mavx2 -mfma, never -mavx512f.
 *
 *  1. The compiler's <immintrin.h> (SSE ... AVX2, FMA run natively) and
 *     <sleef.h>, both while __AVX512F__ is still undefined: sleef.h then
 *     declares no AVX-512F function, so the only ones in scope are those of
 *     point 4, and any other is an implicit declaration (an error under
 *     -Werror=implicit-function-declaration, which the build adds).
 *  2. SIMDe with native aliases: every _mm512_* name becomes SIMDe's portable
 *     version, built on AVX2 and FMA. Any intrinsic SIMDe lacks would fall
 *     through to GCC's AVX-512 inline function and fail to compile ("target
 *     specific option mismatch"), never run an AVX-512 instruction.
 *  3. The intrinsics src/avx512/ uses that SIMDe 0.7.4 lacks, written from
 *     Intel's pseudo-code; and the aligned loads and stores, which SIMDe
 *     lets pass on any address, made to fault on a misaligned one.
 *  4. SLEEF's Sleef_*f16_*avx512f functions, declared under their own names
 *     but bound (asm labels) to rg_emu_* symbols from sleef_emu.c, so the
 *     real AVX-512 ones in libsleef are never reached.
 *  5. __AVX512F__ and friends, for the sources' #error guards. */
#ifndef RG_EMU_SIMDE_SHIM_H
#define RG_EMU_SIMDE_SHIM_H

#if defined(__AVX512F__)
#error "the emulated AVX-512 build is compiled with -mavx2 -mfma, not -mavx512f"
#endif
#if !defined(__AVX2__) || !defined(__FMA__)
#error "the emulated AVX-512 build needs -mavx2 -mfma"
#endif

/* 1. */
#include <immintrin.h>
#include <sleef.h>
#include <stdint.h>
#include <string.h>

/* 2. */
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

/* SIMDe builds _mm512_fmadd_ps from _mm256_fmadd_ps only when FMA is native;
 * otherwise it writes a * b + c, which -ffp-contract=off leaves unfused. */
#if !defined(SIMDE_X86_FMA_NATIVE) || !defined(SIMDE_X86_AVX2_NATIVE) || \
    defined(SIMDE_X86_AVX512F_NATIVE)
#error "SIMDe must see native AVX2 and FMA and emulate AVX-512F"
#endif

/* 3. Lane access by union (defined type punning in C11). */
typedef union {
  __m512 v;
  __m512i vi;
  __m512d vd;
  __m256 h[2];
  __m256d hd[2];
  float f[16];
  uint32_t u[16];
} rg_emu_lanes;

/* Masked-off lanes are neither read (so, as on hardware, they may lie past
 * the end of an array; ASan builds check the enabled ones) nor written. */
static inline __m512 rg_emu_mm512_maskz_loadu_ps(__mmask16 k, const void *p) {
  rg_emu_lanes r = {.f = {0}};
  for (int i = 0; i < 16; i++)
    if ((k >> i) & 1) memcpy(&r.f[i], (const float *)p + i, sizeof(float));
  return r.v;
}
static inline void rg_emu_mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 a) {
  rg_emu_lanes x = {.v = a};
  for (int i = 0; i < 16; i++)
    if ((k >> i) & 1) memcpy((float *)p + i, &x.f[i], sizeof(float));
}

/* Unsigned compare, predicate _MM_CMPINT_*: 0 eq, 1 lt, 2 le, 3 false,
 * 4 ne, 5 nlt (>=), 6 nle (>), 7 true. */
static inline __mmask16 rg_emu_mm512_cmp_epu32_mask(__m512i a, __m512i b, const int imm) {
  rg_emu_lanes x = {.vi = a}, y = {.vi = b};
  unsigned k = 0;
  for (int i = 0; i < 16; i++) {
    uint32_t p = x.u[i], q = y.u[i];
    int t;
    switch (imm & 7) {
      case 0: t = p == q; break;
      case 1: t = p < q; break;
      case 2: t = p <= q; break;
      case 3: t = 0; break;
      case 4: t = p != q; break;
      case 5: t = p >= q; break;
      case 6: t = p > q; break;
      default: t = 1; break;
    }
    k |= (unsigned)t << i;
  }
  return (__mmask16)k;
}

static inline uint32_t rg_emu_mm512_reduce_max_epu32(__m512i a) {
  rg_emu_lanes x = {.vi = a};
  uint32_t m = 0;
  for (int i = 0; i < 16; i++) m = x.u[i] > m ? x.u[i] : m;
  return m;
}

/* Bit 0 of imm picks the upper (1) or lower (0) 256 bits. */
static inline __m256 rg_emu_mm512_extractf32x8_ps(__m512 a, const int imm) {
  rg_emu_lanes x = {.v = a};
  return x.h[imm & 1];
}

/* Rounded per MXCSR (round to nearest even by default), like vcvtdq2ps. */
static inline __m512 rg_emu_mm512_cvtepi32_ps(__m512i a) {
  rg_emu_lanes x = {.vi = a}, r;
  r.h[0] = _mm256_cvtepi32_ps(_mm256_castps_si256(x.h[0]));
  r.h[1] = _mm256_cvtepi32_ps(_mm256_castps_si256(x.h[1]));
  return r.v;
}

/* Lane i: k_i ? fma(a_i, b_i, c_i) : c_i (SIMDe's fmadd is vfmadd on each half). */
static inline __m512 rg_emu_mm512_mask3_fmadd_ps(__m512 a, __m512 b, __m512 c, __mmask16 k) {
  return simde_mm512_mask_mov_ps(c, k, simde_mm512_fmadd_ps(a, b, c));
}

/* 8 floats to 8 doubles (exact), as vcvtps2pd: each 128-bit quarter of a
 * on its own. */
static inline __m512d rg_emu_mm512_cvtps_pd(__m256 a) {
  rg_emu_lanes r;
  r.hd[0] = _mm256_cvtps_pd(_mm256_castps256_ps128(a));
  r.hd[1] = _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1));
  return r.vd;
}

static inline float rg_emu_mm512_cvtss_f32(__m512 a) {
  rg_emu_lanes x = {.v = a};
  return x.f[0];
}

/* Stricter than SIMDe, as strict as hardware: the aligned forms fault (#GP
 * there, a trap here) on an address that is not a multiple of 64. */
static inline void rg_emu_check_align64(const void *p) {
  if ((uintptr_t)p % 64 != 0) __builtin_trap();
}
static inline __m512 rg_emu_mm512_load_ps(const void *p) {
  rg_emu_check_align64(p);
  __m512 r;
  memcpy(&r, p, sizeof r);
  return r;
}
static inline __m512i rg_emu_mm512_load_si512(const void *p) {
  rg_emu_check_align64(p);
  __m512i r;
  memcpy(&r, p, sizeof r);
  return r;
}
static inline void rg_emu_mm512_store_ps(void *p, __m512 a) {
  rg_emu_check_align64(p);
  memcpy(p, &a, sizeof a);
}
static inline void rg_emu_mm512_store_si512(void *p, __m512i a) {
  rg_emu_check_align64(p);
  memcpy(p, &a, sizeof a);
}

#undef _mm512_load_ps
#define _mm512_load_ps rg_emu_mm512_load_ps
#undef _mm512_load_si512
#define _mm512_load_si512 rg_emu_mm512_load_si512
#undef _mm512_store_ps
#define _mm512_store_ps rg_emu_mm512_store_ps
#undef _mm512_store_si512
#define _mm512_store_si512 rg_emu_mm512_store_si512
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps rg_emu_mm512_maskz_loadu_ps
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps rg_emu_mm512_mask_storeu_ps
#undef _mm512_cmp_epu32_mask
#define _mm512_cmp_epu32_mask rg_emu_mm512_cmp_epu32_mask
#undef _mm512_reduce_max_epu32
#define _mm512_reduce_max_epu32 rg_emu_mm512_reduce_max_epu32
#undef _mm512_extractf32x8_ps
#define _mm512_extractf32x8_ps rg_emu_mm512_extractf32x8_ps
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps rg_emu_mm512_cvtepi32_ps
#undef _mm512_mask3_fmadd_ps
#define _mm512_mask3_fmadd_ps rg_emu_mm512_mask3_fmadd_ps
#undef _mm512_cvtps_pd
#define _mm512_cvtps_pd rg_emu_mm512_cvtps_pd
#undef _mm512_cvtss_f32
#define _mm512_cvtss_f32 rg_emu_mm512_cvtss_f32
/* SIMDe 0.7.4 has simde_mm512_shuffle_f32x4 but not the native alias. */
#undef _mm512_shuffle_f32x4
#define _mm512_shuffle_f32x4 simde_mm512_shuffle_f32x4

/* 4. */
#ifndef Sleef___m512_2_DEFINED
typedef struct {
  __m512 x, y;
} Sleef___m512_2;
#define Sleef___m512_2_DEFINED
#endif

#define RG_EMU_STR_(s) #s
#define RG_EMU_STR(s) RG_EMU_STR_(s)
/* Sleef_[finz_]<fn>16_<acc>avx512f, and the symbol it is bound to. */
#define RG_EMU_V_NAME(pre, fn, acc) Sleef_##pre##fn##16_##acc##avx512f
#define RG_EMU_V_SYM(pre, fn, acc) RG_EMU_STR(rg_emu_Sleef_##pre##fn##16_##acc##avx512f)
#define RG_EMU_DECL_U(name, sym) __m512 name(__m512) __asm__(sym);
#define RG_EMU_DECL_B(name, sym) __m512 name(__m512, __m512) __asm__(sym);
#define RG_EMU_DECL_T(name, sym) __m512 name(__m512, __m512, __m512) __asm__(sym);
#define RG_EMU_DECL_P(name, sym) Sleef___m512_2 name(__m512) __asm__(sym);
#define RG_EMU_SLEEF(shape, fn, acc)                                        \
  RG_EMU_DECL_##shape(RG_EMU_V_NAME(, fn, acc), RG_EMU_V_SYM(, fn, acc)) \
  RG_EMU_DECL_##shape(RG_EMU_V_NAME(finz_, fn, acc), RG_EMU_V_SYM(finz_, fn, acc))
#include "sleef_f16.def"
#undef RG_EMU_SLEEF

/* 5. Last, so that nothing above took an AVX-512 path. */
#define __AVX512F__ 1
#define __AVX512DQ__ 1
#define __AVX512BW__ 1
#define __AVX512VL__ 1
#define __AVX512CD__ 1
#endif
