/* The long reductions of one row, on the 64 virtual lanes of kernels.h
 * (RG_LANES): element i goes to lane i % 64, whatever the vector width, and
 * the lanes combine by a fixed halving tree, lane[i] = lane[i] + lane[i + w]
 * for w = 32, 16, ..., 1. Sums of squares use the 32 double lanes
 * (RG_SQ_LANES) the same way. Shared by reduce.h and loss.h. */
#ifndef RG_ALGO_ROWS_H
#define RG_ALGO_ROWS_H

/* The tree: whole accumulators first (w >= RG_VL), then inside the
 * register (rg_vhsum). The loops have constant bounds, so that they unroll
 * whole and the accumulators never leave the registers. */
#define RG_LOG2(x) ((x) >= 64 ? 6 : (x) >= 32 ? 5 : (x) >= 16 ? 4 : (x) >= 8 ? 3 : (x) >= 4 ? 2 : 1)
RG_INLINE float rg_lanes_sum(rg_vf *acc) {
  RG_UNROLL for (int l = 1; l <= RG_LOG2(RG_NACC); l++)
    RG_UNROLL for (int q = 0; q < RG_NACC / 2; q++)
      if (q < RG_NACC >> l) acc[q] = rg_vadd(acc[q], acc[q + (RG_NACC >> l)]);
  return rg_vhsum(acc[0]);
}

/* The same tree with lane[i] = (lane[i + w] > lane[i]) ? lane[i + w] :
 * lane[i]: the operand order decides which NaN survives. */
RG_INLINE float rg_lanes_max(rg_vf *acc) {
  RG_UNROLL for (int l = 1; l <= RG_LOG2(RG_NACC); l++)
    RG_UNROLL for (int q = 0; q < RG_NACC / 2; q++)
      if (q < RG_NACC >> l) acc[q] = rg_vmax(acc[q + (RG_NACC >> l)], acc[q]);
  return rg_vhmax(acc[0]);
}

RG_INLINE double rg_sq_lanes_sum(rg_vd *sq) {
  RG_UNROLL for (int l = 1; l <= RG_LOG2(RG_SQ_NACC); l++)
    RG_UNROLL for (int p = 0; p < RG_SQ_NACC / 2; p++)
      if (p < RG_SQ_NACC >> l) sq[p] = rg_vdadd(sq[p], sq[p + (RG_SQ_NACC >> l)]);
  return rg_vdhsum(sq[0]);
}

RG_INLINE void rg_lanes_set(rg_vf *acc, float v) {
  RG_UNROLL for (int q = 0; q < RG_NACC; q++) acc[q] = rg_vset(v);
}
RG_INLINE void rg_sq_lanes_zero(rg_vd *sq) {
  RG_UNROLL for (int p = 0; p < RG_SQ_NACC; p++) sq[p] = rg_vdzero();
}

/* Lanes of lane + x[i]. A dead lane loads +0.0, an identity here: a lane
 * that starts at +0.0 never becomes -0.0. The same holds for the other
 * sums below. */
RG_INLINE float rg_row_sum(int64_t n, const float *x) {
  rg_vf acc[RG_NACC];
  rg_lanes_set(acc, 0.0f);
  RG_LANE_WALK(n, q, i, t, { acc[q] = rg_vadd(acc[q], rg_vload(x + i, t)); });
  return rg_lanes_sum(acc);
}

/* Lanes of lane + |x[i]|. */
RG_INLINE float rg_row_asum(int64_t n, const float *x) {
  rg_vf acc[RG_NACC];
  rg_lanes_set(acc, 0.0f);
  RG_LANE_WALK(n, q, i, t, { acc[q] = rg_vadd(acc[q], rg_vabs(rg_vload(x + i, t))); });
  return rg_lanes_sum(acc);
}

/* Lanes of fma(x[i], y[i], lane). */
RG_INLINE float rg_row_dot(int64_t n, const float *x, const float *y) {
  rg_vf acc[RG_NACC];
  rg_lanes_set(acc, 0.0f);
  RG_LANE_WALK(n, q, i, t, { acc[q] = rg_vfma(rg_vload(x + i, t), rg_vload(y + i, t), acc[q]); });
  return rg_lanes_sum(acc);
}

/* Lanes start at -inf and take (x > lane) ? x : lane; dead lanes keep
 * theirs. */
RG_INLINE float rg_row_max(int64_t n, const float *x) {
  rg_vf acc[RG_NACC];
  rg_lanes_set(acc, -INFINITY);
  RG_LANE_WALK(n, q, i, t, {
    acc[q] = rg_vmerge(t, acc[q], rg_vmax(rg_vload(x + i, t), acc[q]));
  });
  return rg_lanes_max(acc);
}

/* Lanes of lane + e with e = exp(x[i] - mx), e also stored to y[i] when y
 * is not NULL: the softmax numerators and their sum in one pass (the same
 * numbers in the same lanes as storing them first and summing the row). */
RG_INLINE float rg_row_expsum(int64_t n, const float *x, float mx, float *y) {
  rg_vf acc[RG_NACC];
  const rg_vf vm = rg_vset(mx);
  rg_lanes_set(acc, 0.0f);
  RG_LANE_WALK(n, q, i, t, {
    rg_vf e = rg_vmerge(t, rg_vzero(), rg_vexp(rg_vsub(rg_vload(x + i, t), vm)));
    if (y) rg_vstore(y + i, e, t);
    acc[q] = rg_vadd(acc[q], e);
  });
  return rg_lanes_sum(acc);
}

/* Double lanes of fma(v, v, lane), v = (double)x[i] (exact, and so is v * v:
 * the FMA rounds once, like lane + v * v would). */
RG_INLINE double rg_row_sumsq(int64_t n, const float *x) {
  rg_vd sq[RG_SQ_NACC];
  rg_sq_lanes_zero(sq);
  RG_LANE_WALK(n, q, i, t, { rg_vsq_add(sq, q, x + i, t); });
  return rg_sq_lanes_sum(sq);
}
#endif
