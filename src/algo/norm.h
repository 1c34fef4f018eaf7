/* Batch normalization over [n, f]. Every column statistic runs down the rows
 * in order, so the vectors run across features: strips of columns
 * (RG_EACH_STRIP) stay in registers, one per block and quantity, while the
 * rows stream past. The per-element operations and their order are those
 * of a plain loop over each column. */
#ifndef RG_ALGO_NORM_H
#define RG_ALGO_NORM_H

/* The strip of p at column j, one register per live block. */
#define RG_STRIP_LOAD(out, p, j, t) \
  RG_EACH_VEC(v_, t) out[v_] = rg_vload((p) + (j) + v_ * RG_VL, t[v_])

/* mean = (sum over rows of x, from +0) / n; var = (sum over rows of
 * fma(d, d, .), d = x - mean) / n: the batch mean and biased variance of
 * each column, in two passes. */
void RG_PICK(rg_bn_stats__scalar, rg_bn_stats__avx2, rg_bn_stats__avx512,
             rg_bn_stats__neon)(int64_t n, int64_t f, const float *x, float *mean, float *var) {
  const rg_vf count = rg_vset((float)n);
  RG_EACH_STRIP(f, j, t, {
    rg_vf mu[RG_STRIP_VECS], s[RG_STRIP_VECS];
    rg_strip_zero(mu);
    rg_strip_zero(s);
    for (int64_t i = 0; i < n; i++) {
      const float *row = x + i * f + j;
      RG_EACH_VEC(v, t) mu[v] = rg_vadd(mu[v], rg_vload(row + v * RG_VL, t[v]));
    }
    RG_EACH_VEC(v, t) mu[v] = rg_vdiv(mu[v], count);
    for (int64_t i = 0; i < n; i++) {
      const float *row = x + i * f + j;
      RG_EACH_VEC(v, t) {
        rg_vf d = rg_vsub(rg_vload(row + v * RG_VL, t[v]), mu[v]);
        s[v] = rg_vfma(d, d, s[v]);
      }
    }
    RG_EACH_VEC(v, t) {
      rg_vstore(mean + j + v * RG_VL, mu[v], t[v]);
      rg_vstore(var + j + v * RG_VL, rg_vdiv(s[v], count), t[v]);
    }
  });
}

/* y = fma((x - mean) invstd, gamma, beta) */
void RG_PICK(rg_bn_apply__scalar, rg_bn_apply__avx2, rg_bn_apply__avx512,
             rg_bn_apply__neon)(int64_t n, int64_t f, const float *x, const float *mean,
                                const float *invstd, const float *gamma, const float *beta,
                                float *y) {
  RG_EACH_STRIP(f, j, t, {
    rg_vf mu[RG_STRIP_VECS], is[RG_STRIP_VECS], ga[RG_STRIP_VECS], be[RG_STRIP_VECS];
    rg_strip_zero(mu);
    rg_strip_zero(is);
    rg_strip_zero(ga);
    rg_strip_zero(be);
    RG_STRIP_LOAD(mu, mean, j, t);
    RG_STRIP_LOAD(is, invstd, j, t);
    RG_STRIP_LOAD(ga, gamma, j, t);
    RG_STRIP_LOAD(be, beta, j, t);
    for (int64_t i = 0; i < n; i++) {
      const float *xr = x + i * f + j;
      float *yr = y + i * f + j;
      RG_EACH_VEC(v, t) {
        rg_vf xh = rg_vmul(rg_vsub(rg_vload(xr + v * RG_VL, t[v]), mu[v]), is[v]);
        rg_vstore(yr + v * RG_VL, rg_vfma(xh, ga[v], be[v]), t[v]);
      }
    }
  });
}

/* Per column, with xh = (x - mean) invstd: sdy = sum dy and sdyxh = sum
 * fma(dy, xh, .) down the rows from +0; then dx = fma(k, fma(-xh, sdyxh,
 * n dy - sdy), dx) with k = (gamma invstd) / n; then dgamma += sdyxh and
 * dbeta += sdy. That is dx += (gamma invstd / n) (n dy - sum dy - xh
 * sum(dy xh)). */
void RG_PICK(rg_bn_bwd__scalar, rg_bn_bwd__avx2, rg_bn_bwd__avx512,
             rg_bn_bwd__neon)(int64_t n, int64_t f, const float *x, const float *mean,
                              const float *invstd, const float *gamma, const float *dy,
                              float *dx, float *dgamma, float *dbeta) {
  const rg_vf count = rg_vset((float)n);
  RG_EACH_STRIP(f, j, t, {
    rg_vf mu[RG_STRIP_VECS], is[RG_STRIP_VECS], sdy[RG_STRIP_VECS], sdyxh[RG_STRIP_VECS];
    rg_vf k[RG_STRIP_VECS];
    rg_strip_zero(mu);
    rg_strip_zero(is);
    rg_strip_zero(sdy);
    rg_strip_zero(sdyxh);
    rg_strip_zero(k);
    RG_STRIP_LOAD(mu, mean, j, t);
    RG_STRIP_LOAD(is, invstd, j, t);
    for (int64_t i = 0; i < n; i++) {
      const float *xr = x + i * f + j, *gr = dy + i * f + j;
      RG_EACH_VEC(v, t) {
        rg_vf xh = rg_vmul(rg_vsub(rg_vload(xr + v * RG_VL, t[v]), mu[v]), is[v]);
        rg_vf g = rg_vload(gr + v * RG_VL, t[v]);
        sdy[v] = rg_vadd(sdy[v], g);
        sdyxh[v] = rg_vfma(g, xh, sdyxh[v]);
      }
    }
    RG_STRIP_LOAD(k, gamma, j, t);
    RG_EACH_VEC(v, t) k[v] = rg_vdiv(rg_vmul(k[v], is[v]), count);
    for (int64_t i = 0; i < n; i++) {
      const float *xr = x + i * f + j, *gr = dy + i * f + j;
      float *dr = dx + i * f + j;
      RG_EACH_VEC(v, t) {
        rg_vf xh = rg_vmul(rg_vsub(rg_vload(xr + v * RG_VL, t[v]), mu[v]), is[v]);
        rg_vf c = rg_vsub(rg_vmul(count, rg_vload(gr + v * RG_VL, t[v])), sdy[v]);
        rg_vf d = rg_vfma(k[v], rg_vfnma(xh, sdyxh[v], c), rg_vload(dr + v * RG_VL, t[v]));
        rg_vstore(dr + v * RG_VL, d, t[v]);
      }
    }
    RG_EACH_VEC(v, t) {
      float *dg = dgamma + j + v * RG_VL, *db = dbeta + j + v * RG_VL;
      rg_vstore(dg, rg_vadd(rg_vload(dg, t[v]), sdyxh[v]), t[v]);
      rg_vstore(db, rg_vadd(rg_vload(db, t[v]), sdy[v]), t[v]);
    }
  });
}
#undef RG_STRIP_LOAD
#endif
