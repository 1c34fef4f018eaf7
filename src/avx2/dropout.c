/* AVX2 bodies of the random slots. Philox4x32-10 runs on 8 consecutive
 * blocks at once, one block per lane; a per-kernel "soa" step turns the four
 * words of each block into values (word-major, so Box-Muller sees its word
 * pairs side by side), a 4x8 transpose puts them in element order, and a
 * per-kernel "emit" step applies them to 8 elements. Element i uses block
 * (offset + i) / 4, word (offset + i) % 4, exactly as core/philox.h. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "core/philox.h"
#include "simd.h"
#include "vmath.h"

#define BLOCKS 8              /* Philox blocks per group, one per lane */
#define GROUP (4 * BLOCKS)    /* elements per group */

RG_INLINE __m256i splat(uint32_t v) { return _mm256_set1_epi32((int)v); }

/* hi and lo halves of the 32x32->64 products a * mul, lane by lane:
 * mul_epu32 multiplies the even lanes; the odd lanes are shifted down. */
RG_INLINE void mulhilo(__m256i a, uint32_t mul, __m256i *hi, __m256i *lo) {
  __m256i even = _mm256_mul_epu32(a, splat(mul));
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), splat(mul));
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/* w[k] = word k of blocks block .. block + 7 of stream (seed, stream). Block
 * numbers are element indices (mod 2^64) / 4, so they count mod 2^62. */
RG_INLINE void philox8(const struct rg_rng_key *key, uint64_t block, __m256i w[4]) {
  __m256i base = splat((uint32_t)block);
  __m256i c0 = _mm256_add_epi32(base, rg_iota());
  /* Carry into word 1 where word 0 wrapped, i.e. where c0 < base unsigned
   * (compared as signed after flipping the top bit). */
  __m256i top = splat(0x80000000u);
  __m256i wrapped =
      _mm256_cmpgt_epi32(_mm256_xor_si256(base, top), _mm256_xor_si256(c0, top));
  __m256i c1 = _mm256_and_si256(_mm256_sub_epi32(splat((uint32_t)(block >> 32)), wrapped),
                                splat(0x3FFFFFFFu));
  __m256i c2 = splat((uint32_t)key->stream), c3 = splat((uint32_t)(key->stream >> 32));
  uint32_t k0 = (uint32_t)key->seed, k1 = (uint32_t)(key->seed >> 32);
  for (int round = 0; round < 10; round++) {
    __m256i hi0, lo0, hi1, lo1;
    mulhilo(c0, RG_PHILOX_M0, &hi0, &lo0);
    mulhilo(c2, RG_PHILOX_M1, &hi1, &lo1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), splat(k0));
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), splat(k1));
    c1 = lo1;
    c3 = lo0;
    k0 += RG_PHILOX_W0;
    k1 += RG_PHILOX_W1;
  }
  w[0] = c0, w[1] = c1, w[2] = c2, w[3] = c3;
}

/* v[k] lane b (word k of block b) -> out[q] = elements 8q .. 8q + 7. */
RG_INLINE void transpose4x8(const __m256 v[4], __m256 out[4]) {
  __m256d t0 = _mm256_castps_pd(_mm256_unpacklo_ps(v[0], v[1]));
  __m256d t1 = _mm256_castps_pd(_mm256_unpackhi_ps(v[0], v[1]));
  __m256d t2 = _mm256_castps_pd(_mm256_unpacklo_ps(v[2], v[3]));
  __m256d t3 = _mm256_castps_pd(_mm256_unpackhi_ps(v[2], v[3]));
  __m256 b04 = _mm256_castpd_ps(_mm256_unpacklo_pd(t0, t2)); /* blocks 0 | 4 */
  __m256 b15 = _mm256_castpd_ps(_mm256_unpackhi_pd(t0, t2));
  __m256 b26 = _mm256_castpd_ps(_mm256_unpacklo_pd(t1, t3));
  __m256 b37 = _mm256_castpd_ps(_mm256_unpackhi_pd(t1, t3));
  out[0] = _mm256_permute2f128_ps(b04, b15, 0x20);
  out[1] = _mm256_permute2f128_ps(b26, b37, 0x20);
  out[2] = _mm256_permute2f128_ps(b04, b15, 0x31);
  out[3] = _mm256_permute2f128_ps(b26, b37, 0x31);
}

typedef void (*soa_fn)(const void *ctx, const __m256i w[4], __m256 v[4]);
typedef void (*emit_fn)(const void *ctx, int64_t i, __m256 v, __m256i m, int tail);

/* The values of the 32 elements of blocks block .. block + 7, in order. */
RG_INLINE void group(const struct rg_rng_key *key, uint64_t block, soa_fn soa, const void *ctx,
                     __m256 out[4]) {
  __m256i w[4];
  __m256 v[4];
  philox8(key, block, w);
  soa(ctx, w, v);
  transpose4x8(v, out);
}

/* A start that is not on a block boundary takes its first 4 - offset % 4
 * elements from lanes offset % 4 .. 3 of a first group; then whole groups,
 * then a masked last group. */
RG_INLINE void philox_run(int64_t n, const struct rg_rng_key *key, soa_fn soa, emit_fn emit,
                          const void *ctx) {
  uint64_t start = (uint64_t)key->offset;
  int mis = (int)(start & 3);
  int64_t i = 0;
  __m256 v[4];
  if (mis != 0 && n > 0) {
    group(key, start >> 2, soa, ctx, v);
    __m256 head = _mm256_permutevar8x32_ps(v[0], _mm256_add_epi32(rg_iota(), _mm256_set1_epi32(mis)));
    i = (4 - mis < n) ? 4 - mis : n;
    emit(ctx, 0, head, rg_mask(i), 1);
  }
  for (; i + GROUP <= n; i += GROUP) {
    group(key, (start + (uint64_t)i) >> 2, soa, ctx, v);
    RG_UNROLL for (int q = 0; q < 4; q++) emit(ctx, i + RG_W * q, v[q], rg_all(), 0);
  }
  if (i < n) {
    group(key, (start + (uint64_t)i) >> 2, soa, ctx, v);
    RG_UNROLL for (int q = 0; q < 4; q++)
      if (i + RG_W * q < n) emit(ctx, i + RG_W * q, v[q], rg_mask(n - i - RG_W * q), 1);
  }
}

