/* The random slots: dropout masks generated and applied in one pass, and
 * uniform and normal fills. Element i of a call uses Philox4x32-10 block
 * (key->offset + i) / 4, word (key->offset + i) % 4 (core/philox.h), from
 * the stream of philox.h. */
#ifndef RG_ALGO_RANDOM_H
#define RG_ALGO_RANDOM_H

/* y = keep ? x scale : 0, keep = (word >> 8) >= threshold. */
void RG_PICK(rg_dropout_fwd__scalar, rg_dropout_fwd__avx2, rg_dropout_fwd__avx512,
             rg_dropout_fwd__neon)(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                                   float scale, const float *x, float *y) {
  rg_vu w[RG_PHILOX_VECS];
  const rg_vf vs = rg_vset(scale);
  RG_PHILOX_WALK(n, key, w, q, i, t, {
    rg_vf kept = rg_vkeep(rg_philox_keep(w[q], threshold), rg_vmul(rg_vload(x + i, t), vs));
    rg_vstore(y + i, kept, t);
  });
}

/* dx + (keep ? dy scale : 0), the mask regenerated from the same key. */
void RG_PICK(rg_dropout_bwd__scalar, rg_dropout_bwd__avx2, rg_dropout_bwd__avx512,
             rg_dropout_bwd__neon)(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                                   float scale, const float *dy, float *dx) {
  rg_vu w[RG_PHILOX_VECS];
  const rg_vf vs = rg_vset(scale);
  RG_PHILOX_WALK(n, key, w, q, i, t, {
    rg_vf kept = rg_vkeep(rg_philox_keep(w[q], threshold), rg_vmul(rg_vload(dy + i, t), vs));
    rg_vstore(dx + i, rg_vadd(rg_vload(dx + i, t), kept), t);
  });
}

/* y = fma(hi - lo, u, lo), u = (word >> 8) 2^-24 in [0, 1). */
void RG_PICK(rg_rand_uniform__scalar, rg_rand_uniform__avx2, rg_rand_uniform__avx512,
             rg_rand_uniform__neon)(int64_t n, const struct rg_rng_key *key, float lo, float hi,
                                    float *y) {
  rg_vu w[RG_PHILOX_VECS];
  const rg_vf span = rg_vset(hi - lo), vlo = rg_vset(lo);
  RG_PHILOX_WALK(n, key, w, q, i, t,
                 { rg_vstore(y + i, rg_vfma(span, rg_philox_unit(w[q]), vlo), t); });
}

/* y = fma(std, z, mean), z the Box-Muller normal of rg_philox_normals. */
void RG_PICK(rg_rand_normal__scalar, rg_rand_normal__avx2, rg_rand_normal__avx512,
             rg_rand_normal__neon)(int64_t n, const struct rg_rng_key *key, float mean, float std,
                                   float *y) {
  rg_vf z[RG_PHILOX_VECS];
  const rg_vf vstd = rg_vset(std), vmean = rg_vset(mean);
  RG_PHILOX_WALK(n, key, z, q, i, t,
                 { rg_vstore(y + i, rg_vfma(vstd, z[q], vmean), t); });
}
#endif
