/* The vector vocabulary on NEON (docs/internals.md): 4 float lanes in a q
 * register; lane masks are all-ones or all-zeros lanes of a uint32x4_t.
 * AArch64 has no masked loads and stores: a partial block goes through a
 * zero-padded copy on the stack. NEON's fmax/fmin differ from C's ternary
 * on NaN, so max and min are a compare and a select. */
#ifndef RG_NEON_VEC_H
#define RG_NEON_VEC_H

#ifndef __ARM_NEON
#error "src/neon needs an AArch64 compiler with Advanced SIMD"
#endif

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#define RG_VL 4  /* floats per vector */
#define RG_VDL 2 /* doubles per rg_vd */
#define RG_BLOCK_UNROLL
#define RG_STRIP_VECS 1
#define RG_STRIP_SPLIT 1

typedef float32x4_t rg_vf;
typedef uint32x4_t rg_vm;
typedef uint32x4_t rg_vu;
typedef float64x2_t rg_vd;
typedef int rg_vt; /* a block's live lanes: their count, 0 .. 4 */

RG_INLINE uint32x4_t rg_iota(void) {
  static const uint32_t idx[4] = {0, 1, 2, 3};
  return vld1q_u32(idx);
}

/* Lanes [0, r): all of them for r >= 4, none for r <= 0. */
RG_INLINE rg_vt rg_vtail(int64_t r) { return r < 0 ? 0 : (r > RG_VL ? RG_VL : (int)r); }
RG_INLINE int rg_vis_full(rg_vt t) { return t >= RG_VL; }
RG_INLINE int rg_vany(rg_vt t) { return t > 0; }
RG_INLINE rg_vm rg_vlive(rg_vt t) { return vcltq_u32(rg_iota(), vdupq_n_u32((uint32_t)t)); }

/* The t first elements at p, +0.0 beyond; stores the t first lanes. */
RG_INLINE rg_vf rg_vload(const float *p, rg_vt t) {
  if (t >= RG_VL) return vld1q_f32(p);
  float b[RG_VL] = {0.0f, 0.0f, 0.0f, 0.0f};
  memcpy(b, p, (size_t)t * sizeof *b);
  return vld1q_f32(b);
}
RG_INLINE void rg_vstore(float *p, rg_vf v, rg_vt t) {
  if (t >= RG_VL) {
    vst1q_f32(p, v);
    return;
  }
  float b[RG_VL];
  vst1q_f32(b, v);
  memcpy(p, b, (size_t)t * sizeof *b);
}

RG_INLINE rg_vf rg_vset(float x) { return vdupq_n_f32(x); }
/* vfmaq_f32(c, a, b) is fma(a, b, c); vfmsq_f32(c, a, b) is fma(-a, b, c). */
RG_INLINE rg_vf rg_vfma(rg_vf a, rg_vf b, rg_vf c) { return vfmaq_f32(c, a, b); }
RG_INLINE rg_vf rg_vfnma(rg_vf a, rg_vf b, rg_vf c) { return vfmsq_f32(c, a, b); }
RG_INLINE rg_vf rg_vsqrt(rg_vf a) { return vsqrtq_f32(a); }
RG_INLINE rg_vf rg_vabs(rg_vf x) { return vabsq_f32(x); }
RG_INLINE rg_vf rg_vcopysign(rg_vf mag, rg_vf sgn) {
  return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, mag);
}
/* copysign(mag, sgn) for a mag whose sign bit is clear (or a NaN). */
RG_INLINE rg_vf rg_vsetsign(rg_vf mag, rg_vf sgn) { return rg_vcopysign(mag, sgn); }

