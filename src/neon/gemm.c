/* NEON GEMM: C = (acc ? C : 0) + op(A) op(B), each element accumulated over
 * k in order with FMA from that starting value, as src/scalar/gemm.c. An
 * 8x12 register tile (24 accumulators) runs over panels of op(A) (KC x 8)
 * and op(B) (KC x 12) packed on the stack (src/gemm_ref_pack.h), zero-padded
 * at the edges; K is cut into blocks of KC, and a tile's partial sums go through C
 * (exact float stores and loads) between blocks, so the order over k stays
 * 0..K-1. Edge tiles compute into a stack tile and copy the valid part. The
 * epilogue (src/gemm_epilogue.h): the bias is the starting value of the
 * first k-block's accumulators, the activation runs over a finished tile. */
#define RG_ISA neon
#include "isa.h"
#include "vec.h"
#include "gemm_epilogue.h"
#include "gemm_ref_pack.h"

#define MR 8
#define NR 12
#define KC 256

/* bp[p][j] = op(B)(p0 + p, j0 + j) for j < nr, 0 beyond; full rows of B
 * [k, n] by vector copies. */
static void pack_b(int64_t nr, int64_t kc, int tb, const float *b, int64_t ldb, int64_t j0,
                   int64_t p0, float *bp) {
  for (int64_t p = 0; p < kc; p++) {
    float *row = bp + p * NR;
    if (!tb && nr == NR) {
      const float *src = b + (p0 + p) * ldb + j0;
      vst1q_f32(row, vld1q_f32(src));
      vst1q_f32(row + 4, vld1q_f32(src + 4));
      vst1q_f32(row + 8, vld1q_f32(src + 8));
    } else {
      rg_ref_pack_b_row(nr, NR, tb, b, ldb, j0, p0, p, row);
    }
  }
}

/* Row r of the tile: three accumulators c<r>0..c<r>2 over columns 0..11. */
#define ROW_DECL(r)                                                             \
  float32x4_t c##r##0 = load ? vld1q_f32(c + r * ldc) : s0;                     \
  float32x4_t c##r##1 = load ? vld1q_f32(c + r * ldc + 4) : s1;                 \
  float32x4_t c##r##2 = load ? vld1q_f32(c + r * ldc + 8) : s2
#define ROW_FMA(r, av, lane)                                                    \
  c##r##0 = vfmaq_laneq_f32(c##r##0, b0, av, lane);                             \
  c##r##1 = vfmaq_laneq_f32(c##r##1, b1, av, lane);                             \
  c##r##2 = vfmaq_laneq_f32(c##r##2, b2, av, lane)
#define ROW_STORE(r)                                                            \
  vst1q_f32(c + r * ldc, c##r##0);                                              \
  vst1q_f32(c + r * ldc + 4, c##r##1);                                          \
  vst1q_f32(c + r * ldc + 8, c##r##2)

/* The 8x12 tile at c (row stride ldc): starts from c when load, else from
 * the 12 values of the bias row when there is one, else from zero, then adds
 * ap[p][r] * bp[p][j] for p = 0..kc-1 in order. */
static void micro_8x12(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc,
                       int load, const float *bias) {
  const float32x4_t s0 = bias ? vld1q_f32(bias) : rg_vzero();
  const float32x4_t s1 = bias ? vld1q_f32(bias + 4) : rg_vzero();
  const float32x4_t s2 = bias ? vld1q_f32(bias + 8) : rg_vzero();
  ROW_DECL(0); ROW_DECL(1); ROW_DECL(2); ROW_DECL(3);
  ROW_DECL(4); ROW_DECL(5); ROW_DECL(6); ROW_DECL(7);
  for (int64_t p = 0; p < kc; p++, ap += MR, bp += NR) {
    float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8);
    float32x4_t a0 = vld1q_f32(ap), a1 = vld1q_f32(ap + 4);
    ROW_FMA(0, a0, 0); ROW_FMA(1, a0, 1); ROW_FMA(2, a0, 2); ROW_FMA(3, a0, 3);
    ROW_FMA(4, a1, 0); ROW_FMA(5, a1, 1); ROW_FMA(6, a1, 2); ROW_FMA(7, a1, 3);
  }
  ROW_STORE(0); ROW_STORE(1); ROW_STORE(2); ROW_STORE(3);
  ROW_STORE(4); ROW_STORE(5); ROW_STORE(6); ROW_STORE(7);
}

/* An mr x nr corner of C through a full stack tile (starting values as
 * micro_8x12's, the bias row holding nr values). */
static void micro_edge(int64_t mr, int64_t nr, int64_t kc, const float *ap, const float *bp,
                       float *c, int64_t ldc, int load, const float *bias) {
  float t[MR * NR] = {0};
  for (int64_t r = 0; r < mr && (load || bias); r++)
    memcpy(t + r * NR, load ? c + r * ldc : bias, (size_t)nr * sizeof *t);
  micro_8x12(kc, ap, bp, t, NR, 1, NULL);
  for (int64_t r = 0; r < mr; r++) memcpy(c + r * ldc, t + r * NR, (size_t)nr * sizeof *t);
}

void rg_gemm__neon(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                   int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                   const struct rg_epilogue *ep) {
  if (rg_gemm_degenerate(m, n, k, acc, ep, c, ldc)) return;
  float ap[KC * MR], bp[KC * NR];
  for (int64_t p0 = 0; p0 < k; p0 += KC) {
    const int64_t kc = k - p0 < KC ? k - p0 : KC;
    /* the first k-block starts from the bias (straight into the
     * accumulators), or from C when accumulating */
    const int load = p0 > 0 || (acc && !rg_epi_bias(ep, 0)), last = p0 + kc == k;
    for (int64_t j0 = 0; j0 < n; j0 += NR) {
      const int64_t nr = n - j0 < NR ? n - j0 : NR;
      pack_b(nr, kc, tb, b, ldb, j0, p0, bp);
      for (int64_t i0 = 0; i0 < m; i0 += MR) {
        const int64_t mr = m - i0 < MR ? m - i0 : MR;
        rg_ref_pack_a(mr, MR, kc, ta, a, lda, i0, p0, ap);
        float *ct = c + i0 * ldc + j0;
        const float *bias = p0 == 0 ? rg_epi_bias(ep, j0) : NULL;
        if (mr == MR && nr == NR)
          micro_8x12(kc, ap, bp, ct, ldc, load, bias);
        else
          micro_edge(mr, nr, kc, ap, bp, ct, ldc, load, bias);
        if (last) rg_epi_finish(ep, mr, nr, ct, ldc);
      }
    }
  }
}
