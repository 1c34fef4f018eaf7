/* The part of the vector vocabulary that every ISA shares: included at the
 * end of each src/<isa>/vec.h, on top of that ISA's types and primitives.
 * rg_vf is a vector type of the compiler (or float in scalar), so + - * /
 * and unary minus are the IEEE operations lane by lane, never contracted
 * (-ffp-contract=off) and exact for the sign flip. docs/internals.md lists
 * the whole vocabulary. */
#ifndef RG_ALGO_VOPS_H
#define RG_ALGO_VOPS_H

#ifndef RG_VL
#error "include src/<isa>/vec.h, which includes this file"
#endif

RG_INLINE rg_vf rg_vzero(void) { return rg_vset(0.0f); }
RG_INLINE rg_vf rg_vadd(rg_vf a, rg_vf b) { return a + b; }
RG_INLINE rg_vf rg_vsub(rg_vf a, rg_vf b) { return a - b; }
RG_INLINE rg_vf rg_vmul(rg_vf a, rg_vf b) { return a * b; }
RG_INLINE rg_vf rg_vdiv(rg_vf a, rg_vf b) { return a / b; }
RG_INLINE rg_vf rg_vneg(rg_vf a) { return -a; }

/* m ? a : +0.0 */
RG_INLINE rg_vf rg_vkeep(rg_vm m, rg_vf a) { return rg_vsel(m, a, rg_vzero()); }

/* (x > 0) ? v : ((x < 0) ? -v : 0): sign(x) v with sign(0) = sign(NaN) = 0. */
RG_INLINE rg_vf rg_vsignsel(rg_vf x, rg_vf v) {
  return rg_vsel(rg_vgt(x, rg_vzero()), v, rg_vkeep(rg_vlt(x, rg_vzero()), rg_vneg(v)));
}

/* A block's update of an accumulator: the live lanes of fresh, the other
 * lanes of old (a full block takes fresh whole). */
RG_INLINE rg_vf rg_vmerge(rg_vt t, rg_vf old, rg_vf fresh) {
  return rg_vis_full(t) ? fresh : rg_vsel(rg_vlive(t), fresh, old);
}

/* The lanes of m that are among the live ones of t. */
RG_INLINE rg_vm rg_vlive_and(rg_vt t, rg_vm m) {
  return rg_vis_full(t) ? m : rg_vand(m, rg_vlive(t));
}

/* Accumulators of the RG_LANES float lanes and of the RG_SQ_LANES double
 * lanes of the long reductions (kernels.h). */
#define RG_NACC (RG_LANES / RG_VL)
#define RG_SQ_NACC (RG_SQ_LANES / RG_VDL)
_Static_assert(RG_NACC * RG_VL == RG_LANES, "whole registers hold the 64 lanes");
_Static_assert(RG_SQ_NACC * RG_VDL == RG_SQ_LANES, "whole registers hold the 32 lanes");

RG_INLINE float rg_bits_to_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
#endif
