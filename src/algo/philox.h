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

/* The next group: words, or (normal) the bits of standard normals. */
RG_INLINE void rg_philox_next_group(struct rg_philox *st, int normal,
                                    rg_vu out[RG_PHILOX_VECS]) {
  rg_philox_group(&st->keys, st->block, normal, out);
  st->block = (st->block + RG_PHILOX_BLOCKS) & RG_PHILOX_BLOCK_MASK;
}

/* A batch of a call that starts inside a block: the window that starts
 * shift values into the current group and ends in the next. Out of line,
 * so that the loop of an aligned call (dropout's, and every call the ops
 * make) holds one group generator and keeps its values in registers. */
__attribute__((noinline)) static void rg_philox_batch_shifted(struct rg_philox *st, int normal,
                                                              rg_vu out[RG_PHILOX_VECS]) {
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

/* The values of the next batch. */
RG_INLINE void rg_philox_batch(struct rg_philox *st, int normal, rg_vu out[RG_PHILOX_VECS]) {
  if (st->shift == 0) {
    rg_philox_next_group(st, normal, out);
    return;
  }
  rg_vu shifted[RG_PHILOX_VECS]; /* not out, which stays in registers */
  rg_philox_batch_shifted(st, normal, shifted);
  RG_UNROLL for (int q = 0; q < RG_PHILOX_VECS; q++) out[q] = shifted[q];
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
 * vals[q] holding its Philox values: the words when vals is an array of
 * rg_vu, the standard normals when it is one of rg_vf. */
#define RG_PHILOX_FETCH(vals) \
  _Generic((vals)[0], rg_vf: rg_philox_normals, default: rg_philox_words)
#define RG_PHILOX_WALK(n, key, vals, q, i, t, ...)                                 \
  do {                                                                             \
    struct rg_philox rg_st_;                                                       \
    rg_philox_start(&rg_st_, key);                                                 \
    RG_WALK(n, RG_PHILOX_VECS, q, i, t, RG_PHILOX_FETCH(vals)(&rg_st_, vals), __VA_ARGS__); \
  } while (0)
#endif
