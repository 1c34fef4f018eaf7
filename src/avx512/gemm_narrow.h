/* The AVX-512 GEMM for at most 12 columns of C (a classifier's 10 outputs),
 * for src/avx512/gemm.c only. The row-major tile puts 16 columns in a
 * vector, so 10 columns leave 6 lanes idle, and few rows leave few
 * accumulators; here the vectors run along m instead: lane t of accumulator
 * j holds C(i + t, j), one accumulator per column, 16 rows at a time. Step p
 * loads op(A)'s column p for those rows from a packed panel (transposed by
 * pack_t when A is [m, k]) and broadcasts op(B)(p, j) from a packed strip:
 * one load and up to 12 FMAs. k comes in blocks of at most KC, and between
 * blocks the partial sums go back to C, as in the main loop, so every
 * element is the same chain of FMAs over k in order from its starting
 * value. C moves in and out of the column accumulators through a 16 x 16
 * buffer on the stack. */
#ifndef RG_AVX512_GEMM_NARROW_H
#define RG_AVX512_GEMM_NARROW_H

#include "gemm_even.h"
#include "gemm_pack.h"

/* Up to NARROW_N columns and from NARROW_M rows take this path (measured
 * against the main loop, 1 thread: 128 x 10 x 256 NT 78 -> 83 GFLOP/s, NN
 * 78 -> 86, 32 x 10 x 256 NT 71 -> 84, TN 62 -> 93; the transposes of A
 * cost 38% of it. With 16 columns the main loop's vectors are full, and it
 * stays ahead: 128 x 16 x 784 NT 124 vs 98; on 10 rows too: 53 vs 48.) */
#define NARROW_N 12
#define NARROW_M 16

/* Rows [0, mr <= 16) x columns [0, n <= cols) of C over kc steps from the
 * packed panels: op(A)(t, p) = panel[p * RG_VL + t], op(B)(p, j) =
 * strip[p * RG_VL + j]. The sums start from C when load, else from +0. */
RG_INLINE void narrow_tile(const int cols, int64_t kc, const float *panel, const float *strip,
                           float *c, int64_t ldc, int64_t mr, int64_t n, int load) {
  _Alignas(64) float cols_buf[RG_VL * RG_VL]; /* column j of the tile at j * RG_VL */
  __m512 acc[RG_VL];
  if (load)
    for (int64_t t = 0; t < mr; t++)
      for (int64_t j = 0; j < n; j++) cols_buf[j * RG_VL + t] = c[t * ldc + j];
  RG_UNROLL for (int j = 0; j < cols; j++)
    acc[j] = load && j < n ? rg_vload_m(cols_buf + j * RG_VL, rg_vtail(mr)) : rg_vzero();
  for (int64_t p = 0; p < kc; p++, panel += RG_VL, strip += RG_VL) {
    __m512 av = _mm512_load_ps(panel);
    RG_UNROLL for (int j = 0; j < cols; j++)
      acc[j] = _mm512_fmadd_ps(av, _mm512_set1_ps(strip[j]), acc[j]);
  }
  RG_UNROLL for (int j = 0; j < cols; j++) _mm512_store_ps(cols_buf + j * RG_VL, acc[j]);
  for (int64_t t = 0; t < mr; t++)
    for (int64_t j = 0; j < n; j++) c[t * ldc + j] = cols_buf[j * RG_VL + t];
}

/* C [m, n <= 12] = (load ? C : 0) + op(A) op(B); op(A)(i, p) =
 * a[i * ars + p * acs] (A stored [k, m] when ta), op(B) is B [k, n] at b
 * or, when tb, B stored [n, k]. */
static void gemm_narrow(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                        int64_t ars, int64_t acs, const float *b, int64_t ldb, float *c,
                        int64_t ldc, int load) {
  _Alignas(64) float strip[KC * RG_VL]; /* op(B)(p0 + p, j) at p * RG_VL + j, +0.0 past n */
  _Alignas(64) float panel[KC * RG_VL]; /* op(A)(i + t, p0 + p) at p * RG_VL + t, +0.0 past m */
  int64_t kblock = cdiv(k, cdiv(k, KC));
  for (int64_t p0 = 0; p0 < k; p0 += kblock) {
    int64_t kc = min64(kblock, k - p0);
    if (tb) pack_t(b + p0, ldb, n, kc, strip, RG_VL, rg_vtail(RG_VL));
    else pack_n(b + p0 * ldb, ldb, n, kc, strip, RG_VL, rg_vtail(RG_VL));
    for (int64_t i = 0; i < m; i += RG_VL) {
      int64_t mr = min64(RG_VL, m - i);
      const float *ai = a + i * ars + p0 * acs;
      if (ta) pack_n(ai, acs, mr, kc, panel, RG_VL, rg_vtail(RG_VL));
      else pack_t(ai, ars, mr, kc, panel, RG_VL, rg_vtail(RG_VL));
      float *ci = c + i * ldc;
      int from_c = load || p0 > 0;
      /* the columns as an even compile-time count: at most one in vain */
#define NARROW(cols) narrow_tile(cols, kc, panel, strip, ci, ldc, mr, n, from_c)
      switch ((n + 1) / 2) { RG_EVEN_CASES_12(NARROW) }
#undef NARROW
    }
  }
}
#endif
