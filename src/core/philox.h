/* Philox4x32-10 (Salmon et al., SC'11), the counter-based generator behind
 * every random number in regrad. The scalar form here is the reference; the
 * SIMD kernels compute the same rounds lane by lane. */
#ifndef RG_PHILOX_H
#define RG_PHILOX_H

#include <stdint.h>

#define RG_PHILOX_M0 0xD2511F53u
#define RG_PHILOX_M1 0xCD9E8D57u
#define RG_PHILOX_W0 0x9E3779B9u
#define RG_PHILOX_W1 0xBB67AE85u

static inline void rg_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                    uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t)RG_PHILOX_M0 * c0;
    uint64_t p1 = (uint64_t)RG_PHILOX_M1 * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += RG_PHILOX_W0;
    k1 += RG_PHILOX_W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* The 4-word block holding element `index` of stream (seed, stream). */
static inline void rg_philox_block(uint64_t seed, uint64_t stream, uint64_t block,
                                   uint32_t out[4]) {
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32),
                           (uint32_t)stream, (uint32_t)(stream >> 32)};
  rg_philox4x32_10(ctr, key, out);
}

/* 24-bit uniforms: u = (bits >> 8) * 2^-24 lies in [0, 1) and is exact. */
#define RG_U24_SCALE 5.9604644775390625e-08f
#endif
