/* Included first by every file in src/<isa>/ after defining RG_ISA (scalar,
 * avx2, avx512 or neon): declares that ISA's body of every slot, so each
 * body is checked against the slot signature in kernels.def, and gives the
 * few macros every kernel file uses. docs/internals.md describes the layer. */
#ifndef RG_ISA
#error "define RG_ISA before including isa.h"
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#define RG_KERNEL(name, ret, params) ret RG_BODY(name) params;
#include "kernels.def"
#undef RG_KERNEL

/* The body name of this ISA among the four written out in full, so that a
 * body defined once in src/algo/ for every ISA is found by grep under each
 * of its names: void RG_PICK(rg_add__scalar, rg_add__avx2, rg_add__avx512,
 * rg_add__neon)(...) defines rg_add__avx2 in the avx2 library. */
#define RG_PICK_scalar(scalar, avx2, avx512, neon) scalar
#define RG_PICK_avx2(scalar, avx2, avx512, neon) avx2
#define RG_PICK_avx512(scalar, avx2, avx512, neon) avx512
#define RG_PICK_neon(scalar, avx2, avx512, neon) neon
#define RG_PICK(scalar, avx2, avx512, neon) \
  RG_PASTE3(RG_PICK_, RG_ISA, )(scalar, avx2, avx512, neon)

/* Helpers are inlined at every optimization level, so that -O0 builds
 * (the sanitizer suites) run them without a call per vector. */
#define RG_INLINE static inline __attribute__((always_inline))

/* Fully unrolls a short constant loop over an array of registers, so that
 * the array stays in registers (gcc -O2 would otherwise keep it on the
 * stack). */
#define RG_UNROLL _Pragma("GCC unroll 16")
