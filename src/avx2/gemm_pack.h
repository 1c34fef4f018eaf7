/* Packing for the AVX2 GEMM (src/avx2/gemm.c only). Packing copies values,
 * it never adds or multiplies, so it cannot change a result bit.
 *
 * Packed A: the rows of a block in micro-panels of MR rows; in micro-panel t
 * element (r, p) sits at t * MR * kc + p * MR + r, rows past the block's end
 * are +0.0. Packed B: one strip of NR columns, element (p, jj) at p * NR + jj,
 * columns past the matrix's end are +0.0. */
#ifndef RG_AVX2_GEMM_PACK_H
#define RG_AVX2_GEMM_PACK_H

#include "vec.h"

#define MR 6   /* rows of a C tile */
#define NR 16  /* columns of a C tile: two ymm */
#define KC 256 /* k-block: a packed B strip is KC x NR floats (16 KiB, in L1) */
#define NC 1024 /* at most this many columns per block: KC x NC floats of B (1 MiB, in L2) */
/* More elements of C than C_FAR (1 MiB, half of L2): C comes from memory,
 * and each tile prefetches the next one's block of C (measured, 1 thread,
 * 2048^3 72 -> 92 GFLOP/s, 1024^3 91 -> 95; 512 x 1024 x 256 with C read
 * 95 -> 101; on C of 2^18 elements the prefetches only cost, 512 x 512 x 64
 * 105 vs 101 with C_FAR 2^16). Tiles that only write C (the first k-block,
 * no bias, not accumulating) prefetch it only when shorter than C_SHORT_KC
 * k-steps: then the store buffer cannot hide the misses (1024 x 1024 x 16
 * 48 -> 77), from there the prefetches cost (1024 x 1024 x 24 92 -> 87). */
#define C_FAR (1 << 18)
#define C_SHORT_KC 24
#define MC 132 /* rows per packed A block: MC x KC floats (132 KiB, in L2); a batch
                 * of 128 is one block, so each B strip is packed once */
_Static_assert(MC % MR == 0, "row blocks are whole tiles");

/* p, hidden from the optimizer: addresses derived from it are computed from
 * it, instead of each becoming a loop-invariant pointer of its own (which
 * runs out of registers and spills them to the stack). */
RG_INLINE const float *opaque(const float *p) {
  __asm__("" : "+r"(p));
  return p;
}

/* A tile row's load: masked by m when part, else a plain one. */
RG_INLINE __m256 load_part(const float *p, __m256i m, int part) {
  return part ? rg_vload_m(p, m) : _mm256_loadu_ps(p);
}

/* Stores the first n (0..8) lanes of v. Plain stores only: a masked store
 * costs about four plain ones on AMD cores. */
RG_INLINE void store_first(float *p, __m256 v, int64_t n) {
  if (n >= RG_VL) {
    _mm256_storeu_ps(p, v);
    return;
  }
  __m128 h = _mm256_castps256_ps128(v);
  if (n >= 4) _mm_storeu_ps(p, h), p += 4, n -= 4, h = _mm256_extractf128_ps(v, 1);
  if (n >= 2) _mm_storel_pi((__m64 *)p, h), p += 2, n -= 2, h = _mm_movehl_ps(h, h);
  if (n >= 1) _mm_store_ss(p, h);
}

/* One micro-panel of A stored [k, m] (op(A) = A^T; column i at a + i): the
 * mr values of each k-step are contiguous already. */
static void pack_a_cols(int64_t mr, int64_t kc, const float *a, int64_t lda, float *pa) {
  __m256i m = rg_vlive(rg_vtail(mr));
  for (int64_t p = 0; p < kc; p++) _mm256_storeu_ps(pa + p * MR, _mm256_maskload_ps(a + p * lda, m));
}

/* Four k-steps of eight rows of B stored [n, k] (row t at b + t * ldb, the
 * first `rows` of them real, the others read as +0.0), transposed: lane t of
 * out[u] is row t, column u. Each row's four values are broadcast into both
 * halves by a load, a blend joins rows t and t + 4, and a 4x4 transpose
 * inside the 128-bit lanes finishes: 8 shuffles for 32 values. */
