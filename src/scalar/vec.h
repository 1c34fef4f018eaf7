/* The vector vocabulary with one lane (docs/internals.md): a "vector" is a
 * float and every helper is the plain C operation, so the shared algorithms
 * compiled for scalar are the reference expressions written out element by
 * element. The folder is compiled with -fno-tree-vectorize and (on x86)
 * -mfma, so fmaf is one FMA instruction, as SLEEF's purecfma functions
 * need. */
#ifndef RG_SCALAR_VEC_H
#define RG_SCALAR_VEC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define RG_VL 1  /* floats per vector */
#define RG_VDL 1 /* doubles per rg_vd */
#define RG_BLOCK_UNROLL
#define RG_STRIP_VECS 8
#define RG_STRIP_SPLIT 1

typedef float rg_vf;
typedef int rg_vm;
typedef uint32_t rg_vu;
typedef double rg_vd;
typedef int rg_vt; /* a block's live lanes: 1 */

/* A block is one element, live or past the end. */
RG_INLINE rg_vt rg_vtail(int64_t r) { return r > 0; }
RG_INLINE int rg_vis_full(rg_vt t) { return t; }
RG_INLINE int rg_vany(rg_vt t) { return t; }
RG_INLINE rg_vm rg_vlive(rg_vt t) { return t; }
RG_INLINE rg_vf rg_vload(const float *p, rg_vt t) { return (void)t, *p; }
RG_INLINE void rg_vstore(float *p, rg_vf v, rg_vt t) { (void)t, *p = v; }

RG_INLINE rg_vf rg_vset(float x) { return x; }
RG_INLINE rg_vf rg_vfma(rg_vf a, rg_vf b, rg_vf c) { return fmaf(a, b, c); }
RG_INLINE rg_vf rg_vfnma(rg_vf a, rg_vf b, rg_vf c) { return fmaf(-a, b, c); }
RG_INLINE rg_vf rg_vsqrt(rg_vf a) { return sqrtf(a); }
RG_INLINE rg_vf rg_vabs(rg_vf x) { return fabsf(x); }
RG_INLINE rg_vf rg_vcopysign(rg_vf mag, rg_vf sgn) { return copysignf(mag, sgn); }
/* copysign(mag, sgn) for a mag whose sign bit is clear (or a NaN). */
RG_INLINE rg_vf rg_vsetsign(rg_vf mag, rg_vf sgn) { return copysignf(mag, sgn); }

RG_INLINE rg_vm rg_vlt(rg_vf a, rg_vf b) { return a < b; }
RG_INLINE rg_vm rg_vgt(rg_vf a, rg_vf b) { return a > b; }
RG_INLINE rg_vm rg_vle(rg_vf a, rg_vf b) { return a <= b; }
RG_INLINE rg_vm rg_vge(rg_vf a, rg_vf b) { return a >= b; }
RG_INLINE rg_vm rg_veq(rg_vf a, rg_vf b) { return a == b; }
RG_INLINE rg_vm rg_vand(rg_vm a, rg_vm b) { return a && b; }
RG_INLINE int rg_vcount(rg_vm m) { return m; }
RG_INLINE rg_vm rg_vlane_is(int64_t d) { return d == 0; }

RG_INLINE rg_vf rg_vsel(rg_vm m, rg_vf a, rg_vf b) { return m ? a : b; }
RG_INLINE rg_vf rg_vmax(rg_vf a, rg_vf b) { return (a > b) ? a : b; }
RG_INLINE rg_vf rg_vmin(rg_vf a, rg_vf b) { return (a < b) ? a : b; }

/* One lane: nothing left to halve. */
RG_INLINE float rg_vhsum(rg_vf v) { return v; }
RG_INLINE float rg_vhmax(rg_vf v) { return v; }

/* Doubles, for the sums of squares: element q of a row of 64 goes to double
 * lane q % 32, as fma(v, v, lane) with v = (double)x exact. */
RG_INLINE rg_vd rg_vdzero(void) { return 0.0; }
RG_INLINE rg_vd rg_vdadd(rg_vd a, rg_vd b) { return a + b; }
RG_INLINE double rg_vdhsum(rg_vd v) { return v; }
RG_INLINE void rg_vsq_add(rg_vd *sq, int q, const float *p, rg_vt t) {
  (void)t;
  double v = *p;
  sq[q % RG_SQ_LANES] = fma(v, v, sq[q % RG_SQ_LANES]);
}

/* The bits of |x|, whose unsigned order is the order of |x| (NaN above
 * inf), and their maximum. */
RG_INLINE rg_vu rg_vuzero(void) { return 0; }
RG_INLINE rg_vu rg_vabsbits(rg_vf x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u & 0x7fffffffu;
}
RG_INLINE rg_vu rg_vumax(rg_vu a, rg_vu b) { return a > b ? a : b; }
RG_INLINE uint32_t rg_vuhmax(rg_vu v) { return v; }
/* Lane 0, as a float. */
RG_INLINE float rg_vlane0(rg_vf v) { return v; }
/* The floats whose bits these are. */
RG_INLINE rg_vf rg_vfloat_bits(rg_vu u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

#include "algo/vops.h"
#endif
