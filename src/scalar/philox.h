/* The Philox stream of the random slots (src/algo/random.h) with one lane:
 * a batch is the 4 elements of one block's worth of words. Element i of a
 * call takes word (offset + i) % 4 of block (offset + i) / 4: with s =
 * offset % 4, batch b takes words s .. s + 3 of blocks b0 + b and b0 + b + 1
 * (b0 = offset / 4), the second only when s > 0. */
#ifndef RG_SCALAR_PHILOX_H
#define RG_SCALAR_PHILOX_H
#include "core/philox.h"

#define RG_PHILOX_VECS 4
/* Block numbers count element indices (mod 2^64) / 4, so they wrap at 2^62. */
#define RG_PHILOX_BLOCK_MASK (UINT64_MAX >> 2)

struct rg_philox {
  const struct rg_rng_key *key;
  uint64_t block; /* the next block to generate */
  int shift;      /* offset % 4 */
  int primed;     /* with shift: cur holds the block the next batch starts in */
  uint32_t cur[4];
};

RG_INLINE void rg_philox_start(struct rg_philox *st, const struct rg_rng_key *key) {
  st->key = key;
  st->block = ((uint64_t)key->offset >> 2) & RG_PHILOX_BLOCK_MASK;
  st->shift = (int)((uint64_t)key->offset & 3);
  st->primed = 0;
}

RG_INLINE void rg_philox_next_block(struct rg_philox *st, uint32_t w[4]) {
  rg_philox_block(st->key->seed, st->key->stream, st->block, w);
  st->block = (st->block + 1) & RG_PHILOX_BLOCK_MASK;
}

/* The words of the next 4 elements. */
RG_INLINE void rg_philox_words(struct rg_philox *st, rg_vu w[RG_PHILOX_VECS]) {
  if (st->shift == 0) {
    rg_philox_next_block(st, w);
    return;
  }
  if (!st->primed) rg_philox_next_block(st, st->cur), st->primed = 1;
  uint32_t both[8];
  memcpy(both, st->cur, sizeof st->cur);
  rg_philox_next_block(st, both + 4);
  memcpy(w, both + st->shift, 4 * sizeof *w);
  memcpy(st->cur, both + 4, sizeof st->cur);
}

/* Top 24 bits >= threshold: the element is kept. */
RG_INLINE rg_vm rg_philox_keep(rg_vu w, uint32_t threshold) { return (w >> 8) >= threshold; }

/* (w >> 8) 2^-24, exactly, in [0, 1). */
RG_INLINE rg_vf rg_philox_unit(rg_vu w) { return (float)(w >> 8) * RG_U24_SCALE; }

/* Box-Muller on the word pairs (0, 1) and (2, 3) of a block: u1 = ((even >>
 * 8) + 1) 2^-24 in (0, 1], u2 = (odd >> 8) 2^-24, r = sqrt(-2 log u1); the
 * even element takes r cos(2 pi u2), the odd one r sin(2 pi u2). */
RG_INLINE void rg_philox_box_muller(const uint32_t w[4], float z[4]) {
  for (int k = 0; k < 4; k += 2) {
    float u1 = (float)((w[k] >> 8) + 1) * RG_U24_SCALE;
    float u2 = rg_philox_unit(w[k + 1]);
    float r = sqrtf(-2.0f * rg_vlog(u1));
    Sleef_float_2 sc = rg_vsincospi(u2 + u2);
    z[k] = r * sc.y;
    z[k + 1] = r * sc.x;
  }
}

/* The standard normals of the next 4 elements: Box-Muller on whole blocks,
 * then the same window as the words. */
RG_INLINE void rg_philox_normals(struct rg_philox *st, rg_vf z[RG_PHILOX_VECS]) {
  uint32_t w[4];
  if (st->shift == 0) {
    rg_philox_next_block(st, w);
    rg_philox_box_muller(w, z);
    return;
  }
  if (!st->primed) rg_philox_next_block(st, st->cur), st->primed = 1;
  float both[8];
  rg_philox_box_muller(st->cur, both);
  rg_philox_next_block(st, st->cur);
  rg_philox_box_muller(st->cur, both + 4);
  memcpy(z, both + st->shift, 4 * sizeof *z);
}
#endif
