/* Philox groups on AVX-512, for the stream of src/algo/philox.h:
 * Philox4x32-10 on 16 blocks at once (lane j runs block first + j), the
 * same rounds as src/core/philox.h, interleaved into element order. */
#ifndef RG_AVX512_PHILOX_H
#define RG_AVX512_PHILOX_H
#include "core/philox.h"

#define RG_PHILOX_VECS 4    /* vectors per group */
#define RG_PHILOX_BLOCKS 16 /* blocks per group, one per lane */

/* Transposes words c[w] (block j in lane j) into memory order: out[q] holds
 * words 16q .. 16q + 15 of the 64, i.e. blocks 4q .. 4q + 3, four words each. */
RG_INLINE void rg_philox_interleave(const __m512i c[4], __m512i out[4]) {
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

/* The key of each of the 10 rounds, broadcast, and the stream words. */
struct rg_philox_keys {
  __m512i k0[10], k1[10];
  __m512i stream_lo, stream_hi;
};

RG_INLINE void rg_philox_keys_init(struct rg_philox_keys *rk, const struct rg_rng_key *key) {
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
RG_INLINE void rg_philox_rounds8(const struct rg_philox_keys *rk, __m512i c[4]) {
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
RG_INLINE void rg_philox16(const struct rg_philox_keys *rk, uint64_t first, __m512i out[4]) {
  __m512i lo = _mm512_set1_epi32((int)(uint32_t)first);
  __m512i hi = _mm512_set1_epi32((int)(uint32_t)(first >> 32));
  __m512i c0 = _mm512_add_epi32(lo, rg_iota());
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

/* Top 24 bits >= threshold: the element is kept. */
RG_INLINE rg_vm rg_philox_keep(rg_vu w, uint32_t threshold) {
  return _mm512_cmp_epu32_mask(_mm512_srli_epi32(w, 8), _mm512_set1_epi32((int)threshold),
                               _MM_CMPINT_NLT);
}

/* (w >> 8) 2^-24, exactly, in [0, 1). */
RG_INLINE rg_vf rg_philox_unit(rg_vu w) {
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(w, 8)), rg_vset(RG_U24_SCALE));
}

/* Box-Muller per element of words in element order, starting on a block:
 * the pair (2p, 2p + 1) holding an element gives u1 = ((even >> 8) + 1)
 * 2^-24 in (0, 1] and u2 = (odd >> 8) 2^-24, r = sqrt(-2 log u1); even
 * elements take r cos(2 pi u2), odd ones r sin(2 pi u2). */
RG_INLINE rg_vf rg_box_muller16(rg_vu w) {
  const __m512i one = _mm512_set1_epi32(1);
  __m512i even = _mm512_permutexvar_epi32(_mm512_andnot_si512(one, rg_iota()), w);
  __m512i odd = _mm512_permutexvar_epi32(_mm512_or_si512(one, rg_iota()), w);
  __m512i b1 = _mm512_add_epi32(_mm512_srli_epi32(even, 8), _mm512_set1_epi32(1));
  __m512 u1 = _mm512_mul_ps(_mm512_cvtepi32_ps(b1), rg_vset(RG_U24_SCALE));
  __m512 u2 = rg_philox_unit(odd);
  __m512 r = _mm512_sqrt_ps(_mm512_mul_ps(rg_vset(-2.0f), rg_vlog(u1)));
  Sleef___m512_2 sc = rg_vsincospi(_mm512_add_ps(u2, u2));
  return _mm512_mul_ps(r, _mm512_mask_blend_ps((__mmask16)0xAAAA, sc.y, sc.x));
}

/* The 64 values of blocks block .. block + 15 in element order: their
 * words, or (normal) their standard normals, as bits. */
RG_INLINE void rg_philox_group(const struct rg_philox_keys *rk, uint64_t block, int normal,
                                   __m512i out[4]) {
  rg_philox16(rk, block, out);
  if (normal)
    RG_UNROLL for (int q = 0; q < 4; q++) out[q] = _mm512_castps_si512(rg_box_muller16(out[q]));
}

/* Lanes s .. s + 15 of lo:hi, 0 <= s < 16. */
RG_INLINE rg_vu rg_vwindow(rg_vu lo, rg_vu hi, int s) {
  return _mm512_permutex2var_epi32(lo, _mm512_add_epi32(rg_iota(), _mm512_set1_epi32(s)), hi);
}
#endif
