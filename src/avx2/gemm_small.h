/* The AVX2 GEMM for one to three rows of C (batch-1 inference, GEMV-like
 * shapes), for src/avx2/gemm.c only. The 6 x 16 tile of gemm.c would keep
 * just 2 or 4 FMA chains busy on so few rows, each waiting on the previous
 * step's result; here a row's accumulators span up to 64 columns, and k is
 * not blocked: every element is one chain of FMAs over k = 0 .. k-1 from its
 * starting value, in registers. B is read once, so it is not packed: rows of
 * B stored [n, k] are transposed on the fly, four k-steps at a time
 * (load_t8x4). */
#ifndef RG_AVX2_GEMM_SMALL_H
#define RG_AVX2_GEMM_SMALL_H

#include "gemm_pack.h"

#define SMALL_M 3 /* up to this many rows take this path */
#define SMALL_V 8 /* at most this many groups of 8 columns per block */

/* Four k-steps from p of B stored [n, k] into the accumulators of mr rows
 * and v groups of 8 columns. */
RG_INLINE void small_t4(int mr, int v, int full, int64_t p, const float *a, int64_t ars,
                        int64_t acs, const float *b, int64_t ldb, int64_t nc,
                        __m256 acc[][SMALL_V]) {
  const float *q = b + p; /* row 8 g */
  RG_UNROLL for (int g = 0; g < v; g++) {
    __m256 bt[4];
    load_t8x4(q, ldb, full ? RG_VL : nc - RG_VL * g, bt);
    q = opaque(q + RG_VL * ldb);
    RG_UNROLL for (int u = 0; u < 4; u++) RG_UNROLL for (int r = 0; r < mr; r++)
      acc[r][g] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * ars + (p + u) * acs), bt[u],
                                  acc[r][g]);
  }
}

/* C rows [0, mr) x columns [0, 8 v) with v = groups (compile-time), of
 * which the first nc are real. op(A)(i, p) = a[i * ars + p * acs]; op(B)
 * is B [k, n] at b (ldb) or, when tb, B stored [n, k]. */
RG_INLINE void small_block(int mr, int v, int full, int64_t k, int tb, const float *a,
                           int64_t ars, int64_t acs, const float *b, int64_t ldb, float *c,
                           int64_t ldc, int64_t nc, int load_c) {
  if (full) nc = RG_VL * v; /* a compile-time constant: no tests in the loops */
  __m256 acc[SMALL_M][SMALL_V];
  __m256i mask[SMALL_V];
  RG_UNROLL for (int g = 0; g < v; g++) mask[g] = rg_vlive(rg_vtail(nc - RG_VL * g));
  RG_UNROLL for (int r = 0; r < mr; r++) RG_UNROLL for (int g = 0; g < v; g++)
    acc[r][g] = load_c ? _mm256_maskload_ps(c + r * ldc + RG_VL * g, mask[g]) : rg_vzero();
  int64_t p = 0;
  if (tb) {
    for (; p + 16 <= k; p += 16) /* a cache line of each row, four k-steps at a time */
      RG_UNROLL for (int h = 0; h < 16; h += 4) small_t4(mr, v, full, p + h, a, ars, acs, b, ldb, nc, acc);
    for (; p + 4 <= k; p += 4) small_t4(mr, v, full, p, a, ars, acs, b, ldb, nc, acc);
    for (; p < k; p++) RG_UNROLL for (int g = 0; g < v; g++) {
        __m256 bt = load_t8x1(b + RG_VL * g * ldb + p, ldb, nc - RG_VL * g);
        RG_UNROLL for (int r = 0; r < mr; r++)
          acc[r][g] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * ars + p * acs), bt, acc[r][g]);
      }
  } else {
    for (; p < k; p++) {
      __m256 bv[SMALL_V];
      RG_UNROLL for (int g = 0; g < v; g++)
        bv[g] = load_part(b + p * ldb + RG_VL * g, mask[g], !full);
      RG_UNROLL for (int r = 0; r < mr; r++) {
        __m256 av = _mm256_broadcast_ss(a + r * ars + p * acs);
        RG_UNROLL for (int g = 0; g < v; g++) acc[r][g] = _mm256_fmadd_ps(av, bv[g], acc[r][g]);
      }
    }
  }
  RG_UNROLL for (int r = 0; r < mr; r++) RG_UNROLL for (int g = 0; g < v; g++)
    store_first(c + r * ldc + RG_VL * g, acc[r][g], nc - RG_VL * g);
}

/* All n columns of mr rows, in blocks of v groups of 8 columns, the rest in
 * blocks of 2 groups. B stored [n, k] (tb): v = 2, so only 16 rows of B
 * stream at once, which keeps power-of-two strides clear of L1 set
 * conflicts; with 8 shuffles per 32 values of B the shuffle and FMA ports
 * are the limit, not the 2 to 6 FMA chains. B [k, n]: no shuffles, so 8 or
 * more chains, mr v >= 8. */
#define SMALL_ROWS(mr, v)                                                                    \
  do {                                                                                       \
    int64_t j = 0;                                                                           \
    for (; j + RG_VL * (v) <= n; j += RG_VL * (v))                                             \
      small_block(mr, v, 1, k, tb, a, ars, acs, tb ? b + j * ldb : b + j, ldb, c + j, ldc,   \
                  n - j, load_c);                                                            \
    for (; j < n; j += 2 * RG_VL)                                                             \
      small_block(mr, 2, n - j >= 2 * RG_VL, k, tb, a, ars, acs, tb ? b + j * ldb : b + j,    \
                  ldb, c + j, ldc, n - j, load_c);                                           \
  } while (0)

static void gemm_small(int64_t m, int64_t n, int64_t k, int tb, const float *a, int64_t ars,
                       int64_t acs, const float *b, int64_t ldb, float *c, int64_t ldc,
                       int load_c) {
  if (tb && m == 1)
    SMALL_ROWS(1, 2);
  else if (tb && m == 2)
    SMALL_ROWS(2, 2);
  else if (tb)
    SMALL_ROWS(3, 2);
  else if (m == 1)
    SMALL_ROWS(1, 8);
  else if (m == 2)
    SMALL_ROWS(2, 4);
  else
    SMALL_ROWS(3, 3);
}
#endif
