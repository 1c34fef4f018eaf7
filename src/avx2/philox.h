/* Philox groups on AVX2, for the stream of src/algo/philox.h:
 * Philox4x32-10 runs on 8 consecutive blocks at once, one block per lane
 * (word-major, so Box-Muller sees its word pairs side by side), and a 4x8
 * transpose puts the 32 values of the group in element order. */
#ifndef RG_AVX2_PHILOX_H
#define RG_AVX2_PHILOX_H
#include "core/philox.h"

#define RG_PHILOX_VECS 4   /* vectors per group */
#define RG_PHILOX_BLOCKS 8 /* blocks per group, one per lane */

/* hi and lo halves of the 32x32->64 products a * mul, lane by lane:
 * mul_epu32 multiplies the even lanes; the odd lanes are shifted down. */
RG_INLINE void rg_mulhilo(__m256i a, uint32_t mul, __m256i *hi, __m256i *lo) {
  __m256i even = _mm256_mul_epu32(a, _mm256_set1_epi32((int)mul));
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), _mm256_set1_epi32((int)mul));
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/* w[k] = word k of blocks block .. block + 7 of stream (seed, stream). Block
 * numbers are element indices (mod 2^64) / 4, so they count mod 2^62. */
RG_INLINE void rg_philox8(const struct rg_rng_key *key, uint64_t block, __m256i w[4]) {
  __m256i base = _mm256_set1_epi32((int)(uint32_t)block);
  __m256i c0 = _mm256_add_epi32(base, rg_iota());
  /* Carry into word 1 where word 0 wrapped, i.e. where c0 < base unsigned
   * (compared as signed after flipping the top bit). */
  __m256i top = _mm256_set1_epi32((int)0x80000000u);
  __m256i wrapped =
      _mm256_cmpgt_epi32(_mm256_xor_si256(base, top), _mm256_xor_si256(c0, top));
  __m256i c1 = _mm256_and_si256(
      _mm256_sub_epi32(_mm256_set1_epi32((int)(uint32_t)(block >> 32)), wrapped),
      _mm256_set1_epi32(0x3FFFFFFF));
  __m256i c2 = _mm256_set1_epi32((int)(uint32_t)key->stream);
  __m256i c3 = _mm256_set1_epi32((int)(uint32_t)(key->stream >> 32));
  uint32_t k0 = (uint32_t)key->seed, k1 = (uint32_t)(key->seed >> 32);
  for (int round = 0; round < 10; round++) {
    __m256i hi0, lo0, hi1, lo1;
    rg_mulhilo(c0, RG_PHILOX_M0, &hi0, &lo0);
    rg_mulhilo(c2, RG_PHILOX_M1, &hi1, &lo1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
    c1 = lo1;
    c3 = lo0;
    k0 += RG_PHILOX_W0;
    k1 += RG_PHILOX_W1;
  }
  w[0] = c0, w[1] = c1, w[2] = c2, w[3] = c3;
}

/* v[k] lane b (word k of block b) -> out[q] = elements 8q .. 8q + 7. */
RG_INLINE void rg_transpose4x8(const __m256 v[4], __m256i out[4]) {
  __m256d t0 = _mm256_castps_pd(_mm256_unpacklo_ps(v[0], v[1]));
  __m256d t1 = _mm256_castps_pd(_mm256_unpackhi_ps(v[0], v[1]));
  __m256d t2 = _mm256_castps_pd(_mm256_unpacklo_ps(v[2], v[3]));
  __m256d t3 = _mm256_castps_pd(_mm256_unpackhi_ps(v[2], v[3]));
  __m256 b04 = _mm256_castpd_ps(_mm256_unpacklo_pd(t0, t2)); /* blocks 0 | 4 */
  __m256 b15 = _mm256_castpd_ps(_mm256_unpackhi_pd(t0, t2));
  __m256 b26 = _mm256_castpd_ps(_mm256_unpacklo_pd(t1, t3));
  __m256 b37 = _mm256_castpd_ps(_mm256_unpackhi_pd(t1, t3));
  out[0] = _mm256_castps_si256(_mm256_permute2f128_ps(b04, b15, 0x20));
  out[1] = _mm256_castps_si256(_mm256_permute2f128_ps(b26, b37, 0x20));
  out[2] = _mm256_castps_si256(_mm256_permute2f128_ps(b04, b15, 0x31));
  out[3] = _mm256_castps_si256(_mm256_permute2f128_ps(b26, b37, 0x31));
}

/* Top 24 bits >= threshold: the element is kept. The bits are below 2^24,
 * so with the threshold capped at 2^24 a signed compare is exact. */
RG_INLINE rg_vm rg_philox_keep(rg_vu w, uint32_t threshold) {
  uint32_t cap = 1u << 24;
  int below = (int)(threshold < cap ? threshold : cap) - 1;
  return _mm256_cmpgt_epi32(_mm256_srli_epi32(w, 8), _mm256_set1_epi32(below));
}

/* (w >> 8) 2^-24, exactly, in [0, 1). */
RG_INLINE rg_vf rg_philox_unit(rg_vu w) {
  return _mm256_cvtepi32_ps(_mm256_srli_epi32(w, 8)) * rg_vset(RG_U24_SCALE);
}

/* Box-Muller on word pairs (0, 1) and (2, 3), word-major: u1 = ((w0 >> 8)
 * + 1) 2^-24 in (0, 1], u2 = (w1 >> 8) 2^-24, r = sqrt(-2 log u1); the even
 * word takes r cos(2 pi u2), the odd word r sin(2 pi u2). */
RG_INLINE void rg_box_muller8(const __m256i w[4], __m256 z[4]) {
  RG_UNROLL for (int k = 0; k < 4; k += 2) {
    __m256i b1 = _mm256_add_epi32(_mm256_srli_epi32(w[k], 8), _mm256_set1_epi32((int)(1)));
    __m256 u1 = _mm256_cvtepi32_ps(b1) * rg_vset(RG_U24_SCALE);
    __m256 u2 = rg_philox_unit(w[k + 1]);
    __m256 r = _mm256_sqrt_ps(rg_vset(-2.0f) * rg_vlog(u1));
    Sleef___m256_2 sc = rg_vsincospi(u2 + u2);
    z[k] = r * sc.y;
    z[k + 1] = r * sc.x;
  }
}

/* Philox's key: the seed, and the stream as the counter's high words. */
struct rg_philox_keys {
  struct rg_rng_key key;
};
RG_INLINE void rg_philox_keys_init(struct rg_philox_keys *k, const struct rg_rng_key *key) {
  k->key = *key;
}

/* The 32 values of blocks block .. block + 7 in element order: their words,
 * or (normal) their standard normals, as bits. */
RG_INLINE void rg_philox_group(const struct rg_philox_keys *k, uint64_t block, int normal,
                               __m256i out[4]) {
  __m256i w[4];
  __m256 v[4];
  rg_philox8(&k->key, block, w);
  if (normal) {
    rg_box_muller8(w, v);
  } else {
    RG_UNROLL for (int q = 0; q < 4; q++) v[q] = _mm256_castsi256_ps(w[q]);
  }
  rg_transpose4x8(v, out);
}

/* Lanes s .. s + 7 of lo:hi, 0 <= s < 8. */
RG_INLINE rg_vu rg_vwindow(rg_vu lo, rg_vu hi, int s) {
  __m256i at = _mm256_add_epi32(rg_iota(), _mm256_set1_epi32(s));
  __m256i idx = _mm256_and_si256(at, _mm256_set1_epi32(RG_VL - 1));
  __m256i upper = _mm256_cmpgt_epi32(at, _mm256_set1_epi32(RG_VL - 1));
  return _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(lo, idx),
                           _mm256_permutevar8x32_epi32(hi, idx), upper);
}
#endif
