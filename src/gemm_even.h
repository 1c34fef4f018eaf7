/* The cases of a switch over (count + 1) / 2 that call CALL(c) with c the
 * even compile-time constant covering count, 1 <= count <= 12: a GEMM tile
 * is compiled once per even size, its loops unrolled and its accumulators in
 * registers, and computes at most one row or column in vain. Shared by the
 * AVX2 and AVX-512 tiles; an ISA with taller tiles adds its own cases first. */
#ifndef RG_GEMM_EVEN_H
#define RG_GEMM_EVEN_H

#define RG_EVEN_CASES_12(CALL) \
  case 6: CALL(12); break;     \
  case 5: CALL(10); break;     \
  case 4: CALL(8); break;      \
  case 3: CALL(6); break;      \
  case 2: CALL(4); break;      \
  default: CALL(2); break;

#endif
