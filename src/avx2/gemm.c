/* AVX2 GEMM: C = (acc ? C : 0) + op(A) op(B), each element accumulated over
 * k in order with FMA from that starting value, as scalar/gemm.c.
 *
 * Register blocking: a 6 x 16 tile of C lives in 12 ymm accumulators; each
 * step p broadcasts op(A)(i, p) for 6 rows and loads one 16-wide row of
 * op(B). Loops: k-blocks of KC (outermost: between blocks the partial sums
 * go back to C and are reloaded, which keeps every element's FMA chain in k
 * order) -> blocks of MC rows (their slice of A stays in L2) -> 16-column
 * panels -> 6-row tiles. A panel's k-block is packed, zero-padded, into a
 * 16 KiB stack buffer (transposed when B is stored [n, k]); only a full
 * panel of B [k, n] used by a single tile is read in place. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "simd.h"

#define MR 6   /* rows of a C tile */
#define NR 16  /* columns of a C tile: two ymm */
#define KC 256 /* k-block: the packed panel is KC x NR floats (16 KiB) */
#define MC 96  /* i-block: its MC x KC slice of A stays in L2 across the panels */

/* Where op(A) and the op(B) panel live: op(A)(i, p) = a[i * ars + p * acs],
 * op(B)(p, jj) for the tile's columns = b[p * bs + jj]. */
struct operands {
  const float *a;
  int64_t ars, acs;
  const float *b;
  int64_t bs;
};

/* One tile of mr (compile-time) rows and nc <= 16 columns over kc steps;
 * starts from C when load_c, else from +0.0. */
RG_INLINE void tile(int mr, int64_t kc, struct operands o, float *c, int64_t ldc, int64_t nc,
                    int load_c) {
  __m256 acc[MR][2];
  __m256i m0 = rg_mask(nc), m1 = rg_mask(nc - RG_W);
  int part = nc < NR;
  RG_UNROLL for (int r = 0; r < mr; r++) {
    acc[r][0] = load_c ? rg_ld(c + r * ldc, m0, part) : rg_zero();
    acc[r][1] = load_c ? rg_ld(c + r * ldc + RG_W, m1, part) : rg_zero();
  }
  const float *a = o.a, *b = o.b;
  for (int64_t p = 0; p < kc; p++, a += o.acs, b += o.bs) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + RG_W);
    RG_UNROLL for (int r = 0; r < mr; r++) {
      __m256 av = _mm256_broadcast_ss(a + r * o.ars);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  RG_UNROLL for (int r = 0; r < mr; r++) {
    rg_st(c + r * ldc, acc[r][0], m0, part);
    rg_st(c + r * ldc + RG_W, acc[r][1], m1, part);
  }
}

/* The row count as a compile-time constant, so each tile keeps exactly
 * 2 mr accumulators in registers. */
static void tile_rows(int mr, int64_t kc, struct operands o, float *c, int64_t ldc, int64_t nc,
                      int load_c) {
  switch (mr) {
    case 6: tile(6, kc, o, c, ldc, nc, load_c); break;
    case 5: tile(5, kc, o, c, ldc, nc, load_c); break;
    case 4: tile(4, kc, o, c, ldc, nc, load_c); break;
    case 3: tile(3, kc, o, c, ldc, nc, load_c); break;
    case 2: tile(2, kc, o, c, ldc, nc, load_c); break;
    default: tile(1, kc, o, c, ldc, nc, load_c); break;
  }
}

/* In-register 8x8 transpose: r[t] lane u -> r[u] lane t. */
RG_INLINE void transpose8x8(__m256 r[8]) {
  __m256 t[8], s[8];
  RG_UNROLL for (int q = 0; q < 4; q++) {
    t[2 * q] = _mm256_unpacklo_ps(r[2 * q], r[2 * q + 1]);
    t[2 * q + 1] = _mm256_unpackhi_ps(r[2 * q], r[2 * q + 1]);
  }
  RG_UNROLL for (int h = 0; h < 2; h++) { /* rows 0-3 and 4-7 */
    s[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  RG_UNROLL for (int q = 0; q < 4; q++) {
    r[q] = _mm256_permute2f128_ps(s[q], s[q + 4], 0x20);
    r[q + 4] = _mm256_permute2f128_ps(s[q], s[q + 4], 0x31);
  }
}

/* B stored [n, k]: panel[p][jj] = b[jj * ldb + p] for p < kc, jj < nc, and
 * 0 for jj >= nc, by 8x8 transposes. Rows kc .. kc rounded up to 8 get
 * don't-care values (the buffer has room; tiles read only rows < kc). */
static void pack_bt(int64_t kc, int64_t nc, const float *b, int64_t ldb, float *panel) {
  for (int jb = 0; jb < NR; jb += RG_W)
    for (int64_t p0 = 0; p0 < kc; p0 += RG_W) {
      __m256i mp = rg_mask(kc - p0);
      int part = kc - p0 < RG_W;
      __m256 r[8];
      RG_UNROLL for (int t = 0; t < 8; t++)
        r[t] = (jb + t < nc) ? rg_ld(b + (jb + t) * ldb + p0, mp, part) : rg_zero();
      transpose8x8(r);
      RG_UNROLL for (int u = 0; u < 8; u++) _mm256_store_ps(panel + (p0 + u) * NR + jb, r[u]);
    }
}

/* B stored [k, n]: copy the panel's columns, zero-padded past nc. */
static void pack_b(int64_t kc, int64_t nc, const float *b, int64_t ldb, float *panel) {
  __m256i m0 = rg_mask(nc), m1 = rg_mask(nc - RG_W);
  for (int64_t p = 0; p < kc; p++) {
    _mm256_store_ps(panel + p * NR, _mm256_maskload_ps(b + p * ldb, m0));
    _mm256_store_ps(panel + p * NR + RG_W, _mm256_maskload_ps(b + p * ldb + RG_W, m1));
  }
}

void rg_gemm__avx2(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                   int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { /* the empty sum: C stays, or becomes +0.0 */
    if (!acc)
      for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof *c);
    return;
  }
  _Alignas(32) float panel[KC * NR];
  int64_t ars = ta ? 1 : lda, acs = ta ? lda : 1;
  /* k-blocks outermost: every C element sees its k-blocks in order. */
  for (int64_t k0 = 0; k0 < k; k0 += KC) {
    int64_t kc = (k - k0 < KC) ? k - k0 : KC;
    for (int64_t i0 = 0; i0 < m; i0 += MC) {
      int64_t mb = (m - i0 < MC) ? m - i0 : MC;
      for (int64_t j = 0; j < n; j += NR) {
        int64_t nc = (n - j < NR) ? n - j : NR;
        struct operands o = {.ars = ars, .acs = acs, .b = panel, .bs = NR};
        if (tb)
          pack_bt(kc, nc, b + j * ldb + k0, ldb, panel);
        else if (nc < NR || mb > MR) /* partial, or reused by several tiles */
          pack_b(kc, nc, b + k0 * ldb + j, ldb, panel);
        else
          o.b = b + k0 * ldb + j, o.bs = ldb;
        for (int64_t i = i0; i < i0 + mb; i += MR) {
          o.a = a + i * ars + k0 * acs;
          int mr = (i0 + mb - i < MR) ? (int)(i0 + mb - i) : MR;
          tile_rows(mr, kc, o, c + i * ldc + j, ldc, nc, acc || k0 > 0);
        }
      }
    }
  }
}