/* Ordered, quiet: false when either side is NaN, like C's comparisons. */
RG_INLINE rg_vm rg_vlt(rg_vf a, rg_vf b) { return vcltq_f32(a, b); }
RG_INLINE rg_vm rg_vgt(rg_vf a, rg_vf b) { return vcgtq_f32(a, b); }
RG_INLINE rg_vm rg_vle(rg_vf a, rg_vf b) { return vcleq_f32(a, b); }
RG_INLINE rg_vm rg_vge(rg_vf a, rg_vf b) { return vcgeq_f32(a, b); }
RG_INLINE rg_vm rg_veq(rg_vf a, rg_vf b) { return vceqq_f32(a, b); }
RG_INLINE rg_vm rg_vand(rg_vm a, rg_vm b) { return vandq_u32(a, b); }
RG_INLINE int rg_vcount(rg_vm m) { return (int)vaddvq_u32(vshrq_n_u32(m, 31)); }
/* Only lane d, none when d is outside 0 .. 3. */
RG_INLINE rg_vm rg_vlane_is(int64_t d) {
  return vceqq_u32(rg_iota(), vdupq_n_u32(d >= 0 && d < RG_VL ? (uint32_t)d : RG_VL));
}

/* m ? a : b; (a > b) ? a : b; (a < b) ? a : b. */
RG_INLINE rg_vf rg_vsel(rg_vm m, rg_vf a, rg_vf b) { return vbslq_f32(m, a, b); }
RG_INLINE rg_vf rg_vmax(rg_vf a, rg_vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
RG_INLINE rg_vf rg_vmin(rg_vf a, rg_vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }

/* The halving trees inside one register (lane[i] with lane[i + w] for
 * w = 2, 1), lane 0 returned: sums, and max as (upper > lower) ? upper :
 * lower. */
RG_INLINE float rg_vhsum(rg_vf v) {
  v = vaddq_f32(v, vextq_f32(v, v, 2));
  v = vaddq_f32(v, vextq_f32(v, v, 1));
  return vgetq_lane_f32(v, 0);
}
RG_INLINE float rg_vhmax(rg_vf v) {
  v = rg_vmax(vextq_f32(v, v, 2), v);
  v = rg_vmax(vextq_f32(v, v, 1), v);
  return vgetq_lane_f32(v, 0);
}

/* Doubles, for the sums of squares: block q of the lane walker (elements
 * 4q .. 4q + 3 of a row of 64) lands in double lanes 4q % 32 on, that is
 * sq[2q % 16] for its low pair and the next one for its high pair. */
RG_INLINE rg_vd rg_vdzero(void) { return vdupq_n_f64(0.0); }
RG_INLINE rg_vd rg_vdadd(rg_vd a, rg_vd b) { return vaddq_f64(a, b); }
RG_INLINE double rg_vdhsum(rg_vd v) { return vgetq_lane_f64(v, 0) + vgetq_lane_f64(v, 1); }
RG_INLINE void rg_vsq_add(rg_vd *sq, int q, const float *p, rg_vt t) {
  float32x4_t x = rg_vload(p, t);
  float64x2_t lo = vcvt_f64_f32(vget_low_f32(x)), hi = vcvt_high_f64_f32(x);
  int a = (2 * q) % (RG_SQ_LANES / RG_VDL);
  sq[a] = vfmaq_f64(sq[a], lo, lo);
  sq[a + 1] = vfmaq_f64(sq[a + 1], hi, hi);
}

/* Unsigned 32-bit lanes: the bits of |x| (whose unsigned order is the order
 * of |x|, NaN above inf) and their maximum. */
RG_INLINE rg_vu rg_vuzero(void) { return vdupq_n_u32(0); }
RG_INLINE rg_vu rg_vabsbits(rg_vf x) { return vreinterpretq_u32_f32(vabsq_f32(x)); }
RG_INLINE rg_vu rg_vumax(rg_vu a, rg_vu b) { return vmaxq_u32(a, b); }
RG_INLINE uint32_t rg_vuhmax(rg_vu v) { return vmaxvq_u32(v); }
/* Lane 0, as a float. */
RG_INLINE float rg_vlane0(rg_vf v) { return vgetq_lane_f32(v, 0); }
/* The floats whose bits these are. */
RG_INLINE rg_vf rg_vfloat_bits(rg_vu u) { return vreinterpretq_f32_u32(u); }

#include "algo/vops.h"
#endif
