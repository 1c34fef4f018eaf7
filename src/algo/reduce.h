/* The reductions: sums over the 64 lanes of rows.h (sums of squares over
 * the 32 double lanes), and max |x| on the bit patterns of |x| as unsigned
 * integers, which orders finite values, then infinity, then NaN: exact,
 * order-free (any grouping gives the same maximum) and NaN-propagating. */
#ifndef RG_ALGO_REDUCE_H
#define RG_ALGO_REDUCE_H

float RG_PICK(rg_sum__scalar, rg_sum__avx2, rg_sum__avx512,
              rg_sum__neon)(int64_t n, const float *x) {
  return rg_row_sum(n, x);
}

double RG_PICK(rg_sumsq__scalar, rg_sumsq__avx2, rg_sumsq__avx512,
               rg_sumsq__neon)(int64_t n, const float *x) {
  return rg_row_sumsq(n, x);
}

float RG_PICK(rg_asum__scalar, rg_asum__avx2, rg_asum__avx512,
              rg_asum__neon)(int64_t n, const float *x) {
  return rg_row_asum(n, x);
}

float RG_PICK(rg_dot__scalar, rg_dot__avx2, rg_dot__avx512,
              rg_dot__neon)(int64_t n, const float *x, const float *y) {
  return rg_row_dot(n, x, y);
}

/* The lane walker only supplies independent chains here; dead lanes load
 * +0.0, whose bits (0) are the identity of the unsigned max. */
float RG_PICK(rg_amax__scalar, rg_amax__avx2, rg_amax__avx512,
              rg_amax__neon)(int64_t n, const float *x) {
  rg_vu best[RG_NACC];
  RG_UNROLL for (int q = 0; q < RG_NACC; q++) best[q] = rg_vuzero();
  RG_LANE_WALK(n, q, i, t, { best[q] = rg_vumax(best[q], rg_vabsbits(rg_vload(x + i, t))); });
  RG_UNROLL for (int q = 1; q < RG_NACC; q++) best[0] = rg_vumax(best[0], best[q]);
  return rg_bits_to_float(rg_vuhmax(best[0]));
}

/* Gradient of max|x| (value m): g is shared equally by the elements with
 * |x| == m, each taking sign(x) g / count; dx + ((|x| == m) ? sign(x) share
 * : 0). Dead lanes read 0.0, which would match m == 0: they do not count. */
void RG_PICK(rg_amax_bwd__scalar, rg_amax_bwd__avx2, rg_amax_bwd__avx512,
             rg_amax_bwd__neon)(int64_t n, float m, float g, const float *x, float *dx) {
  const rg_vf vm = rg_vset(m);
  int64_t count = 0;
  RG_EACH_BLOCK(n, i, t, {
    count += rg_vcount(rg_vlive_and(t, rg_veq(rg_vabs(rg_vload(x + i, t)), vm)));
  });
  if (count == 0) return;
  const rg_vf share = rg_vset(g / (float)count);
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(x + i, t);
    rg_vf c = rg_vkeep(rg_veq(rg_vabs(v), vm), rg_vsignsel(v, share));
    rg_vstore(dx + i, rg_vadd(rg_vload(dx + i, t), c), t);
  });
}

/* One pass over an [m, n] tensor: per row the sum of squares on the double
 * lanes (stored when row_sumsq is not NULL) and the sum of |x| on the float
 * lanes; stats->sumsq and stats->asum add the row results in row order,
 * stats->amax is max |x| as the amax slot finds it. */
void RG_PICK(rg_grad_stats__scalar, rg_grad_stats__avx2, rg_grad_stats__avx512,
             rg_grad_stats__neon)(int64_t m, int64_t n, const float *x, double *row_sumsq,
                                  struct rg_grad_stats *stats) {
  double sq = 0.0;
  float ab = 0.0f;
  rg_vu best = rg_vuzero();
  for (int64_t r = 0; r < m; r++) {
    const float *row = x + r * n;
    rg_vd s[RG_SQ_NACC];
    rg_vf a[RG_NACC];
    rg_sq_lanes_zero(s);
    rg_lanes_set(a, 0.0f);
    RG_LANE_WALK(n, q, i, t, {
      rg_vf v = rg_vload(row + i, t);
      rg_vsq_add(s, q, row + i, t);
      a[q] = rg_vadd(a[q], rg_vabs(v));
      best = rg_vumax(best, rg_vabsbits(v));
    });
    double rs = rg_sq_lanes_sum(s);
    float ra = rg_lanes_sum(a);
    if (row_sumsq) row_sumsq[r] = rs;
    sq = sq + rs;
    ab = ab + ra;
  }
  stats->sumsq = sq;
  stats->asum = ab;
  stats->amax = rg_bits_to_float(rg_vuhmax(best));
}
#endif
