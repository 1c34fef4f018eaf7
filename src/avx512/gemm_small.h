/* The AVX-512 GEMM for one to four rows of C (batch-1 inference, GEMV-like
 * shapes), for src/avx512/gemm.c only. A 14-row tile would keep just 2 to 8
 * of its accumulators busy on so few rows; here a row's accumulators span up
 * to 256 columns, and k is not blocked: every element is one chain of FMAs
 * over k = 0 .. k-1 from its starting value, in registers. B is read once,
 * so it is not packed: rows of B [k, n] are loaded as they are, rows of B
 * stored [n, k] are transposed on the fly, four k-steps at a time
 * (load_t16x4). */
#ifndef RG_AVX512_GEMM_SMALL_H
#define RG_AVX512_GEMM_SMALL_H

#include "gemm_pack.h"

#define SMALL_M 4  /* up to this many rows take this path */
#define SMALL_V 16 /* at most this many groups of 16 columns per block */

/* q <= 4 k-steps from p of B stored [n, k] (row j at b + j * ldb, nc rows
 * left) into the accumulators of mr rows and v groups of 16 columns. */
RG_INLINE void small_t4(int mr, int v, int full, int q, int64_t p, const float *a, int64_t ars,
                        int64_t acs, const float *b, int64_t ldb, int64_t nc,
                        __m512 acc[][SMALL_V]) {
  RG_UNROLL for (int g = 0; g < v; g++) {
    if (!full && nc <= RG_VL * g) break;
    __m512 bt[4];
    load_t16x4(opaque(b + RG_VL * g * ldb) + p, ldb, full ? RG_VL : nc - RG_VL * g, q, bt);
    RG_UNROLL for (int u = 0; u < q; u++) RG_UNROLL for (int r = 0; r < mr; r++)
      acc[r][g] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * ars + (p + u) * acs]), bt[u], acc[r][g]);
  }
}

/* C rows [0, mr) x columns [0, 16 v) with v groups (compile-time), of which
 * the first nc are real (all of them when full). op(A)(i, p) =
 * a[i * ars + p * acs]; op(B) is B [k, n] at b (ldb) or, when tb, B stored
 * [n, k]. */
RG_INLINE void small_block(int mr, int v, int full, int64_t k, int tb, const float *a,
                           int64_t ars, int64_t acs, const float *b, int64_t ldb, float *c,
                           int64_t ldc, int64_t nc, int load_c) {
  if (full) nc = RG_VL * v; /* a compile-time constant: no tests in the loops */
  __m512 acc[SMALL_M][SMALL_V];
  __mmask16 mask[SMALL_V];
  int64_t off[SMALL_V]; /* group g's first column, or 0 past nc: no pointer past the end */
  RG_UNROLL for (int g = 0; g < v; g++) {
    mask[g] = rg_vtail(nc - RG_VL * g);
    off[g] = RG_VL * g < nc ? RG_VL * g : 0;
  }
  RG_UNROLL for (int r = 0; r < mr; r++) RG_UNROLL for (int g = 0; g < v; g++)
    acc[r][g] = load_c ? rg_vload_m(c + r * ldc + off[g], mask[g]) : rg_vzero();
  int64_t p = 0;
  if (tb) {
    /* Four k-steps at a time. (Unrolling to a whole cache line of each row,
     * 16 steps, ran 13-23% faster on one to two rows but tripled the code,
     * and inference has rg_predictor's NN path; not worth it.) */
    for (; p + 4 <= k; p += 4) small_t4(mr, v, full, 4, p, a, ars, acs, b, ldb, nc, acc);
    if (p < k) small_t4(mr, v, full, (int)(k - p), p, a, ars, acs, b, ldb, nc, acc);
  } else {
    for (; p < k; p++) {
      __m512 bv[SMALL_V];
      RG_UNROLL for (int g = 0; g < v; g++) bv[g] = rg_vload_m(b + p * ldb + off[g], mask[g]);
      RG_UNROLL for (int r = 0; r < mr; r++) {
        __m512 av = _mm512_set1_ps(a[r * ars + p * acs]);
        RG_UNROLL for (int g = 0; g < v; g++) acc[r][g] = _mm512_fmadd_ps(av, bv[g], acc[r][g]);
      }
    }
  }
  RG_UNROLL for (int r = 0; r < mr; r++) RG_UNROLL for (int g = 0; g < v; g++)
    if (mask[g]) rg_vstore_m(c + r * ldc + off[g], acc[r][g], mask[g]);
}

/* All n columns of mr rows, in blocks of v groups of 16 columns, the rest in
 * blocks of 2 groups. */
RG_INLINE void small_rows(int mr, int v, int64_t n, int64_t k, int tb, const float *a,
                          int64_t ars, int64_t acs, const float *b, int64_t ldb, float *c,
                          int64_t ldc, int load_c) {
  int64_t j = 0, js = tb ? ldb : 1; /* B's step from one column to the next */
  for (; j + RG_VL * v <= n; j += RG_VL * v)
    small_block(mr, v, 1, k, tb, a, ars, acs, b + j * js, ldb, c + j, ldc, n - j, load_c);
  for (; j < n; j += 2 * RG_VL)
    small_block(mr, 2, 0, k, tb, a, ars, acs, b + j * js, ldb, c + j, ldc, n - j, load_c);
}

/* B stored [n, k] (tb): the transposes keep the shuffle port busy, so a few
 * groups (enough independent FMA chains) suffice; B [k, n]: one vector load
 * per FMA on a single row, so many groups: long contiguous rows of B. */
static void gemm_small(int64_t m, int64_t n, int64_t k, int tb, const float *a, int64_t ars,
                       int64_t acs, const float *b, int64_t ldb, float *c, int64_t ldc,
                       int load_c) {
#define SMALL_CASE(mr, vt, vn)                                              \
  if (tb) small_rows(mr, vt, n, k, 1, a, ars, acs, b, ldb, c, ldc, load_c); \
  else small_rows(mr, vn, n, k, 0, a, ars, acs, b, ldb, c, ldc, load_c);
  if (m == 1) {
    SMALL_CASE(1, 2, 16)
  } else if (m == 2) {
    SMALL_CASE(2, 4, 8)
  } else if (m == 3) {
    SMALL_CASE(3, 2, 8)
  } else {
    SMALL_CASE(4, 2, 4)
  }
#undef SMALL_CASE
}
#endif
