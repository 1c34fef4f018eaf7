/* Philox4x32-10 on 16 blocks at once (lane j runs block first + j), the same
 * rounds as src/core/philox.h, and a stream that hands out the words of
 * consecutive elements 16 at a time: element i of a call takes word
 * (offset + i) % 4 of block (offset + i) / 4, for any offset. */
#ifndef RG_AVX512_VPHILOX_H
#define RG_AVX512_VPHILOX_H
#include "core/philox.h"
#include "kernels.h"
#include "simd.h"

/* Transposes words c[w] (block j in lane j) into memory order: out[q] holds
 * words 16q .. 16q + 15 of the 64, i.e. blocks 4q .. 4q + 3, four words each. */
static inline void rg_philox_interleave(const __m512i c[4], __m512i out[4]) {
  __m512i t0 = _mm512_unpacklo_epi32(c[0], c[1]); /* per 128-bit lane: a0 b0 a1 b1 */
  __m512i t1 = _mm512_unpackhi_epi32(c[0], c[1]); /* a2 b2 a3 b3 */
  __m512i t2 = _mm512_unpacklo_epi32(c[2], c[3]); /* c0 d0 c1 d1 */
  __m512i t3 = _mm512_unpackhi_epi32(c[2], c[3]); /* c2 d2 c3 d3 */
  /* u[r], 128-bit lane l: the 4 words of block 4l + r */
  __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
  __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
  /* 4 x 4 transpose of 128-bit lanes: out[q] = lane q of u0, u1, u2, u3 */
  __m512i v0 = _mm512_shuffle_i32x4(u0, u1, 0x44), v1 = _mm512_shuffle_i32x4(u2, u3, 0x44);
  __m512i v2 = _mm512_shuffle_i32x4(u0, u1, 0xEE), v3 = _mm512_shuffle_i32x4(u2, u3, 0xEE);
  out[0] = _mm512_shuffle_i32x4(v0, v1, 0x88);
  out[1] = _mm512_shuffle_i32x4(v0, v1, 0xDD);
  out[2] = _mm512_shuffle_i32x4(v2, v3, 0x88);
  out[3] = _mm512_shuffle_i32x4(v2, v3, 0xDD);
}

static inline __m512i rg_lane_index(void) {
  return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

/* The key of each of the 10 rounds, broadcast, and the stream words. */
struct rg_philox_keys {
  __m512i k0[10], k1[10];
  __m512i stream_lo, stream_hi;
};

static inline void rg_philox_keys_init(struct rg_philox_keys *rk, const struct rg_rng_key *key) {
  uint32_t k0 = (uint32_t)key->seed, k1 = (uint32_t)(key->seed >> 32);
  for (int round = 0; round < 10; round++) {
    rk->k0[round] = _mm512_set1_epi32((int)k0);
    rk->k1[round] = _mm512_set1_epi32((int)k1);
    k0 += RG_PHILOX_W0;
    k1 += RG_PHILOX_W1;
  }
  rk->stream_lo = _mm512_set1_epi32((int)(uint32_t)key->stream);
  rk->stream_hi = _mm512_set1_epi32((int)(uint32_t)(key->stream >> 32));
}

/* Ten rounds on 8 blocks held in the low halves of the 64-bit lanes of c[]:
 * mul_epu32 reads only those halves and returns the full 64-bit product, so
 * the high word is a shift away and the low word is the product itself (its
 * upper half is junk that no later multiply reads). */
static inline void rg_philox_rounds8(const struct rg_philox_keys *rk, __m512i c[4]) {
  const __m512i m0 = _mm512_set1_epi32((int)RG_PHILOX_M0);
  const __m512i m1 = _mm512_set1_epi32((int)RG_PHILOX_M1);
#pragma GCC unroll 10
  for (int round = 0; round < 10; round++) {
    __m512i p0 = _mm512_mul_epu32(c[0], m0), p1 = _mm512_mul_epu32(c[2], m1);
    /* 0x96: three-way xor */
    c[0] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(p1, 32), c[1], rk->k0[round], 0x96);
    c[2] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(p0, 32), c[3], rk->k1[round], 0x96);
    c[1] = p1;
    c[3] = p0;
  }
}

