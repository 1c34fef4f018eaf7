/* AVX2 bodies of batch normalization over [n, f]. Every column statistic
 * runs down the rows in order (scalar/norm.c), so the vector bodies work on
 * column groups (rg_col_groups) with one register per column chunk: the
 * per-element operations and their order are the scalar ones. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "simd.h"

struct bn_ctx {
  int64_t n, f;
  const float *x, *mean, *invstd, *gamma, *beta, *dy;
  float *y, *var, *dx, *dgamma, *dbeta;
};

/* Loads column vector p at the group's chunks. */
RG_INLINE void ld_cols(__m256 *out, const float *p, int64_t j, const __m256i *m, int tail) {
  RG_UNROLL for (int q = 0; q < RG_CG; q++) out[q] = rg_ld(p + j + RG_W * q, m[q], tail);
}

/* var = (sum over rows of fma(d, d, .), d = x - mean) / n */
RG_INLINE void var_group(void *v, int64_t j, const __m256i *m, int tail) {
  const struct bn_ctx *c = v;
  __m256 mu[RG_CG], acc[RG_CG];
  ld_cols(mu, c->mean, j, m, tail);
  RG_UNROLL for (int q = 0; q < RG_CG; q++) acc[q] = rg_zero();
  for (int64_t i = 0; i < c->n; i++) {
    const float *row = c->x + i * c->f + j;
    RG_UNROLL for (int q = 0; q < RG_CG; q++) {
      __m256 d = rg_ld(row + RG_W * q, m[q], tail) - mu[q];
      acc[q] = _mm256_fmadd_ps(d, d, acc[q]);
    }
  }
  RG_UNROLL for (int q = 0; q < RG_CG; q++)
    rg_st(c->var + j + RG_W * q, acc[q] / rg_set((float)c->n), m[q], tail);
}

/* The mean is the scalar's column sum from +0.0, divided by n: colsum_acc
 * on a zeroed mean is exactly that sum. */
void rg_bn_stats__avx2(int64_t n, int64_t f, const float *x, float *mean, float *var) {
  memset(mean, 0, (size_t)f * sizeof *mean);
  rg_colsum_acc__avx2(n, f, x, mean);
  rg_map1(f, rg_div_op, (float)n, 0.0f, mean, mean);
  struct bn_ctx c = {.n = n, .f = f, .x = x, .mean = mean, .var = var};
  rg_col_groups(f, var_group, &c);
}

/* y = fma((x - mean) invstd, gamma, beta) */
RG_INLINE void apply_group(void *v, int64_t j, const __m256i *m, int tail) {
  const struct bn_ctx *c = v;
  __m256 mu[RG_CG], is[RG_CG], ga[RG_CG], be[RG_CG];
  ld_cols(mu, c->mean, j, m, tail);
  ld_cols(is, c->invstd, j, m, tail);
  ld_cols(ga, c->gamma, j, m, tail);
  ld_cols(be, c->beta, j, m, tail);
  for (int64_t i = 0; i < c->n; i++) {
    const float *row = c->x + i * c->f + j;
    float *out = c->y + i * c->f + j;
    RG_UNROLL for (int q = 0; q < RG_CG; q++) {
      __m256 xh = (rg_ld(row + RG_W * q, m[q], tail) - mu[q]) * is[q];
      rg_st(out + RG_W * q, _mm256_fmadd_ps(xh, ga[q], be[q]), m[q], tail);
    }
  }
}

void rg_bn_apply__avx2(int64_t n, int64_t f, const float *x, const float *mean,
                       const float *invstd, const float *gamma, const float *beta, float *y) {
  struct bn_ctx c = {.n = n, .f = f, .x = x, .mean = mean, .invstd = invstd, .gamma = gamma,
                     .beta = beta, .y = y};
  rg_col_groups(f, apply_group, &c);
}

/* Per column, as scalar/norm.c: sdy = sum dy, sdyxh = sum fma(dy, xh, .) in
 * row order; then dx = fma(k, fma(-xh, sdyxh, n dy - sdy), dx) with
 * k = (gamma invstd) / n; then dgamma += sdyxh, dbeta += sdy. */
RG_INLINE void bwd_group(void *v, int64_t j, const __m256i *m, int tail) {
  const struct bn_ctx *c = v;
  __m256 mu[RG_CG], is[RG_CG], sdy[RG_CG], sdyxh[RG_CG], k[RG_CG];
  __m256 nf = rg_set((float)c->n);
  ld_cols(mu, c->mean, j, m, tail);
  ld_cols(is, c->invstd, j, m, tail);
  RG_UNROLL for (int q = 0; q < RG_CG; q++) sdy[q] = rg_zero(), sdyxh[q] = rg_zero();
  for (int64_t i = 0; i < c->n; i++) {
    const float *xr = c->x + i * c->f + j, *gr = c->dy + i * c->f + j;
    RG_UNROLL for (int q = 0; q < RG_CG; q++) {
      __m256 xh = (rg_ld(xr + RG_W * q, m[q], tail) - mu[q]) * is[q];
      __m256 g = rg_ld(gr + RG_W * q, m[q], tail);
      sdy[q] = sdy[q] + g;
      sdyxh[q] = _mm256_fmadd_ps(g, xh, sdyxh[q]);
    }
  }
  ld_cols(k, c->gamma, j, m, tail);
  RG_UNROLL for (int q = 0; q < RG_CG; q++) k[q] = (k[q] * is[q]) / nf;
  for (int64_t i = 0; i < c->n; i++) {
    const float *xr = c->x + i * c->f + j, *gr = c->dy + i * c->f + j;
    float *dr = c->dx + i * c->f + j;
    RG_UNROLL for (int q = 0; q < RG_CG; q++) {
      __m256 xh = (rg_ld(xr + RG_W * q, m[q], tail) - mu[q]) * is[q];
      __m256 t = _mm256_fmadd_ps(rg_neg(xh), sdyxh[q],
                                 nf * rg_ld(gr + RG_W * q, m[q], tail) - sdy[q]);
      rg_st(dr + RG_W * q, _mm256_fmadd_ps(k[q], t, rg_ld(dr + RG_W * q, m[q], tail)), m[q],
            tail);
    }
  }
  RG_UNROLL for (int q = 0; q < RG_CG; q++) {
    float *dg = c->dgamma + j + RG_W * q, *db = c->dbeta + j + RG_W * q;
    rg_st(dg, rg_ld(dg, m[q], tail) + sdyxh[q], m[q], tail);
    rg_st(db, rg_ld(db, m[q], tail) + sdy[q], m[q], tail);
  }
}

void rg_bn_bwd__avx2(int64_t n, int64_t f, const float *x, const float *mean,
                     const float *invstd, const float *gamma, const float *dy, float *dx,
                     float *dgamma, float *dbeta) {
  struct bn_ctx c = {.n = n, .f = f, .x = x, .mean = mean, .invstd = invstd, .gamma = gamma,
                     .dy = dy, .dx = dx, .dgamma = dgamma, .dbeta = dbeta};
  rg_col_groups(f, bwd_group, &c);
}
