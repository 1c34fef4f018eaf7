/* AVX-512 GEMM: C = (acc ? C : 0) + op(A) op(B), each element accumulated
 * over k in order with FMA from that starting value, as scalar/gemm.c.
 *
 * Register blocking: a tile of up to 14 x 32 of C lives in up to 28 zmm
 * accumulators; each step p broadcasts op(A)(i, p) for each row and loads
 * one 32-wide row of op(B). Loops: blocks of at most NC columns (so that
 * what one k-block reads of B stays in L2) -> k-blocks of at most KC
 * (between them the partial sums go back to C and are reloaded, which
 * keeps every element's FMA chain in k order) -> blocks of at most MC rows,
 * packed (gemm_pack.h) when several strips reuse them -> 32-column strips of
 * B, packed into L1 when several tiles reuse them or B must be transposed ->
 * tiles of up to 14 rows. One to four rows take gemm_small.h instead, and
 * at most 12 columns of at least 16 rows gemm_narrow.h (the choice:
 * src/gemm_paths.h). Only
 * the loop order and the memory layout change between shapes; the sum of
 * every element is the same chain of FMAs. Kernels never allocate: the
 * packing buffers are on the stack (the blocked loops KC * (10 MR + NR)
 * floats, 129 KiB; the narrow path 25 KiB, on its own frame). The
 * epilogue (src/gemm_epilogue.h): the bias is the starting value of the
 * first k-block's accumulators, the activation runs over one strip's block
 * of C after its last k-block. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "gemm_epilogue.h"
#include "gemm_even.h"
#include "gemm_pack.h"
#include "gemm_narrow.h"
#include "gemm_small.h"

/* Rows of the next strip of B [k, n] to bring into L2 while a tile runs:
 * row p at `at + p * ld` for p < rows, its first `lines` (1 or 2) lines of
 * 16 floats. Packing then reads L2, not memory: on the large squares the
 * strip's rows lie a matrix row apart, each in another page. */
struct prefetch {
  const float *at;
  int64_t ld, rows, lines;
  const float *c_at; /* the next tile's block of C (c_rows rows, ldc apart), or NULL */
  int64_t c_rows;
};

/* One k-step of a tile: acc[r][v] += op(A)(r, p) op(B)(p, vector v), with
 * op(A)(r, p) at ar[r][at] and op(B)'s row at b. */
RG_INLINE void kstep(const int rows, const int nv, const float *const *ar, int64_t at,
                     const float *b, const __mmask16 *kv, __m512 acc[][2]) {
  __m512 bv[2];
  RG_UNROLL for (int v = 0; v < nv; v++) bv[v] = rg_vload_m(b + v * RG_VL, kv[v]);
  RG_UNROLL for (int r = 0; r < rows; r++) {
    __m512 av = _mm512_set1_ps(ar[r][at]);
    RG_UNROLL for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
  }
}

/* One tile of `rows` (compile-time) x nv (compile-time) vectors over kc
 * steps: op(A)(r, p) = a[r * ars + p * acs], rows >= mr_read reading row
 * mr_read - 1 instead (computed, never stored: no read past A's end);
 * op(B)(p, 16 v + jj) = b[p * bs + 16 v + jj] under the mask of vector v.
 * The first mr rows are stored; the sums start from C when load, else from
 * the bias row when there is one (the same for every row), else +0. */