RG_INLINE void load_t8x4(const float *b, int64_t ldb, int64_t rows, __m256 out[4]) {
  __m256 x[4];
  const float *b4 = opaque(b + 4 * ldb);
  RG_UNROLL for (int t = 0; t < 4; t++) {
    __m256 lo = t < rows ? _mm256_broadcast_ps((const __m128 *)(b + t * ldb)) : rg_vzero();
    __m256 hi = t + 4 < rows ? _mm256_broadcast_ps((const __m128 *)(b4 + t * ldb)) : rg_vzero();
    x[t] = _mm256_blend_ps(lo, hi, 0xF0);
  }
  __m256 t0 = _mm256_unpacklo_ps(x[0], x[1]), t1 = _mm256_unpackhi_ps(x[0], x[1]);
  __m256 t2 = _mm256_unpacklo_ps(x[2], x[3]), t3 = _mm256_unpackhi_ps(x[2], x[3]);
  out[0] = _mm256_shuffle_ps(t0, t2, 0x44);
  out[1] = _mm256_shuffle_ps(t0, t2, 0xEE);
  out[2] = _mm256_shuffle_ps(t1, t3, 0x44);
  out[3] = _mm256_shuffle_ps(t1, t3, 0xEE);
}

/* Column p of eight rows of B stored [n, k], for a k-tail: lane t is
 * b[t * ldb + p] for t < rows, else +0.0. */
RG_INLINE __m256 load_t8x1(const float *b, int64_t ldb, int64_t rows) {
  float v[8] = {0};
  for (int64_t t = 0; t < rows && t < 8; t++) v[t] = b[t * ldb];
  return _mm256_loadu_ps(v);
}

/* One micro-panel of mr <= MR rows of A stored [m, k] (row i at a + i * lda),
 * transposed four k-steps at a time; each k-step is stored 8 wide, the two
 * extra lanes being overwritten by the next step (the buffer keeps slack
 * past the end). */
static void pack_a_rows(int64_t mr, int64_t kc, const float *a, int64_t lda, float *pa) {
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    __m256 t[4];
    load_t8x4(a + p, lda, mr, t);
    RG_UNROLL for (int u = 0; u < 4; u++) _mm256_storeu_ps(pa + (p + u) * MR, t[u]);
  }
  for (; p < kc; p++) _mm256_storeu_ps(pa + p * MR, load_t8x1(a + p, lda, mr));
}

/* A block of mb rows of op(A) over kc steps from (i0, k0) = a. */
static void pack_a(int64_t mb, int64_t kc, int ta, const float *a, int64_t lda, float *pa) {
  for (int64_t i = 0; i < mb; i += MR, pa += MR * kc) {
    int64_t mr = mb - i < MR ? mb - i : MR;
    if (ta)
      pack_a_cols(mr, kc, a + i, lda, pa);
    else
      pack_a_rows(mr, kc, a + i * lda, lda, pa);
  }
}

/* B stored [n, k] (op(B) = B^T): strip[p][jj] = b[jj * ldb + p] for jj < nc,
 * +0.0 for jj >= nc. */
static void pack_bt(int64_t kc, int64_t nc, const float *b, int64_t ldb, float *strip) {
  for (int jb = 0; jb < NR; jb += RG_VL) {
    const float *bj = b + jb * ldb;
    int64_t rows = nc - jb, p = 0;
    for (; p + 4 <= kc; p += 4) {
      __m256 t[4];
      load_t8x4(bj + p, ldb, rows, t);
      RG_UNROLL for (int u = 0; u < 4; u++) _mm256_store_ps(strip + (p + u) * NR + jb, t[u]);
    }
    for (; p < kc; p++) _mm256_store_ps(strip + p * NR + jb, load_t8x1(bj + p, ldb, rows));
  }
}

/* B stored [k, n]: copy the strip's columns, zero-padded past nc. */
static void pack_b(int64_t kc, int64_t nc, const float *b, int64_t ldb, float *strip) {
  if (nc == NR) {
    for (int64_t p = 0; p < kc; p++) {
      _mm256_store_ps(strip + p * NR, _mm256_loadu_ps(b + p * ldb));
      _mm256_store_ps(strip + p * NR + RG_VL, _mm256_loadu_ps(b + p * ldb + RG_VL));
    }
    return;
  }
  __m256i m0 = rg_vlive(rg_vtail(nc)), m1 = rg_vlive(rg_vtail(nc - RG_VL));
  for (int64_t p = 0; p < kc; p++) {
    _mm256_store_ps(strip + p * NR, _mm256_maskload_ps(b + p * ldb, m0));
    _mm256_store_ps(strip + p * NR + RG_VL, _mm256_maskload_ps(b + p * ldb + RG_VL, m1));
  }
}
#endif
