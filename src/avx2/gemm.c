/* AVX2 GEMM: C = (acc ? C : 0) + op(A) op(B), each element accumulated over
 * k in order with FMA from that starting value, as scalar/gemm.c.
 *
 * Register blocking: a 6 x 16 tile of C lives in 12 ymm accumulators; each
 * step p broadcasts op(A)(i, p) for 6 rows and loads one 16-wide row of
 * op(B). Loops: k-blocks of KC (outermost: between blocks the partial sums
 * go back to C and are reloaded, which keeps every element's FMA chain in k
 * order) -> blocks of MC rows, packed (gemm_pack.h) when several strips
 * reuse them -> 16-column strips of B, packed into L1 -> 6-row tiles. One to
 * three rows take gemm_small.h instead. Only the loop order and the memory
 * layout change between shapes; the sum of every element is the same chain
 * of FMAs. Kernels never allocate: the packing buffers are on the stack
 * (148 KiB; glibc gives every thread megabytes). The epilogue (bias and
 * activation, src/gemm_epilogue.h) works on one strip's block of C. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "gemm_epilogue.h"
#include "gemm_pack.h"
#include "gemm_small.h"

/* One tile of mr (compile-time) rows and nc <= 16 columns over kc steps:
 * op(A)(i, p) = a[i * ars + p * acs], op(B)(p, jj) = b[p * bs + jj]. Starts
 * from C when load_c, else from +0.0. */
RG_INLINE void tile(int mr, int64_t kc, const float *a, int64_t ars, int64_t acs, const float *b,
                    int64_t bs, float *c, int64_t ldc, int64_t nc, int load_c) {
  __m256 acc[MR][2];
  __m256i m0 = rg_mask(nc), m1 = rg_mask(nc - RG_W);
  int part = nc < NR;
  RG_UNROLL for (int r = 0; r < mr; r++) {
    acc[r][0] = load_c ? rg_ld(c + r * ldc, m0, part) : rg_zero();
    acc[r][1] = load_c ? rg_ld(c + r * ldc + RG_W, m1, part) : rg_zero();
  }
  for (int64_t p = 0; p < kc; p++, a += acs, b += bs) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + RG_W);
    RG_UNROLL for (int r = 0; r < mr; r++) {
      __m256 av = _mm256_broadcast_ss(a + r * ars);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  RG_UNROLL for (int r = 0; r < mr; r++) {
    if (!part) {
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + RG_W, acc[r][1]);
    } else {
      store_first(c + r * ldc, acc[r][0], nc);
      if (nc > RG_W) store_first(c + r * ldc + RG_W, acc[r][1], nc - RG_W);
    }
  }
}

/* The row count as a compile-time constant, so each tile keeps exactly
 * 2 mr accumulators in registers; packed A has constant strides too. */
#define TILE_SWITCH(ars, acs)                                         \
  switch (mr) {                                                       \
    case 6: tile(6, kc, a, ars, acs, b, bs, c, ldc, nc, load_c); break; \
    case 5: tile(5, kc, a, ars, acs, b, bs, c, ldc, nc, load_c); break; \
    case 4: tile(4, kc, a, ars, acs, b, bs, c, ldc, nc, load_c); break; \
    case 3: tile(3, kc, a, ars, acs, b, bs, c, ldc, nc, load_c); break; \
    case 2: tile(2, kc, a, ars, acs, b, bs, c, ldc, nc, load_c); break; \
    default: tile(1, kc, a, ars, acs, b, bs, c, ldc, nc, load_c); break; \
  }

static void tile_packed(int mr, int64_t kc, const float *a, const float *b, int64_t bs, float *c,
                        int64_t ldc, int64_t nc, int load_c) {
  TILE_SWITCH(1, MR)
}

static void tile_strided(int mr, int64_t kc, const float *a, int64_t ars, int64_t acs,
                         const float *b, int64_t bs, float *c, int64_t ldc, int64_t nc,
                         int load_c) {
  TILE_SWITCH(ars, acs)
}

void rg_gemm__avx2(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                   int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                   const struct rg_epilogue *ep) {
  if (rg_gemm_degenerate(m, n, k, acc, ep, c, ldc)) return;
  int64_t ars = ta ? 1 : lda, acs = ta ? lda : 1;
  if (m <= SMALL_M) { /* at most three rows of C: the epilogue's block is all of them */
    rg_epi_start(ep, 0, m, n, c, ldc);
    gemm_small(m, n, k, tb, a, ars, acs, b, ldb, c, ldc, rg_epi_loads(ep, acc));
    rg_epi_finish(ep, m, n, c, ldc);
    return;
  }
  _Alignas(32) float strip[KC * NR];
  _Alignas(32) float ablock[MC * KC + RG_W]; /* + the packing slack */
  /* A block is packed when more than two strips reuse it: A^T by plain
   * copies; A [m, k] by transposes, which pay off only on larger blocks
   * (measured: small m or k read A in place 2-5% faster). */
  int packed_a = n > 2 * NR && (ta || (m >= 64 && k >= 64));
  /* Row blocks of equal size (rounded up to whole tiles), at most MC. */
  int64_t nblocks = (m + MC - 1) / MC;
  int64_t mblock = ((m + nblocks - 1) / nblocks + MR - 1) / MR * MR;
  for (int64_t k0 = 0; k0 < k; k0 += KC) {
    int64_t kc = (k - k0 < KC) ? k - k0 : KC;
    int load_c = rg_epi_loads(ep, acc) || k0 > 0, last = k0 + kc == k;
    for (int64_t i0 = 0; i0 < m; i0 += mblock) {
      int64_t mb = (m - i0 < mblock) ? m - i0 : mblock;
      const float *ai = a + i0 * ars + k0 * acs;
      if (packed_a) pack_a(mb, kc, ta, ai, lda, ablock);
      for (int64_t j = 0; j < n; j += NR) {
        int64_t nc = (n - j < NR) ? n - j : NR, bs = NR;
        const float *bp = strip;
        if (tb)
          pack_bt(kc, nc, b + j * ldb + k0, ldb, strip);
        else if (nc < NR || mb > MR) /* partial, or reused by several tiles */
          pack_b(kc, nc, b + k0 * ldb + j, ldb, strip);
        else
          bp = b + k0 * ldb + j, bs = ldb;
        float *cb = c + i0 * ldc + j; /* this strip's block of C */
        if (k0 == 0) rg_epi_start(ep, j, mb, nc, cb, ldc);
        for (int64_t i = 0; i < mb; i += MR) {
          int mr = (mb - i < MR) ? (int)(mb - i) : MR;
          float *ci = cb + i * ldc;
          if (packed_a)
            tile_packed(mr, kc, ablock + i * kc, bp, bs, ci, ldc, nc, load_c);
          else
            tile_strided(mr, kc, ai + i * ars, ars, acs, bp, bs, ci, ldc, nc, load_c);
        }
        if (last) rg_epi_finish(ep, mb, nc, cb, ldc);
      }
    }
  }
}