RG_INLINE void tile(const int rows, const int nv, int64_t kc, const float *a, int64_t ars,
                    int64_t acs, int64_t mr_read, const float *b, int64_t bs, float *c,
                    int64_t ldc, int64_t mr, __mmask16 k0, __mmask16 k1, int load,
                    const float *bias, const struct prefetch *pf) {
  __m512 acc[MR][2], start[2];
  const __mmask16 kv[2] = {k0, k1};
  const float *ar[MR];
  RG_UNROLL for (int r = 0; r < rows; r++) ar[r] = a + (r < mr_read ? r : mr_read - 1) * ars;
  RG_UNROLL for (int v = 0; v < nv; v++)
    start[v] = bias ? rg_vload_m(bias + v * RG_VL, kv[v]) : rg_vzero();
  RG_UNROLL for (int r = 0; r < rows; r++) RG_UNROLL for (int v = 0; v < nv; v++)
    acc[r][v] = (load && r < mr) ? rg_vload_m(c + r * ldc + v * RG_VL, kv[v]) : start[v];
  if (pf->c_at)
    for (int64_t r = 0; r < pf->c_rows; r++) {
      _mm_prefetch((const char *)(pf->c_at + r * ldc), _MM_HINT_T0);
      _mm_prefetch((const char *)(pf->c_at + r * ldc + RG_VL), _MM_HINT_T0);
    }
  /* the steps that also prefetch a row of the next strip of B into L2, then
   * the rest without the test (measured: +2 % on the MLP shapes, +4 % on
   * K = 10, against one loop testing p < pf->rows) */
  int64_t p = 0, ahead = min64(pf->rows, kc);
  for (; p < ahead; p++, b += bs) {
    _mm_prefetch((const char *)(pf->at + p * pf->ld), _MM_HINT_T1);
    if (pf->lines > 1) _mm_prefetch((const char *)(pf->at + p * pf->ld + RG_VL), _MM_HINT_T1);
    kstep(rows, nv, ar, p * acs, b, kv, acc);
  }
  for (; p < kc; p++, b += bs) kstep(rows, nv, ar, p * acs, b, kv, acc);
  RG_UNROLL for (int r = 0; r < rows; r++) if (r < mr)
    RG_UNROLL for (int v = 0; v < nv; v++) rg_vstore_m(c + r * ldc + v * RG_VL, acc[r][v], kv[v]);
}

/* The tile height as a compile-time constant, the even number of rows
 * that covers mr (at most one row computed in vain), and the vector count. */
#define TILE_SWITCH(call)  \
  switch ((mr + 1) / 2) {  \
    case 7: call(14); break; \
    RG_EVEN_CASES_12(call) \
  }
#define TILE_NV(rows, ars, acs, mr_read)                                                      \
  if (nc > RG_VL)                                                                              \
    tile(rows, 2, kc, a, ars, acs, mr_read, b, bs, c, ldc, mr, k0, k1, load, bias, pf);       \
  else                                                                                        \
    tile(rows, 1, kc, a, ars, acs, mr_read, b, bs, c, ldc, mr, k0, k1, load, bias, pf);

/* A packed into a micro-panel (rows past mr +0.0). */
static void tile_packed(int64_t mr, int64_t kc, const float *a, const float *b, int64_t bs,
                        float *c, int64_t ldc, int64_t nc, int load, const float *bias,
                        const struct prefetch *pf) {
  __mmask16 k0 = rg_vtail(nc), k1 = rg_vtail(nc - RG_VL);
#define PACKED(rows) TILE_NV(rows, 1, MR, rows)
  TILE_SWITCH(PACKED)
#undef PACKED
}

/* A read in place. */
static void tile_strided(int64_t mr, int64_t kc, const float *a, int64_t ars, int64_t acs,
                         const float *b, int64_t bs, float *c, int64_t ldc, int64_t nc,
                         int load, const float *bias, const struct prefetch *pf) {
  __mmask16 k0 = rg_vtail(nc), k1 = rg_vtail(nc - RG_VL);
#define STRIDED(rows) TILE_NV(rows, ars, acs, mr)
  TILE_SWITCH(STRIDED)
#undef STRIDED
}

/* The blocked loops for every other shape. Not inlined: its packing
 * buffers stay off the stack of the other paths. */
