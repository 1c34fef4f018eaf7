/* Building blocks of the AVX-512 GEMM (src/avx512/gemm.c and gemm_small.h
 * only): the blocking constants, on-the-fly transposes and the packing of
 * A and B. Packing copies values, it never adds or multiplies, so it cannot
 * change a result bit.
 *
 * Packed A: the rows of a block in micro-panels of MR rows; in micro-panel t
 * element (r, p) sits at t * MR * kc + p * MR + r, rows past the block's end
 * are +0.0. Packed B: one strip of NR columns, element (p, jj) at
 * p * NR + jj, columns past the matrix's end are +0.0. */
#ifndef RG_AVX512_GEMM_PACK_H
#define RG_AVX512_GEMM_PACK_H

#include "vec.h"

#define MR 14         /* rows of a C tile */
#define NR (2 * RG_VL) /* columns of a C tile: two zmm */
#define KC 192        /* at most this many k-steps per block */
#define NC 1024      /* at most this many columns per column block */
#define C_FAR (1 << 18) /* more elements of C than this: prefetch C */
#define MC 128        /* at most this many rows per A block (a batch of 128: one block) */
#define MC_PANELS ((MC + MR - 1) / MR) /* micro-panels of a packed A block */

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* p, hidden from the optimizer: addresses derived from it are computed from
 * it, instead of each becoming a loop-invariant pointer of its own (which
 * runs out of registers and spills them to the stack). */
RG_INLINE const float *opaque(const float *p) {
  __asm__("" : "+r"(p));
  return p;
}

/* Four k-steps (the first q <= 4 of them real) of the first `rows` <= 16 of
 * 16 rows stored along k (row t at s + t * ld), transposed: lane t of out[u]
 * is row t at k-step u, +0.0 for rows >= rows or steps >= q. The four values
 * of row t go to 128-bit lane t / 4 of x[t % 4] by a broadcast load merged
 * under a mask (the load ports do the moving, plus one merge uop per lane
 * past the first), and a 4 x 4 transpose inside the 128-bit lanes finishes:
 * 8 shuffles for 64 values, against 64 for 256 values in a full 16 x 16
 * register transpose (the shuffle port also runs one of the two FMA units). */
RG_INLINE void load_t16x4(const float *s, int64_t ld, int64_t rows, int q, __m512 out[4]) {
  __mmask16 kq = (__mmask16)(0x1111u * ((1u << q) - 1u)); /* steps < q of every lane */
  __m512 x[4];
  RG_UNROLL for (int t = 0; t < 4; t++) {
    x[t] = rg_vzero();
    RG_UNROLL for (int l = 0; l < 4; l++) {
      if (4 * l + t >= rows) continue;
      const float *row = s + (4 * l + t) * ld;
      __mmask16 kl = (__mmask16)(kq & (0xFu << 4 * l));
      if (q == 4) /* in bounds: the broadcast folds into the load */
        x[t] = _mm512_mask_broadcast_f32x4(x[t], kl, _mm_loadu_ps(row));
      else /* the k-tail: a masked load, then a broadcast from the register */
        x[t] = _mm512_mask_broadcast_f32x4(x[t], kl, _mm512_castps512_ps128(rg_vload_m(row, rg_vtail(q))));
    }
  }
  __m512 t0 = _mm512_unpacklo_ps(x[0], x[1]), t1 = _mm512_unpackhi_ps(x[0], x[1]);
  __m512 t2 = _mm512_unpacklo_ps(x[2], x[3]), t3 = _mm512_unpackhi_ps(x[2], x[3]);
  out[0] = _mm512_shuffle_ps(t0, t2, 0x44);
  out[1] = _mm512_shuffle_ps(t0, t2, 0xEE);
  out[2] = _mm512_shuffle_ps(t1, t3, 0x44);
  out[3] = _mm512_shuffle_ps(t1, t3, 0xEE);
}

/* dst[p * dld + t] = s[t * ld + p] for p < kc, t < width (lanes up to 16
 * stored under `store`, rows >= rows as +0.0): a panel whose rows run along
 * k (A [m, k], or B stored [n, k]), transposed four k-steps at a time. */
static void pack_t(const float *s, int64_t ld, int64_t rows, int64_t kc, float *dst, int64_t dld,
                   __mmask16 store) {
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    __m512 t[4];
    load_t16x4(s + p, ld, rows, 4, t);
    RG_UNROLL for (int u = 0; u < 4; u++) rg_vstore_m(dst + (p + u) * dld, t[u], store);
  }
  if (p < kc) {
    __m512 t[4];
    int q = (int)(kc - p);
    load_t16x4(s + p, ld, rows, q, t);
    for (int u = 0; u < q; u++) rg_vstore_m(dst + (p + u) * dld, t[u], store);
  }
}

/* dst[p * dld + c] = s[p * ld + c] for p < kc, c < 16: the first `cols` read,
 * the others +0.0; a panel whose rows run along m or n (A^T, or B [k, n]). */
static void pack_n(const float *s, int64_t ld, int64_t cols, int64_t kc, float *dst, int64_t dld,
                   __mmask16 store) {
  __mmask16 kc_ = rg_vtail(cols);
  for (int64_t p = 0; p < kc; p++) rg_vstore_m(dst + p * dld, rg_vload_m(s + p * ld, kc_), store);
}

/* A block of mb rows of op(A) over kc steps from (i0, p0) = a (a(r, p) at
 * a[r * ars + p * acs]) into micro-panels. */
static void pack_a(int64_t mb, int64_t kc, int ta, const float *a, int64_t ars, int64_t acs,
                   float *pa) {
  for (int64_t i = 0; i < mb; i += MR, pa += MR * kc) {
    int64_t mr = min64(MR, mb - i);
    __mmask16 store = rg_vtail(MR);
    if (ta) pack_n(a + i * ars, acs, mr, kc, pa, MR, store);
    else pack_t(a + i * ars, ars, mr, kc, pa, MR, store);
  }
}

/* A strip of nc <= NR columns of op(B) over kc steps, at b (B [k, n] at
 * (p0, j0), or when tb B stored [n, k] at (j0, p0)). */
static void pack_b(int64_t nc, int64_t kc, int tb, const float *b, int64_t ldb, float *strip) {
  for (int64_t h = 0; h < NR; h += RG_VL) {
    const float *s = h < nc ? b + h * (tb ? ldb : 1) : b; /* no pointer past the end */
    if (tb) pack_t(s, ldb, nc - h, kc, strip + h, NR, rg_vtail(RG_VL));
    else pack_n(s, ldb, nc - h, kc, strip + h, NR, rg_vtail(RG_VL));
  }
}
#endif