/* The top 24 bits of each word (as integer lanes in a float register). */
RG_INLINE void bits24_soa(const void *ctx, const __m256i w[4], __m256 v[4]) {
  (void)ctx;
  RG_UNROLL for (int k = 0; k < 4; k++) v[k] = _mm256_castsi256_ps(_mm256_srli_epi32(w[k], 8));
}

/* Dropout: keep where bits24 >= threshold; kept values are scaled. */
struct dropout_ctx {
  const float *src;
  float *dst;
  __m256i threshold;
  __m256 scale;
};

RG_INLINE __m256 kept(const struct dropout_ctx *c, __m256 bits, __m256 x) {
  /* bits < 2^24, so capping the threshold at 2^24 keeps the unsigned
   * comparison exact with a signed compare. */
  __m256i drop = _mm256_cmpgt_epi32(c->threshold, _mm256_castps_si256(bits));
  return _mm256_andnot_ps(_mm256_castsi256_ps(drop), x * c->scale);
}

static struct dropout_ctx make_dropout_ctx(uint32_t threshold, float scale, const float *src,
                                      float *dst) {
  uint32_t cap = 1u << 24;
  struct dropout_ctx c = {src, dst, splat(threshold < cap ? threshold : cap), rg_set(scale)};
  return c;
}

/* y = keep ? x scale : 0 */
RG_INLINE void dropout_fwd_emit(const void *v, int64_t i, __m256 bits, __m256i m, int tail) {
  const struct dropout_ctx *c = v;
  rg_st(c->dst + i, kept(c, bits, rg_ld(c->src + i, m, tail)), m, tail);
}

/* dx + (keep ? dy scale : 0) */
RG_INLINE void dropout_bwd_emit(const void *v, int64_t i, __m256 bits, __m256i m, int tail) {
  const struct dropout_ctx *c = v;
  __m256 d = kept(c, bits, rg_ld(c->src + i, m, tail));
  rg_st(c->dst + i, rg_ld(c->dst + i, m, tail) + d, m, tail);
}

void rg_dropout_fwd__avx2(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                          float scale, const float *x, float *y) {
  struct dropout_ctx c = make_dropout_ctx(threshold, scale, x, y);
  philox_run(n, key, bits24_soa, dropout_fwd_emit, &c);
}

void rg_dropout_bwd__avx2(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                          float scale, const float *dy, float *dx) {
  struct dropout_ctx c = make_dropout_ctx(threshold, scale, dy, dx);
  philox_run(n, key, bits24_soa, dropout_bwd_emit, &c);
}

/* y = fma(a, v, b): the affine map of both fills. */
struct fill_ctx {
  float *y;
  __m256 a, b;
};

RG_INLINE void fill_emit(const void *v, int64_t i, __m256 val, __m256i m, int tail) {
  const struct fill_ctx *c = v;
  rg_st(c->y + i, _mm256_fmadd_ps(c->a, val, c->b), m, tail);
}

/* u = (bits >> 8) 2^-24 in [0, 1) */
RG_INLINE void uniform_soa(const void *ctx, const __m256i w[4], __m256 v[4]) {
  (void)ctx;
  RG_UNROLL for (int k = 0; k < 4; k++)
    v[k] = _mm256_cvtepi32_ps(_mm256_srli_epi32(w[k], 8)) * rg_set(RG_U24_SCALE);
}

void rg_rand_uniform__avx2(int64_t n, const struct rg_rng_key *key, float lo, float hi,
                           float *y) {
  struct fill_ctx c = {y, rg_set(hi - lo), rg_set(lo)};
  philox_run(n, key, uniform_soa, fill_emit, &c);
}

/* Box-Muller on word pairs (0, 1) and (2, 3): u1 = ((w0 >> 8) + 1) 2^-24,
 * u2 = (w1 >> 8) 2^-24, r = sqrt(-2 log u1); the even word takes
 * r cos(2 pi u2), the odd word r sin(2 pi u2). */
RG_INLINE void normal_soa(const void *ctx, const __m256i w[4], __m256 v[4]) {
  (void)ctx;
  RG_UNROLL for (int k = 0; k < 4; k += 2) {
    __m256i b1 = _mm256_add_epi32(_mm256_srli_epi32(w[k], 8), splat(1));
    __m256 u1 = _mm256_cvtepi32_ps(b1) * rg_set(RG_U24_SCALE);
    __m256 u2 = _mm256_cvtepi32_ps(_mm256_srli_epi32(w[k + 1], 8)) * rg_set(RG_U24_SCALE);
    __m256 r = _mm256_sqrt_ps(rg_set(-2.0f) * rg_vlog(u1));
    Sleef___m256_2 sc = Sleef_sincospif8_u05avx2(u2 + u2);
    v[k] = r * sc.y;
    v[k + 1] = r * sc.x;
  }
}

void rg_rand_normal__avx2(int64_t n, const struct rg_rng_key *key, float mean, float std,
                          float *y) {
  struct fill_ctx c = {y, rg_set(std), rg_set(mean)};
  philox_run(n, key, normal_soa, fill_emit, &c);
}
