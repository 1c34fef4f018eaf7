/* The path choice of the gemm bodies of src/avx2 and src/avx512, which
 * choose among three paths alike: rg_gemm__avx2 and rg_gemm__avx512 call
 * it. Included at the end of src/<isa>/gemm.c, after the ISA has defined
 * the paths, with op(A)(i, p) at a[i * ars + p * acs]:
 *   gemm_small(m, n, k, tb, a, ars, acs, b, ldb, c, ldc, load) for at most
 *   SMALL_M rows, and gemm_narrow(m, n, k, ta, tb, a, ars, acs, b, ldb, c,
 *   ldc, load) for at most NARROW_N columns of at least NARROW_M rows: they
 *   take C whole, starting from C when load, else from +0, and this body
 *   applies the epilogue around them;
 *   gemm_blocked(m, n, k, ta, tb, a, ars, acs, b, ldb, c, ldc, acc, ep) for
 *   every other shape, which applies the epilogue block by block itself. */
#ifndef RG_GEMM_PATHS_H
#define RG_GEMM_PATHS_H

RG_INLINE void rg_gemm_paths(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                              int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                              int acc, const struct rg_epilogue *ep) {
  if (rg_gemm_degenerate(m, n, k, acc, ep, c, ldc)) return;
  int64_t ars = ta ? 1 : lda, acs = ta ? lda : 1;
  int small = m <= SMALL_M, narrow = n <= NARROW_N && m >= NARROW_M;
  if (!small && !narrow) {
    gemm_blocked(m, n, k, ta, tb, a, ars, acs, b, ldb, c, ldc, acc, ep);
    return;
  }
  rg_epi_start(ep, 0, m, n, c, ldc);
  if (small) gemm_small(m, n, k, tb, a, ars, acs, b, ldb, c, ldc, rg_epi_loads(ep, acc));
  else gemm_narrow(m, n, k, ta, tb, a, ars, acs, b, ldb, c, ldc, rg_epi_loads(ep, acc));
  rg_epi_finish(ep, m, n, c, ldc);
}

#endif
