/* AVX2 GEMM: C = (acc ? C : 0) + op(A) op(B), each element accumulated over
 * k in order with FMA from that starting value, as scalar/gemm.c.
 *
 * Register blocking: a 6 x 16 tile of C lives in 12 ymm accumulators; each
 * step p broadcasts op(A)(i, p) for 6 rows and loads one 16-wide row of
 * op(B). Loops: blocks of at most NC columns (so that what one k-block
 * reads of B stays in L2) -> k-blocks of KC (between them the partial sums
 * go back to C and are reloaded, which keeps every element's FMA chain in k
 * order) -> blocks of MC rows, packed (gemm_pack.h) when several strips
 * reuse them -> 16-column strips of B, packed into L1 -> 6-row tiles. One to
 * three rows take gemm_small.h instead, and at most 12 columns of at least
 * 7 rows gemm_narrow.h (the choice: src/gemm_paths.h). Only the loop order and the memory layout change
 * between shapes; the sum of every element is the same chain of FMAs.
 * Kernels never allocate: the packing buffers are on the stack (the
 * blocked loops 148 KiB; the narrow path 17 KiB, on its own frame; glibc
 * gives every thread megabytes). The epilogue (src/gemm_epilogue.h): the
 * bias is the starting value of the first k-block's accumulators, the
 * activation runs over one strip's block of C after its last k-block. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "gemm_epilogue.h"
#include "gemm_even.h"
#include "gemm_pack.h"
#include "gemm_narrow.h"
#include "gemm_small.h"

/* One tile of mr (compile-time) rows and nc <= 16 columns over kc steps:
 * op(A)(i, p) = a[i * ars + p * acs], op(B)(p, jj) = b[p * bs + jj]. Starts
 * from C when load_c, else from the bias row when there is one (the same
 * for every row), else from +0.0. */
RG_INLINE void tile(int mr, int64_t kc, const float *a, int64_t ars, int64_t acs, const float *b,
                    int64_t bs, float *c, int64_t ldc, int64_t nc, int load_c,
                    const float *bias) {
  __m256 acc[MR][2];
  __m256i m0 = rg_vlive(rg_vtail(nc)), m1 = rg_vlive(rg_vtail(nc - RG_VL));
  int part = nc < NR;
  __m256 start0 = bias ? load_part(bias, m0, part) : rg_vzero();
  __m256 start1 = bias ? load_part(bias + RG_VL, m1, part) : rg_vzero();
  RG_UNROLL for (int r = 0; r < mr; r++) {
    acc[r][0] = load_c ? load_part(c + r * ldc, m0, part) : start0;
    acc[r][1] = load_c ? load_part(c + r * ldc + RG_VL, m1, part) : start1;
  }
  for (int64_t p = 0; p < kc; p++, a += acs, b += bs) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + RG_VL);
    RG_UNROLL for (int r = 0; r < mr; r++) {
      __m256 av = _mm256_broadcast_ss(a + r * ars);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  RG_UNROLL for (int r = 0; r < mr; r++) {
    if (!part) {
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + RG_VL, acc[r][1]);
    } else {
      store_first(c + r * ldc, acc[r][0], nc);
      if (nc > RG_VL) store_first(c + r * ldc + RG_VL, acc[r][1], nc - RG_VL);
    }
  }
}

/* The first min(rows, MR) rows of a tile's block of C at c into L1: each
 * row's 16 floats span two cache lines unless C is 64-byte aligned. The
 * addresses come from opaque() pointers, here and at the calls, so that
 * they do not become pointers of their own that the loop over tiles keeps
 * up to date on the stack (measured where a tile is short, 128 x 256 x 10:
 * 3% slower than without the prefetch code, 1.5% with opaque()). */
RG_INLINE void prefetch_tile_c(const float *c, int64_t rows, int64_t ldc) {
  for (int64_t r = 0; r < rows && r < MR; r++, c = opaque(c + ldc)) {
    _mm_prefetch((const char *)c, _MM_HINT_T0);
    _mm_prefetch((const char *)(c + NR - 1), _MM_HINT_T0);
  }
}

/* The row count as a compile-time constant, so each tile keeps exactly
 * 2 mr accumulators in registers; packed A has constant strides too. */
#define TILE_SWITCH(ars, acs)                                                 \
  switch (mr) {                                                               \
    case 6: tile(6, kc, a, ars, acs, b, bs, c, ldc, nc, load_c, bias); break; \
    case 5: tile(5, kc, a, ars, acs, b, bs, c, ldc, nc, load_c, bias); break; \
    case 4: tile(4, kc, a, ars, acs, b, bs, c, ldc, nc, load_c, bias); break; \
    case 3: tile(3, kc, a, ars, acs, b, bs, c, ldc, nc, load_c, bias); break; \
    case 2: tile(2, kc, a, ars, acs, b, bs, c, ldc, nc, load_c, bias); break; \
    default: tile(1, kc, a, ars, acs, b, bs, c, ldc, nc, load_c, bias); break; \
  }

