/* Shared AVX2 building blocks of src/avx2: tail masks, masked loads and
 * stores, exact sign-bit helpers, C-like comparisons, and the loop drivers
 * the kernels are written with. A driver takes the per-chunk work as a
 * function pointer and is always inlined, so every call site compiles to a
 * plain loop with the work inlined: no indirect calls remain. */
#ifndef RG_AVX2_SIMD_H
#define RG_AVX2_SIMD_H

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include <immintrin.h>
#include <stdint.h>

#define RG_INLINE static inline __attribute__((always_inline))
#define RG_W 8 /* floats per ymm register */

/* Fully unrolls a short constant loop over an array of registers, so the
 * array stays in registers (gcc -O2 would otherwise keep it on the stack). */
#define RG_UNROLL _Pragma("GCC unroll 16")

RG_INLINE __m256i rg_iota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
RG_INLINE __m256i rg_all(void) { return _mm256_set1_epi32(-1); }
RG_INLINE __m256 rg_set(float v) { return _mm256_set1_ps(v); }
RG_INLINE __m256 rg_zero(void) { return _mm256_setzero_ps(); }

/* Lanes [0, r) set: all of them for r >= 8, none for r <= 0. */
RG_INLINE __m256i rg_mask(int64_t r) {
  int k = r < 0 ? 0 : (r > RG_W ? RG_W : (int)r);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), rg_iota());
}

/* One chunk of 8 floats. A tail chunk touches only the lanes of m: masked
 * loads read +0.0 in the others, masked stores leave them alone, and
 * neither faults on memory past the end. */
RG_INLINE __m256 rg_ld(const float *p, __m256i m, int tail) {
  return tail ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}
RG_INLINE void rg_st(float *p, __m256 v, __m256i m, int tail) {
  if (tail)
    _mm256_maskstore_ps(p, m, v);
  else
    _mm256_storeu_ps(p, v);
}

/* fabsf, unary minus and copysignf: sign-bit operations, exact for every
 * input including NaN, like their C counterparts. */
RG_INLINE __m256 rg_sign_bit(void) { return _mm256_set1_ps(-0.0f); }
RG_INLINE __m256 rg_abs(__m256 x) { return _mm256_andnot_ps(rg_sign_bit(), x); }
RG_INLINE __m256 rg_neg(__m256 x) { return _mm256_xor_ps(rg_sign_bit(), x); }
RG_INLINE __m256 rg_copysign(__m256 mag, __m256 sgn) {
  return _mm256_or_ps(rg_abs(mag), _mm256_and_ps(rg_sign_bit(), sgn));
}

/* C's < > <= >= == on floats: ordered and quiet, so false when either side
 * is NaN. The result is a lane mask for rg_sel / and. */
RG_INLINE __m256 rg_lt(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
RG_INLINE __m256 rg_gt(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
RG_INLINE __m256 rg_le(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
RG_INLINE __m256 rg_ge(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
RG_INLINE __m256 rg_eq(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }

/* cond ? a : b per lane, for a comparison mask cond. */
RG_INLINE __m256 rg_sel(__m256 cond, __m256 a, __m256 b) { return _mm256_blendv_ps(b, a, cond); }

/* cond ? a : 0.0f per lane (+0.0 where cond is clear). */
RG_INLINE __m256 rg_keep(__m256 cond, __m256 a) { return _mm256_and_ps(cond, a); }

/* (x > 0) ? v : ((x < 0) ? -v : 0): sign(x) * v with sign(0) = sign(NaN) = 0.
 * The two conditions never hold together, so or-ing the masked terms is the
 * nested conditional, +0.0 included. */
RG_INLINE __m256 rg_signsel(__m256 x, __m256 v) {
  return _mm256_or_ps(rg_keep(rg_gt(x, rg_zero()), v), rg_keep(rg_lt(x, rg_zero()), rg_neg(v)));
}

/* Chunk driver: f(ctx, i, m, tail) for i = 0, 8, 16, ... over [0, n); only
 * the last, partial chunk has tail = 1. */
typedef void (*rg_chunk_fn)(void *ctx, int64_t i, __m256i m, int tail);

RG_INLINE void rg_chunks(int64_t n, rg_chunk_fn f, void *ctx) {
  int64_t i = 0;
  for (; i + RG_W <= n; i += RG_W) f(ctx, i, rg_all(), 0);
  if (i < n) f(ctx, i, rg_mask(n - i), 1);
}

/* Elementwise map: y[i] = op(a[i], b[i], c[i]; s, t) for the first nin of
 * the streams a, b, c and two broadcast scalars. Every chunk is loaded
 * before it is stored, so y may alias any input. */
struct rg_vin {
  __m256 a, b, c; /* the chunk of each input stream */
  __m256 s, t;    /* scalar parameters, broadcast */
};
typedef __m256 (*rg_vop)(const struct rg_vin *in);

struct rg_map_ctx {
  rg_vop op;
  int nin;
  const float *a, *b, *c;
  float *y;
  __m256 s, t;
};

RG_INLINE void rg_map_chunk(void *vctx, int64_t i, __m256i m, int tail) {
  const struct rg_map_ctx *x = vctx;
  struct rg_vin in = {.s = x->s, .t = x->t};
  in.a = rg_ld(x->a + i, m, tail);
  if (x->nin > 1) in.b = rg_ld(x->b + i, m, tail);
  if (x->nin > 2) in.c = rg_ld(x->c + i, m, tail);
  rg_st(x->y + i, x->op(&in), m, tail);
}

RG_INLINE void rg_map_n(int64_t n, rg_vop op, float s, float t, int nin, const float *a,
                        const float *b, const float *c, float *y) {
  struct rg_map_ctx ctx = {op, nin, a, b, c, y, rg_set(s), rg_set(t)};
  rg_chunks(n, rg_map_chunk, &ctx);
}
/* a / s, the map op of a division by a per-call scalar. */
RG_INLINE __m256 rg_div_op(const struct rg_vin *in) { return in->a / in->s; }

#define rg_map1(n, op, s, t, a, y) rg_map_n(n, op, s, t, 1, a, NULL, NULL, y)
#define rg_map2(n, op, s, t, a, b, y) rg_map_n(n, op, s, t, 2, a, b, NULL, y)
#define rg_map3(n, op, s, t, a, b, c, y) rg_map_n(n, op, s, t, 3, a, b, c, y)

/* Column sweeps over a row-major [rows, cols] tensor: f(ctx, j, m, tail) for
 * groups of RG_CG chunks (RG_CG * 8 columns from j). A group function runs
 * down all rows with one accumulator per chunk, so RG_CG independent chains
 * hide the add latency. In the last group (tail = 1) chunk v is masked by
 * m[v], which is all clear for chunks wholly past the end. */
#define RG_CG 4
typedef void (*rg_cols_fn)(void *ctx, int64_t j, const __m256i *m, int tail);

RG_INLINE void rg_col_groups(int64_t cols, rg_cols_fn f, void *ctx) {
  __m256i m[RG_CG];
  int64_t j = 0;
  RG_UNROLL for (int v = 0; v < RG_CG; v++) m[v] = rg_all();
  for (; j + RG_CG * RG_W <= cols; j += RG_CG * RG_W) f(ctx, j, m, 0);
  if (j < cols) {
    RG_UNROLL for (int v = 0; v < RG_CG; v++) m[v] = rg_mask(cols - j - RG_W * v);
    f(ctx, j, m, 1);
  }
}
#endif
