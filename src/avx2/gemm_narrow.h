/* The AVX2 GEMM for few columns of C (a classifier's 10 outputs), for
 * src/avx2/gemm.c only. The 6 x 16 tile puts 16 columns in two vectors, so
 * 10 columns leave 6 of 16 lanes idle, 8 columns half of them; here the
 * vectors run along m instead: lane t of accumulator j holds C(i + t, j),
 * one accumulator per column, 8 rows at a time. Step p loads op(A)'s column
 * p for those rows and broadcasts op(B)(p, j) from a packed strip of B: one
 * vector of A and up to 12 FMAs. A is not packed, as each of its values is
 * used by one tile only: A^T (ta) is read in place, A [m, k] is transposed
 * on the fly four k-steps at a time (load_t8x4), whose shuffles run beside
 * the FMAs (measured, 1 thread, 128 x 10 x 256 NN: 80 GFLOP/s, 68 with A
 * transposed into a panel first). k comes in blocks of KC, and between
 * blocks the partial sums go back to C, as in the main loop, so every
 * element is the same chain of FMAs over k in order from its starting
 * value. C moves in and out of the column accumulators by load_t8x4 too,
 * through a small buffer on the stack. */
#ifndef RG_AVX2_GEMM_NARROW_H
#define RG_AVX2_GEMM_NARROW_H

#include "gemm_even.h"
#include "gemm_pack.h"

/* Up to NARROW_N columns and from NARROW_M rows take this path (measured
 * against the main loop, 1 thread, GFLOP/s: 128 x 10 x 256 NN 71 -> 88, NT
 * 68 -> 83, TN 62 -> 88; 32 x 10 x 256 NT 64 -> 85; 128 x 8 x 256 NN
 * 47 -> 78; 128 x 12 x 64 NT 69 -> 75; 1 to 7 columns 1.5 to 2 times as
 * fast. With 13 or 14 columns A's transposes and the accumulators no
 * longer fit in 16 registers: 128 x 13 x 256 NN 72 vs 57. On 7 rows it wins
 * at every width, 7 x 12 x 256 NN 42 -> 62; on 6 rows, one full tile of
 * the main loop, not always: 6 x 12 x 256 NT 49 vs 47.) */
#define NARROW_N 12
#define NARROW_M 7
_Static_assert(NARROW_N % 4 == 0, "C comes into the accumulators four columns at a time");

/* Rows [0, mr <= 8) x columns [0, n <= cols) of C (cols compile-time, even)
 * over kc steps from C when load_c, else from +0.0. op(A)(t, p) =
 * a[p * lda + t] when ta (compile-time), else a[t * lda + p]; op(B)(p, j) =
 * strip[p * NR + j]. */
RG_INLINE void narrow_tile(const int cols, const int ta, int64_t kc, const float *a,
                           int64_t lda, const float *strip, float *c, int64_t ldc, int64_t mr,
                           int64_t n, int load_c) {
  _Alignas(32) float buf[RG_VL * NR]; /* C row t at t * NR, or column j at j * RG_VL */
  __m256 acc[NARROW_N];
  if (load_c) { /* lane t of acc[j + u] = buf[t * NR + j + u] = C(t, j + u) */
    __m256i m0 = rg_vlive(rg_vtail(n)), m1 = rg_vlive(rg_vtail(n - RG_VL));
    for (int64_t t = 0; t < mr; t++) {
      _mm256_store_ps(buf + t * NR, _mm256_maskload_ps(c + t * ldc, m0));
      _mm256_store_ps(buf + t * NR + RG_VL, _mm256_maskload_ps(c + t * ldc + RG_VL, m1));
    }
    RG_UNROLL for (int j = 0; j < cols; j += 4) load_t8x4(buf + j, NR, mr, acc + j);
  } else {
    RG_UNROLL for (int j = 0; j < cols; j++) acc[j] = rg_vzero();
  }
  int64_t p = 0;
  if (!ta)
    for (; p + 4 <= kc; p += 4) {
      __m256 av[4];
      load_t8x4(a + p, lda, mr, av);
      RG_UNROLL for (int u = 0; u < 4; u++) RG_UNROLL for (int j = 0; j < cols; j++)
        acc[j] = _mm256_fmadd_ps(av[u], _mm256_broadcast_ss(strip + (p + u) * NR + j), acc[j]);
    }
  __m256i rows = rg_vlive(rg_vtail(mr));
  for (; p < kc; p++) { /* all of A^T; the k-tail of A */
    __m256 av = ta ? load_part(a + p * lda, rows, mr < RG_VL) : load_t8x1(a + p, lda, mr);
    RG_UNROLL for (int j = 0; j < cols; j++)
      acc[j] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(strip + p * NR + j), acc[j]);
  }
  RG_UNROLL for (int j = 0; j < cols; j++) _mm256_store_ps(buf + j * RG_VL, acc[j]);
  RG_UNROLL for (int g = 0; g < cols; g += RG_VL) /* lane jj of r[u] = C(t + u, g + jj) */
    for (int64_t t = 0; t < mr; t += 4) {
      __m256 r[4];
      load_t8x4(buf + g * RG_VL + t, RG_VL, n - g, r);
      for (int64_t u = 0; u < 4 && t + u < mr; u++) store_first(c + (t + u) * ldc + g, r[u], n - g);
    }
}

/* C [m, n <= NARROW_N] = (load_c ? C : 0) + op(A) op(B); op(A)(i, p) =
 * a[i * ars + p * acs] (A stored [k, m] when ta); op(B) is B [k, n] at b
 * or, when tb, B stored [n, k]. */
static void gemm_narrow(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                        int64_t ars, int64_t acs, const float *b, int64_t ldb, float *c,
                        int64_t ldc, int load_c) {
  int64_t lda = ta ? acs : ars; /* A as stored */
  _Alignas(32) float strip[KC * NR]; /* op(B)(k0 + p, j) at p * NR + j, +0.0 past n */
  for (int64_t k0 = 0; k0 < k; k0 += KC) {
    int64_t kc = (k - k0 < KC) ? k - k0 : KC;
    if (tb) pack_bt(kc, n, b + k0, ldb, strip);
    else pack_b(kc, n, b + k0 * ldb, ldb, strip);
    int from_c = load_c || k0 > 0;
    for (int64_t i = 0; i < m; i += RG_VL) {
      int64_t mr = (m - i < RG_VL) ? m - i : RG_VL;
      const float *ai = a + i * ars + k0 * acs;
      float *ci = c + i * ldc;
      /* the columns as an even compile-time count: at most one in vain */
#define NARROW(cols)                                                        \
  if (ta) narrow_tile(cols, 1, kc, ai, lda, strip, ci, ldc, mr, n, from_c); \
  else narrow_tile(cols, 0, kc, ai, lda, strip, ci, ldc, mr, n, from_c)
      switch ((n + 1) / 2) { RG_EVEN_CASES_12(NARROW) }
#undef NARROW
    }
  }
}
#endif
