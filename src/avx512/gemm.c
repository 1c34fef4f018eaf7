/* AVX-512 GEMM: C = (acc ? C : 0) + op(A) op(B), every element accumulated
 * over k in order with FMA (src/scalar/gemm.c). Blocking: k in blocks of KC,
 * and within one k-block rows in blocks of MC, columns in strips of NR. A is
 * packed per (k-block, row block) as [p][MC], B per strip as [p][NR], both
 * zero-padded, in fixed-size stack buffers (72 KiB). The microkernel keeps a
 * 14 x 32 tile of C in 28 zmm registers: per p, two vector loads of B and one
 * broadcast of A per row. Between k-blocks the partial sums live in C, which
 * keeps the order of the k sum: element (i, j) sees A(i,0)B(0,j) first, then
 * A(i,1)B(1,j) and so on, each added with one fused multiply-add. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "simd.h"

#define MR 14             /* rows of the register tile */
#define NR (2 * RG_V)     /* columns of the register tile */
#define KC 128            /* k-block */
#define MC (8 * MR)       /* rows per packed A block: 112, also a multiple of 16 */

_Static_assert(MC % RG_V == 0, "the transposing pack fills A in groups of 16 rows");

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

/* In-register transpose of a 16 x 16 block: r[i] becomes column i. */
static inline void transpose16(__m512 r[16]) {
  __m512 t[16], s[16];
  for (int i = 0; i < 8; i++) {
    /* per 128-bit lane L: t[2i] = a[4L] b[4L] a[4L+1] b[4L+1], t[2i+1] the +2, +3 columns */
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; g++) {
    /* s[4g + c], lane L: column 4L + c of rows 4g .. 4g + 3 */
    s[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    s[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
    s[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    s[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int c = 0; c < 4; c++) {
    /* 4 x 4 transpose of 128-bit lanes across the row groups */
    __m512 v0 = _mm512_shuffle_f32x4(s[c], s[4 + c], 0x44);
    __m512 v1 = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0x44);
    __m512 v2 = _mm512_shuffle_f32x4(s[c], s[4 + c], 0xEE);
    __m512 v3 = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(v0, v1, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(v2, v3, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v2, v3, 0xDD);
  }
}

/* dst[p][r] = src[r][p] for p < kc, r < rows_pad (a multiple of 16), rows past
 * `rows` zero: packs a panel whose rows run along k (A untransposed, B when tb). */
static void pack_transposed(const float *src, int64_t ld, int64_t rows, int64_t kc,
                            int64_t rows_pad, float *dst, int64_t dld) {
  for (int64_t r0 = 0; r0 < rows_pad; r0 += RG_V)
    for (int64_t p0 = 0; p0 < kc; p0 += RG_V) {
      __mmask16 kp = rg_mask(kc - p0);
      __m512 t[16];
      for (int r = 0; r < 16; r++)
        t[r] = (r0 + r < rows) ? rg_load(src + (r0 + r) * ld + p0, kp) : rg_zero();
      transpose16(t);
      for (int64_t q = 0; q < RG_V && p0 + q < kc; q++)
        _mm512_store_ps(dst + (p0 + q) * dld + r0, t[q]);
    }
}

/* dst[p][c] = src[p][c] for p < kc, c < width_pad (a multiple of 16), columns
 * past `width` zero: packs a panel whose rows run along m or n (A when ta, B). */
static void pack_rows(const float *src, int64_t ld, int64_t width, int64_t kc,
                      int64_t width_pad, float *dst, int64_t dld) {
  for (int64_t p = 0; p < kc; p++)
    for (int64_t c = 0; c < width_pad; c += RG_V) {
      __mmask16 k = rg_mask(width - c);
      _mm512_store_ps(dst + p * dld + c, k ? rg_load(src + p * ld + c, k) : rg_zero());
    }
}

/* C tile (mr <= rows rows; columns under k0, and k1 when nv == 2) plus the sum
 * over p < kc of ap[p * MC + r] * bp[p * NR + c], starting from C when load,
 * else from +0. rows and nv are constants in each expansion: the tile lives in
 * rows * nv registers. */
static inline __attribute__((always_inline)) void kernel(const int rows, const int nv,
                                                         int64_t kc, const float *ap,
                                                         const float *bp, float *c,
                                                         int64_t ldc, int mr, __mmask16 k0,
                                                         __mmask16 k1, int load) {
  __m512 acc[MR][2];
  const __mmask16 kv[2] = {k0, k1};
#pragma GCC unroll 14
  for (int r = 0; r < rows; r++)
#pragma GCC unroll 2
    for (int v = 0; v < nv; v++)
      acc[r][v] = (load && r < mr) ? rg_load(c + r * ldc + v * RG_V, kv[v]) : rg_zero();
  for (int64_t p = 0; p < kc; p++) {
    __m512 b[2];
#pragma GCC unroll 2
    for (int v = 0; v < nv; v++) b[v] = _mm512_load_ps(bp + v * RG_V);
#pragma GCC unroll 14
    for (int r = 0; r < rows; r++) {
      __m512 a = _mm512_set1_ps(ap[r]);
#pragma GCC unroll 2
      for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
    ap += MC;
    bp += NR;
  }
#pragma GCC unroll 14
  for (int r = 0; r < rows; r++)
    if (r < mr)
#pragma GCC unroll 2
      for (int v = 0; v < nv; v++) rg_store(c + r * ldc + v * RG_V, kv[v], acc[r][v]);
}

/* The smallest tile height that covers mr rows (edge tiles waste less). */
static void tile(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr,
                 int64_t nr, int load) {
  __mmask16 k0 = rg_mask(nr), k1 = rg_mask(nr - RG_V);
  if (nr > RG_V) {
    if (mr > 8) kernel(MR, 2, kc, ap, bp, c, ldc, mr, k0, k1, load);
    else if (mr > 4) kernel(8, 2, kc, ap, bp, c, ldc, mr, k0, k1, load);
    else if (mr > 2) kernel(4, 2, kc, ap, bp, c, ldc, mr, k0, k1, load);
    else kernel(2, 2, kc, ap, bp, c, ldc, mr, k0, k1, load);
  } else {
    if (mr > 8) kernel(MR, 1, kc, ap, bp, c, ldc, mr, k0, k1, load);
    else if (mr > 4) kernel(8, 1, kc, ap, bp, c, ldc, mr, k0, k1, load);
    else if (mr > 2) kernel(4, 1, kc, ap, bp, c, ldc, mr, k0, k1, load);
    else kernel(2, 1, kc, ap, bp, c, ldc, mr, k0, k1, load);
  }
}

void rg_gemm__avx512(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!acc)
      for (int64_t i = 0; i < m; i++) RG_EACH_BLOCK(n, j, kj, {
        rg_store(c + i * ldc + j, kj, rg_zero());
      });
    return;
  }
  _Alignas(64) float ap[KC * MC];
  _Alignas(64) float bp[KC * NR];
  for (int64_t pc = 0; pc < k; pc += KC) {
    int64_t kc = min64(KC, k - pc);
    int load = acc || pc > 0;
    for (int64_t ic = 0; ic < m; ic += MC) {
      int64_t mc = min64(MC, m - ic);
      /* rows the tiles read: whole tiles of MR, rounded up to the packing groups */
      int64_t mpad = min64(MC, round_up(round_up(mc, MR), RG_V));
      if (ta) pack_rows(a + pc * lda + ic, lda, mc, kc, mpad, ap, MC);
      else pack_transposed(a + ic * lda + pc, lda, mc, kc, mpad, ap, MC);
      for (int64_t jr = 0; jr < n; jr += NR) {
        int64_t nr = min64(NR, n - jr);
        int64_t npad = round_up(nr, RG_V);
        if (tb) pack_transposed(b + jr * ldb + pc, ldb, nr, kc, npad, bp, NR);
        else pack_rows(b + pc * ldb + jr, ldb, nr, kc, npad, bp, NR);
        for (int64_t ir = 0; ir < mc; ir += MR)
          tile(kc, ap + ir, bp, c + (ic + ir) * ldc + jr, ldc, (int)min64(MR, mc - ir), nr, load);
      }
    }
  }
}
