/* The Philox stream of the random slots (random.h): the words of the
 * elements of a call, or the standard normals made from them, a batch of
 * RG_PHILOX_VECS vectors at a time. Element i of a call takes word
 * (offset + i) % 4 of Philox4x32-10 block (offset + i) / 4
 * (core/philox.h). Each ISA's philox.h makes a group: the values of
 * RG_PHILOX_BLOCKS consecutive blocks in element order, one batch. With
 * s = offset % 4 = 0 a batch is a group; otherwise it is the window that
 * starts s values into one group and ends in the next. */
#ifndef RG_ALGO_PHILOX_H
#define RG_ALGO_PHILOX_H

/* Block numbers count element indices (mod 2^64) / 4, so they wrap at 2^62. */
#define RG_PHILOX_BLOCK_MASK (UINT64_MAX >> 2)

struct rg_philox {
  struct rg_philox_keys keys;
  uint64_t block; /* the next group's first block */
  int shift;      /* offset % 4 */
  int primed;     /* with a shift: cur holds the group the next batch starts in */
  rg_vu cur[RG_PHILOX_VECS];
};

RG_INLINE void rg_philox_start(struct rg_philox *st, const struct rg_rng_key *key) {
  rg_philox_keys_init(&st->keys, key);
  st->block = ((uint64_t)key->offset >> 2) & RG_PHILOX_BLOCK_MASK;
  st->shift = (int)((uint64_t)key->offset & 3);
  st->primed = 0;
}

RG_INLINE void rg_philox_next_group(struct rg_philox *st, int normal,
                                    rg_vu out[RG_PHILOX_VECS]) {
  rg_philox_group(&st->keys, st->block, normal, out);
  st->block = (st->block + RG_PHILOX_BLOCKS) & RG_PHILOX_BLOCK_MASK;
}

/* The next batch: words, or (normal) the bits of standard normals. */
RG_INLINE void rg_philox_batch(struct rg_philox *st, int normal, rg_vu out[RG_PHILOX_VECS]) {
  if (st->shift == 0) {
    rg_philox_next_group(st, normal, out);
    return;
  }
  if (!st->primed) rg_philox_next_group(st, normal, st->cur);
  st->primed = 1;
  rg_vu both[2 * RG_PHILOX_VECS];
  RG_UNROLL for (int q = 0; q < RG_PHILOX_VECS; q++) both[q] = st->cur[q];
  rg_philox_next_group(st, normal, both + RG_PHILOX_VECS);
  /* value q RG_VL + l of the batch is value q RG_VL + l + shift of both */
  const int whole = st->shift / RG_VL, part = st->shift % RG_VL;
  RG_UNROLL for (int q = 0; q < RG_PHILOX_VECS; q++)
    out[q] = rg_vwindow(both[q + whole], both[q + whole + 1], part);
  RG_UNROLL for (int q = 0; q < RG_PHILOX_VECS; q++) st->cur[q] = both[RG_PHILOX_VECS + q];
}

RG_INLINE void rg_philox_words(struct rg_philox *st, rg_vu w[RG_PHILOX_VECS]) {
  rg_philox_batch(st, 0, w);
}

RG_INLINE void rg_philox_normals(struct rg_philox *st, rg_vf z[RG_PHILOX_VECS]) {
  rg_vu bits[RG_PHILOX_VECS];
  rg_philox_batch(st, 1, bits);
  RG_UNROLL for (int q = 0; q < RG_PHILOX_VECS; q++) z[q] = rg_vfloat_bits(bits[q]);
}

/* body for each block of RG_VL elements of [0, n) (RG_WALK's q, i, t),
 * vals[q] holding its Philox values: fetch is rg_philox_words (vals of
 * rg_vu) or rg_philox_normals (vals of rg_vf). */
#define RG_PHILOX_WALK(n, key, fetch, vals, q, i, t, ...)                       \
  do {                                                                          \
    struct rg_philox rg_st_;                                                    \
    rg_philox_start(&rg_st_, key);                                              \
    RG_WALK(n, RG_PHILOX_VECS, q, i, t, fetch(&rg_st_, vals), __VA_ARGS__);     \
  } while (0)
#endif
