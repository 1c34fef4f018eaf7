/* Philox groups with one lane, for the stream of src/algo/philox.h: a
 * group is one block, its 4 words in element order, one per "vector". */
#ifndef RG_SCALAR_PHILOX_H
#define RG_SCALAR_PHILOX_H
#include "core/philox.h"

#define RG_PHILOX_VECS 4   /* vectors per group */
#define RG_PHILOX_BLOCKS 1 /* blocks per group */

/* Philox's key: the seed, and the stream as the counter's high words. */
struct rg_philox_keys {
  struct rg_rng_key key;
};
RG_INLINE void rg_philox_keys_init(struct rg_philox_keys *k, const struct rg_rng_key *key) {
  k->key = *key;
}

/* Top 24 bits >= threshold: the element is kept. */
RG_INLINE rg_vm rg_philox_keep(rg_vu w, uint32_t threshold) { return (w >> 8) >= threshold; }

/* (w >> 8) 2^-24, exactly, in [0, 1). */
RG_INLINE rg_vf rg_philox_unit(rg_vu w) { return (float)(w >> 8) * RG_U24_SCALE; }

/* The words of block `block`, or (normal) the bits of their standard
 * normals: Box-Muller on the word pairs (0, 1) and (2, 3), u1 = ((even >>
 * 8) + 1) 2^-24 in (0, 1], u2 = (odd >> 8) 2^-24, r = sqrt(-2 log u1); the
 * even element takes r cos(2 pi u2), the odd one r sin(2 pi u2). */
RG_INLINE void rg_philox_group(const struct rg_philox_keys *k, uint64_t block, int normal,
                               rg_vu out[4]) {
  rg_philox_block(k->key.seed, k->key.stream, block, out);
  if (!normal) return;
  for (int e = 0; e < 4; e += 2) {
    float u1 = (float)((out[e] >> 8) + 1) * RG_U24_SCALE;
    float u2 = rg_philox_unit(out[e + 1]);
    float r = sqrtf(-2.0f * rg_vlog(u1));
    Sleef_float_2 sc = rg_vsincospi(u2 + u2);
    float z[2] = {r * sc.y, r * sc.x};
    memcpy(out + e, z, sizeof z);
  }
}

/* One lane: the window never starts inside a vector. */
RG_INLINE rg_vu rg_vwindow(rg_vu lo, rg_vu hi, int s) { return (void)hi, (void)s, lo; }
#endif
