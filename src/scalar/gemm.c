/* Scalar GEMM: C[i][j] = act(s) with s = start + sum_k A(i,k) B(k,j),
 * accumulated over k = 0..K-1 in order with fmaf from start = bias[j] (with
 * an epilogue that has a bias), else C[i][j] (acc), else 0. op(A) is A [m,k]
 * (lda >= k) or, when ta, A stored as [k,m] (lda >= m); likewise op(B) is
 * B [k,n] (ldb >= n) or, when tb, B stored as [n,k] (ldb >= k). act is the
 * epilogue's activation (none without one).
 *
 * The same structure as the vector bodies, in plain C: K in blocks of KC
 * (partial sums go through C between blocks, exact float stores and loads,
 * so each element's chain of fmaf stays in k order), blocks of MC rows of
 * op(A) packed into micro-panels of MR rows, strips of NR columns of op(B),
 * both zero-padded on the stack (src/gemm_ref_pack.h), and an MR x NR tile
 * of accumulators. The
 * bias is copied into C first and the activation runs over C last. */
#define RG_ISA scalar
#include "isa.h"
#include "gemm_epilogue.h"
#include "gemm_ref_pack.h"

#define MR 4
#define NR 4
#define KC 256
#define MC 64 /* rows of op(A) per packed block */
#define TILE_UNROLL _Pragma("GCC unroll 4")

/* The MR x NR tile at c (row stride ldc), its first mr rows and nr columns
 * stored: starts from c when load, else from +0, then adds ap[p][r] *
 * bp[p][j] for p = 0..kc-1 in order. */
static void tile(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int64_t mr,
                 int64_t nr, int load) {
  float t[MR][NR];
  TILE_UNROLL for (int r = 0; r < MR; r++) TILE_UNROLL for (int j = 0; j < NR; j++)
    t[r][j] = load && r < mr && j < nr ? c[r * ldc + j] : 0.0f;
  for (int64_t p = 0; p < kc; p++, ap += MR, bp += NR)
    TILE_UNROLL for (int r = 0; r < MR; r++) TILE_UNROLL for (int j = 0; j < NR; j++)
      t[r][j] = fmaf(ap[r], bp[j], t[r][j]);
  for (int64_t r = 0; r < mr; r++)
    for (int64_t j = 0; j < nr; j++) c[r * ldc + j] = t[r][j];
}

void rg_gemm__scalar(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                     const struct rg_epilogue *ep) {
  if (rg_gemm_degenerate(m, n, k, acc, ep, c, ldc)) return;
  float ablock[MC * KC], strip[KC * NR];
  rg_epi_start(ep, 0, m, n, c, ldc);
  for (int64_t p0 = 0; p0 < k; p0 += KC) {
    int64_t kc = k - p0 < KC ? k - p0 : KC;
    int load = rg_epi_loads(ep, acc) || p0 > 0;
    for (int64_t i0 = 0; i0 < m; i0 += MC) {
      int64_t mb = m - i0 < MC ? m - i0 : MC;
      for (int64_t i = 0; i < mb; i += MR)
        rg_ref_pack_a(mb - i < MR ? mb - i : MR, MR, kc, ta, a, lda, i0 + i, p0, ablock + i * kc);
      for (int64_t j0 = 0; j0 < n; j0 += NR) {
        int64_t nr = n - j0 < NR ? n - j0 : NR;
        for (int64_t p = 0; p < kc; p++)
          rg_ref_pack_b_row(nr, NR, tb, b, ldb, j0, p0, p, strip + p * NR);
        for (int64_t i = 0; i < mb; i += MR)
          tile(kc, ablock + i * kc, strip, c + (i0 + i) * ldc + j0, ldc,
               mb - i < MR ? mb - i : MR, nr, load);
      }
    }
  }
  rg_epi_finish(ep, m, n, c, ldc);
}