/* The 64 words of blocks first .. first + 15, in memory order. The even
 * blocks run in the low halves of the 64-bit lanes, the odd ones shifted
 * down into a second set; the two sets interleave back at the end. */
static inline void rg_philox16(const struct rg_philox_keys *rk, uint64_t first, __m512i out[4]) {
  __m512i lo = _mm512_set1_epi32((int)(uint32_t)first);
  __m512i hi = _mm512_set1_epi32((int)(uint32_t)(first >> 32));
  __m512i c0 = _mm512_add_epi32(lo, rg_lane_index());
  /* the low word wrapped: carry into the high word of the block number, which
   * is (element index) >> 2 of a 64-bit index, so it wraps at 2^62 */
  __mmask16 carry = _mm512_cmp_epu32_mask(c0, lo, _MM_CMPINT_LT);
  __m512i c1 = _mm512_mask_add_epi32(hi, carry, hi, _mm512_set1_epi32(1));
  c1 = _mm512_and_si512(c1, _mm512_set1_epi32(0x3fffffff));
  __m512i even[4] = {c0, c1, rk->stream_lo, rk->stream_hi};
  __m512i odd[4] = {_mm512_srli_epi64(c0, 32), _mm512_srli_epi64(c1, 32), rk->stream_lo,
                    rk->stream_hi};
  rg_philox_rounds8(rk, even);
  rg_philox_rounds8(rk, odd);
  __m512i c[4];
  for (int w = 0; w < 4; w++)
    c[w] = _mm512_mask_blend_epi32(0xAAAA, even[w], _mm512_slli_epi64(odd[w], 32));
  rg_philox_interleave(c, out);
}

/* Words of consecutive elements, 16 per step. w[] holds two chunks of 64
 * words starting at word 4 * (offset / 4); element words start s = offset % 4
 * words in, so each step picks 16 words across two neighbouring vectors. */
struct rg_philox_stream {
  struct rg_philox_keys keys;
  uint64_t block; /* first block after the chunks in w */
  int q;          /* the current step starts in w[q] */
  __m512i w[8];
  __m512i pos; /* s + lane: where each lane's word sits in w[q] : w[q + 1] */
};

static inline void rg_stream_init(struct rg_philox_stream *st, const struct rg_rng_key *key) {
  uint64_t idx = (uint64_t)key->offset;
  rg_philox_keys_init(&st->keys, key);
  st->q = 0;
  rg_philox16(&st->keys, idx >> 2, st->w);
  rg_philox16(&st->keys, (idx >> 2) + 16, st->w + 4);
  st->block = (idx >> 2) + 32;
  st->pos = _mm512_add_epi32(_mm512_set1_epi32((int)(idx & 3)), rg_lane_index());
}

/* Lane l gets the word at position idx[l] of w[q] : w[q + 1] (idx < 32). */
static inline __m512i rg_stream_pick(const struct rg_philox_stream *st, __m512i idx) {
  return _mm512_permutex2var_epi32(st->w[st->q], idx, st->w[st->q + 1]);
}

static inline void rg_stream_step(struct rg_philox_stream *st) {
  if (++st->q < 4) return;
  st->q = 0;
  for (int i = 0; i < 4; i++) st->w[i] = st->w[i + 4];
  rg_philox16(&st->keys, st->block, st->w + 4);
  st->block += 16;
}

/* The words of the next 16 elements. */
static inline __m512i rg_stream_next(struct rg_philox_stream *st) {
  __m512i w = rg_stream_pick(st, st->pos);
  rg_stream_step(st);
  return w;
}

/* Top 24 bits of each word as a float in [0, 1) (exact). */
static inline __m512 rg_u24(__m512i words) {
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(words, 8)), rg_splat(RG_U24_SCALE));
}
#endif
