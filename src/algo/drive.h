/* The loops every shared algorithm is written with, on the vocabulary of
 * src/<isa>/vec.h. Each takes its body as the last argument; the block
 * loops write it out twice: once for the full blocks, where the live-lane
 * count t is the constant RG_VL (so loads and stores are plain ones), and
 * once for the last, partial block, where t < RG_VL masks them. No memory
 * past the end is touched and no pointer past it is formed. Outputs may alias inputs of
 * the same length: each block is loaded before it is stored. */
#ifndef RG_ALGO_DRIVE_H
#define RG_ALGO_DRIVE_H

/* body for each block of RG_VL elements of [0, n): i its first element, t
 * its live lanes. RG_BLOCK_UNROLL (vec.h) unrolls the full blocks where
 * that pays. */
#define RG_EACH_BLOCK(n, i, t, ...)            \
  do {                                         \
    const int64_t rg_n_ = (n);                 \
    int64_t i = 0;                             \
    RG_BLOCK_UNROLL                            \
    for (; i + RG_VL <= rg_n_; i += RG_VL) {   \
      const rg_vt t = rg_vtail(RG_VL);         \
      (void)t;                                 \
      __VA_ARGS__                              \
    }                                          \
    if (i < rg_n_) {                           \
      const rg_vt t = rg_vtail(rg_n_ - i);     \
      (void)t;                                 \
      __VA_ARGS__                              \
    }                                          \
  } while (0)

/* [0, n) in batches of `vecs` blocks of RG_VL elements: `start` runs at the
 * beginning of each batch, then body for each of its blocks: q the block's
 * place in the batch (a constant once unrolled, so that arrays indexed by
 * q stay in registers), i its first element, t its live lanes. In the last
 * batch, blocks from n on are skipped. */
#define RG_WALK(n, vecs, q, i, t, start, ...)                              \
  do {                                                                     \
    const int64_t rg_n_ = (n);                                             \
    int64_t rg_b_ = 0;                                                     \
    for (; rg_b_ + (vecs) * RG_VL <= rg_n_; rg_b_ += (vecs) * RG_VL) {     \
      start;                                                               \
      RG_UNROLL for (int q = 0; q < (vecs); q++) {                         \
        const int64_t i = rg_b_ + (int64_t)q * RG_VL;                      \
        const rg_vt t = rg_vtail(RG_VL);                                   \
        (void)t;                                                           \
        __VA_ARGS__                                                        \
      }                                                                    \
    }                                                                      \
    if (rg_b_ < rg_n_) {                                                   \
      start;                                                               \
      RG_UNROLL for (int q = 0; q < (vecs); q++) {                         \
        const int64_t i = rg_b_ + (int64_t)q * RG_VL;                      \
        if (i >= rg_n_) break;                                             \
        const rg_vt t = rg_vtail(rg_n_ - i);                               \
        (void)t;                                                           \
        __VA_ARGS__                                                        \
      }                                                                    \
    }                                                                      \
  } while (0)

/* The 64-lane walker of the long reductions (kernels.h, RG_LANES): element
 * i of a row goes to lane i % 64, held by accumulator q = (i % 64) / RG_VL
 * in its lane i % RG_VL. A partial block's dead lanes load +0.0. */
#define RG_LANE_WALK(n, q, i, t, ...) RG_WALK(n, RG_NACC, q, i, t, (void)0, __VA_ARGS__)

/* The columns [0, cols) of a row-major tensor in strips of RG_STRIP_VECS
 * blocks of RG_VL columns, for algorithms that run down the rows of each
 * column (one register per block while the rows stream past): j the strip's
 * first column, t[v] the tail of its block v (none live for a block wholly
 * past cols). Where RG_STRIP_SPLIT (vec.h) is 1 the full strips have a
 * constant t and the last one its own copy of the body; where it is 0
 * (AVX-512) every strip computes its masks, the form that runs fastest
 * there (docs/internals.md). */
#define RG_EACH_STRIP(cols, j, t, ...)                                          \
  do {                                                                          \
    const int64_t rg_c_ = (cols);                                               \
    int64_t j = 0;                                                              \
    rg_vt t[RG_STRIP_VECS];                                                     \
    for (; RG_STRIP_SPLIT && j + RG_STRIP_VECS * RG_VL <= rg_c_;                \
         j += RG_STRIP_VECS * RG_VL) {                                          \
      RG_UNROLL for (int v_ = 0; v_ < RG_STRIP_VECS; v_++) t[v_] = rg_vtail(RG_VL); \
      __VA_ARGS__                                                               \
    }                                                                           \
    for (; j < rg_c_; j += RG_STRIP_VECS * RG_VL) {                             \
      RG_UNROLL for (int v_ = 0; v_ < RG_STRIP_VECS; v_++)                      \
        t[v_] = rg_vtail(rg_c_ - j - (int64_t)v_ * RG_VL);                      \
      __VA_ARGS__                                                               \
    }                                                                           \
  } while (0)

/* Inside RG_EACH_STRIP: the statement that follows, for each live block v. */
#define RG_EACH_VEC(v, t) \
  RG_UNROLL for (int v = 0; v < RG_STRIP_VECS; v++) if (rg_vany(t[v]))

/* A strip's registers at +0.0: a block past the end keeps them so. */
RG_INLINE void rg_strip_zero(rg_vf *a) {
  RG_UNROLL for (int v = 0; v < RG_STRIP_VECS; v++) a[v] = rg_vzero();
}
#endif
