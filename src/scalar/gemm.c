/* Scalar reference GEMM: C[i][j] = act(s) with s = start + sum_k A(i,k) B(k,j),
 * accumulated over k = 0..K-1 in order with fmaf from start = bias[j] (with
 * an epilogue that has a bias), else C[i][j] (acc), else 0. op(A) is A [m,k]
 * (lda >= k) or, when ta, A stored as [k,m] (lda >= m); likewise op(B) is
 * B [k,n] (ldb >= n) or, when tb, B stored as [n,k] (ldb >= k). act is the
 * epilogue's activation (none without one). */
#define RG_ISA scalar
#include "isa.h"
#include "gemm_epilogue.h"

void rg_gemm__scalar(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                     const struct rg_epilogue *ep) {
  rg_epi_start(ep, 0, m, n, c, ldc);
  acc = rg_epi_loads(ep, acc);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      float s = acc ? c[i * ldc + j] : 0.0f;
      for (int64_t p = 0; p < k; p++) {
        float av = ta ? a[p * lda + i] : a[i * lda + p];
        float bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        s = fmaf(av, bv, s);
      }
      c[i * ldc + j] = s;
    }
  rg_epi_finish(ep, m, n, c, ldc);
}
