/* Philox groups on NEON, for the stream of src/algo/philox.h:
 * Philox4x32-10 runs on four consecutive blocks at once, one block per
 * lane, with vmull_u32 for the 32x32->64 products; vst4q_u32 then lays the
 * 16 words out in element order. */
#ifndef RG_NEON_PHILOX_H
#define RG_NEON_PHILOX_H
#include "core/philox.h"

#define RG_PHILOX_VECS 4   /* vectors per group */
#define RG_PHILOX_BLOCKS 4 /* blocks per group, one per lane */

/* Philox's key: the seed, and the stream as the counter's high words. */
struct rg_philox_keys {
  struct rg_rng_key key;
};
RG_INLINE void rg_philox_keys_init(struct rg_philox_keys *k, const struct rg_rng_key *key) {
  k->key = *key;
}

/* The 16 words of blocks b .. b + 3 of stream (key->seed, key->stream). */
static inline void rg_philox16(const struct rg_rng_key *key, uint64_t b, uint32_t out[16]) {
  uint32_t lo[4], hi[4];
  for (int j = 0; j < 4; j++) {
    uint64_t blk = (b + (uint64_t)j) & (UINT64_MAX >> 2); /* element index / 4 wraps at 2^62 */
    lo[j] = (uint32_t)blk;
    hi[j] = (uint32_t)(blk >> 32);
  }
  uint32x4_t c0 = vld1q_u32(lo), c1 = vld1q_u32(hi);
  uint32x4_t c2 = vdupq_n_u32((uint32_t)key->stream);
  uint32x4_t c3 = vdupq_n_u32((uint32_t)(key->stream >> 32));
  uint32_t k0 = (uint32_t)key->seed, k1 = (uint32_t)(key->seed >> 32);
  const uint32x4_t m0 = vdupq_n_u32(RG_PHILOX_M0), m1 = vdupq_n_u32(RG_PHILOX_M1);
  for (int round = 0; round < 10; round++) {
    uint32x4_t p0a = vreinterpretq_u32_u64(vmull_u32(vget_low_u32(c0), vget_low_u32(m0)));
    uint32x4_t p0b = vreinterpretq_u32_u64(vmull_high_u32(c0, m0));
    uint32x4_t p1a = vreinterpretq_u32_u64(vmull_u32(vget_low_u32(c2), vget_low_u32(m1)));
    uint32x4_t p1b = vreinterpretq_u32_u64(vmull_high_u32(c2, m1));
    /* Low and high halves of the four 64-bit products, in lane order. */
    uint32x4_t p0lo = vuzp1q_u32(p0a, p0b), p0hi = vuzp2q_u32(p0a, p0b);
    uint32x4_t p1lo = vuzp1q_u32(p1a, p1b), p1hi = vuzp2q_u32(p1a, p1b);
    uint32x4_t n0 = veorq_u32(veorq_u32(p1hi, c1), vdupq_n_u32(k0));
    uint32x4_t n2 = veorq_u32(veorq_u32(p0hi, c3), vdupq_n_u32(k1));
    c1 = p1lo;
    c3 = p0lo;
    c0 = n0;
    c2 = n2;
    k0 += RG_PHILOX_W0;
    k1 += RG_PHILOX_W1;
  }
  uint32x4x4_t words = {{c0, c1, c2, c3}};
  vst4q_u32(out, words);
}

/* Top 24 bits >= threshold: the element is kept. */
RG_INLINE rg_vm rg_philox_keep(rg_vu w, uint32_t threshold) {
  return vcgeq_u32(vshrq_n_u32(w, 8), vdupq_n_u32(threshold));
}

/* (w >> 8) 2^-24, exactly, in [0, 1). */
RG_INLINE rg_vf rg_philox_unit(rg_vu w) {
  return vmulq_f32(vcvtq_f32_u32(vshrq_n_u32(w, 8)), vdupq_n_f32(RG_U24_SCALE));
}

/* Box-Muller per element of the words of one block: u1 = ((w0 >> 8) + 1)
 * 2^-24 in (0, 1] from the even word of the element's pair, u2 = (w1 >> 8)
 * 2^-24 from the odd one, r = sqrt(-2 log u1); even elements take
 * r cos(2 pi u2), odd ones r sin(2 pi u2). */
RG_INLINE rg_vf rg_box_muller4(rg_vu w) {
  static const uint32_t odd_lane[4] = {0, 0xffffffffu, 0, 0xffffffffu};
  uint32x4_t even = vtrn1q_u32(w, w), odd = vtrn2q_u32(w, w);
  float32x4_t u1 = vmulq_f32(vcvtq_f32_u32(vaddq_u32(vshrq_n_u32(even, 8), vdupq_n_u32(1))),
                             vdupq_n_f32(RG_U24_SCALE));
  float32x4_t u2 = rg_philox_unit(odd);
  float32x4_t r = vsqrtq_f32(vmulq_f32(vdupq_n_f32(-2.0f), rg_vlog(u1)));
  Sleef_float32x4_t_2 sc = rg_vsincospi(vaddq_f32(u2, u2));
  return vmulq_f32(r, vbslq_f32(vld1q_u32(odd_lane), sc.x, sc.y));
}

/* The 16 values of blocks block .. block + 3 in element order: their
 * words, or (normal) their standard normals, as bits. */
static inline void rg_philox_group(const struct rg_philox_keys *k, uint64_t block, int normal,
                                   uint32x4_t out[4]) {
  uint32_t w[16];
  rg_philox16(&k->key, block, w);
  for (int q = 0; q < 4; q++) {
    out[q] = vld1q_u32(w + 4 * q);
    if (normal) out[q] = vreinterpretq_u32_f32(rg_box_muller4(out[q]));
  }
}

/* Lanes s .. s + 3 of lo:hi, 0 <= s < 4 (vextq_u32 takes a constant). */
RG_INLINE rg_vu rg_vwindow(rg_vu lo, rg_vu hi, int s) {
  switch (s) {
    case 1: return vextq_u32(lo, hi, 1);
    case 2: return vextq_u32(lo, hi, 2);
    case 3: return vextq_u32(lo, hi, 3);
    default: return lo;
  }
}
#endif