static void tile_packed(int mr, int64_t kc, const float *a, const float *b, int64_t bs, float *c,
                        int64_t ldc, int64_t nc, int load_c, const float *bias) {
  TILE_SWITCH(1, MR)
}

static void tile_strided(int mr, int64_t kc, const float *a, int64_t ars, int64_t acs,
                         const float *b, int64_t bs, float *c, int64_t ldc, int64_t nc,
                         int load_c, const float *bias) {
  TILE_SWITCH(ars, acs)
}

/* The blocked loops for every other shape. Not inlined: its packing
 * buffers stay off the stack of the other paths. */
__attribute__((noinline)) static void gemm_blocked(int64_t m, int64_t n, int64_t k, int ta,
                                                   int tb, const float *a, int64_t ars,
                                                   int64_t acs, const float *b, int64_t ldb,
                                                   float *c, int64_t ldc, int acc,
                                                   const struct rg_epilogue *ep) {
  int64_t lda = ta ? acs : ars; /* A as stored */
  _Alignas(32) float strip[KC * NR];
  _Alignas(32) float ablock[MC * KC + RG_VL]; /* + the packing slack */
  /* A block is packed when more than two strips reuse it: A^T by plain
   * copies; A [m, k] by transposes, which pay off only on larger blocks
   * (measured: small m or k read A in place 2-5% faster). */
  int packed_a = n > 2 * NR && (ta || (m >= 64 && k >= 64));
  /* Row blocks of equal size (rounded up to whole tiles), at most MC. */
  int64_t nblocks = (m + MC - 1) / MC;
  int64_t mblock = ((m + nblocks - 1) / nblocks + MR - 1) / MR * MR;
  /* Column blocks likewise, at most NC: the KC rows of B one k-block reads
   * stay in L2 while every row block reuses them (measured, 2048^3: 68 -> 72
   * GFLOP/s; NC 512: no better). */
  int64_t ncblocks = (n + NC - 1) / NC;
  int64_t nblock = ((n + ncblocks - 1) / ncblocks + NR - 1) / NR * NR;
  int c_far = m * n > C_FAR;
  for (int64_t jb = 0; jb < n; jb += nblock) {
    int64_t nend = (n - jb < nblock) ? n : jb + nblock;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
      int64_t kc = (k - k0 < KC) ? k - k0 : KC;
      /* the first k-block starts from the bias (straight into the
       * accumulators, see the tile), or from C when accumulating */
      int load_c = k0 > 0 || (acc && !rg_epi_bias(ep, 0)), last = k0 + kc == k;
      /* C from memory: before each tile, the next tile's block of C is
       * prefetched, when the tiles read C, or only write it but are too short
       * for the store buffer to hide the misses (see C_FAR, C_SHORT_KC) */
      int prefetch_c = c_far && (load_c || kc < C_SHORT_KC);
      for (int64_t i0 = 0; i0 < m; i0 += mblock) {
        int64_t mb = (m - i0 < mblock) ? m - i0 : mblock;
        const float *ai = a + i0 * ars + k0 * acs;
        if (packed_a) pack_a(mb, kc, ta, ai, lda, ablock);
        for (int64_t j = jb; j < nend; j += NR) {
          int64_t nc = (nend - j < NR) ? nend - j : NR, bs = NR;
          const float *bp = strip;
          if (tb)
            pack_bt(kc, nc, b + j * ldb + k0, ldb, strip);
          else if (nc < NR || mb > MR) /* partial, or reused by several tiles */
            pack_b(kc, nc, b + k0 * ldb + j, ldb, strip);
          else
            bp = b + k0 * ldb + j, bs = ldb;
          float *cb = c + i0 * ldc + j; /* this strip's block of C */
          const float *bias = k0 == 0 ? rg_epi_bias(ep, j) : NULL;
          for (int64_t i = 0; i < mb; i += MR) {
            int mr = (mb - i < MR) ? (int)(mb - i) : MR;
            float *ci = cb + i * ldc;
            if (prefetch_c) { /* the next tile: below this one, or atop the next strip */
              if (i + MR < mb) prefetch_tile_c(opaque(ci) + MR * ldc, mb - i - MR, ldc);
              else if (j + NR < nend) prefetch_tile_c(opaque(cb) + NR, mb, ldc);
            }
            if (packed_a)
              tile_packed(mr, kc, ablock + i * kc, bp, bs, ci, ldc, nc, load_c, bias);
            else
              tile_strided(mr, kc, ai + i * ars, ars, acs, bp, bs, ci, ldc, nc, load_c, bias);
          }
          if (last) rg_epi_finish(ep, mb, nc, cb, ldc);
        }
      }
    }
  }
}

#include "gemm_paths.h"

void rg_gemm__avx2(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a, int64_t lda,
                   const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                   const struct rg_epilogue *ep) {
  rg_gemm_paths(m, n, k, ta, tb, a, lda, b, ldb, c, ldc, acc, ep);
}