__attribute__((noinline)) static void gemm_blocked(int64_t m, int64_t n, int64_t k, int ta,
                                                   int tb, const float *a, int64_t ars,
                                                   int64_t acs, const float *b, int64_t ldb,
                                                   float *c, int64_t ldc, int acc,
                                                   const struct rg_epilogue *ep) {
  _Alignas(64) float ablock[MC_PANELS * MR * KC];
  _Alignas(64) float strip[KC * NR];
  /* A block is packed when more than two strips reuse it. */
  int packed_a = n > 2 * NR;
  /* k-blocks and row blocks of equal size; tiles of MR rows, the last one
   * smaller (measured: faster than equal tiles of an odd or smaller height) */
  int64_t kblock = cdiv(k, cdiv(k, KC));
  int64_t mblock = cdiv(m, cdiv(m, MC));
  /* column blocks of at most NC: the rows of B one k-block reads stay in L2
   * while every row block reuses them */
  int64_t nblock = NR * cdiv(cdiv(n, cdiv(n, NC)), NR);
  /* C larger than half of L2 comes from memory: each tile prefetches the next
   * tile's block of C (measured: 2048^3 0.90x OpenBLAS, was 0.76x; on small
   * C the prefetches only cost, K = 10 shapes lost 5%) */
  int c_far = m * n > C_FAR;
  for (int64_t jb = 0; jb < n; jb += nblock) {
    int64_t nend = min64(n, jb + nblock);
    for (int64_t p0 = 0; p0 < k; p0 += kblock) {
      int64_t kc = min64(kblock, k - p0);
      /* the first k-block starts from the bias (straight into the
       * accumulators: a copy into C first cost 6% of a step of the deep
       * net), or from C when accumulating */
      int load = p0 > 0 || (acc && !rg_epi_bias(ep, 0)), last = p0 + kc == k;
      for (int64_t i0 = 0; i0 < m; i0 += mblock) {
        int64_t mb = min64(mblock, m - i0);
        const float *ai = a + i0 * ars + p0 * acs;
        if (packed_a) pack_a(mb, kc, ta, ai, ars, acs, ablock);
        for (int64_t j0 = jb; j0 < nend; j0 += NR) {
          int64_t nc = min64(NR, nend - j0), bs = NR;
          const float *bp = strip;
          if (tb || mb > MR) /* transposed, or reused by several tiles */
            pack_b(nc, kc, tb, tb ? b + j0 * ldb + p0 : b + p0 * ldb + j0, ldb, strip);
          else
            bp = b + p0 * ldb + j0, bs = ldb;
          /* the first tile prefetches the next strip of B, when it will be copied */
          struct prefetch next = {b, ldb, 0, nend - j0 > NR + RG_VL ? 2 : 1, NULL, 0};
          if (!tb && mb > MR && j0 + NR < nend) next.at = b + p0 * ldb + j0 + NR, next.rows = kc;
          float *cb = c + i0 * ldc + j0; /* this strip's block of C */
          const float *bias = p0 == 0 ? rg_epi_bias(ep, j0) : NULL;
          for (int64_t i = 0; i < mb; i += MR, next.rows = 0) {
            int64_t mr = min64(MR, mb - i);
            float *ci = cb + i * ldc;
            if (!c_far) next.c_at = NULL;
            else if (i + MR < mb) next.c_at = ci + MR * ldc, next.c_rows = min64(MR, mb - i - MR);
            else if (j0 + NR < nend) next.c_at = cb + NR, next.c_rows = min64(MR, mb);
            else next.c_at = NULL;
            if (packed_a)
              tile_packed(mr, kc, ablock + i * kc, bp, bs, ci, ldc, nc, load, bias, &next);
            else
              tile_strided(mr, kc, ai + i * ars, ars, acs, bp, bs, ci, ldc, nc, load, bias,
                           &next);
          }
          if (last) rg_epi_finish(ep, mb, nc, cb, ldc);
        }
      }
    }
  }
}

#include "gemm_paths.h"

void rg_gemm__avx512(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                     const struct rg_epilogue *ep) {
  rg_gemm_paths(m, n, k, ta, tb, a, lda, b, ldb, c, ldc, acc, ep);
}
