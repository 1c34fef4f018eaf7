/* NEON bodies of batch normalization over [n, f] (src/scalar/norm.c is the
 * reference). Column statistics run down the rows in order, so the vectors
 * span four features and each lane repeats the scalar loop of its column. */
#define RG_ISA neon
#include "isa.h"
#include "vec.h"

void rg_bn_stats__neon(int64_t n, int64_t f, const float *x, float *mean, float *var) {
  const float32x4_t nf = rg_dup((float)n);
  for (int64_t j = 0; j < f; j += 4) {
    const int64_t r = f - j;
    float32x4_t mu = rg_zero(), s2 = rg_zero();
    for (int64_t i = 0; i < n; i++) mu = vaddq_f32(mu, rg_ld(x + i * f + j, r));
    mu = vdivq_f32(mu, nf);
    for (int64_t i = 0; i < n; i++) {
      float32x4_t d = vsubq_f32(rg_ld(x + i * f + j, r), mu);
      s2 = vfmaq_f32(s2, d, d);
    }
    rg_st(mean + j, mu, r);
    rg_st(var + j, vdivq_f32(s2, nf), r);
  }
}

void rg_bn_apply__neon(int64_t n, int64_t f, const float *x, const float *mean,
                       const float *invstd, const float *gamma, const float *beta, float *y) {
  for (int64_t j = 0; j < f; j += 4) {
    const int64_t r = f - j;
    float32x4_t mu = rg_ld(mean + j, r), is = rg_ld(invstd + j, r);
    float32x4_t ga = rg_ld(gamma + j, r), be = rg_ld(beta + j, r);
    for (int64_t i = 0; i < n; i++) {
      float32x4_t xh = vmulq_f32(vsubq_f32(rg_ld(x + i * f + j, r), mu), is);
      rg_st(y + i * f + j, vfmaq_f32(be, xh, ga), r);
    }
  }
}

/* dbeta += sum dy, dgamma += sum dy xh,
 * dx += (gamma invstd / n) (n dy - sum dy - xh sum(dy xh)). */
void rg_bn_bwd__neon(int64_t n, int64_t f, const float *x, const float *mean,
                     const float *invstd, const float *gamma, const float *dy, float *dx,
                     float *dgamma, float *dbeta) {
  const float32x4_t nf = rg_dup((float)n);
  for (int64_t j = 0; j < f; j += 4) {
    const int64_t r = f - j;
    float32x4_t mu = rg_ld(mean + j, r), is = rg_ld(invstd + j, r);
    float32x4_t sdy = rg_zero(), sdyxh = rg_zero();
    for (int64_t i = 0; i < n; i++) {
      float32x4_t xh = vmulq_f32(vsubq_f32(rg_ld(x + i * f + j, r), mu), is);
      float32x4_t g = rg_ld(dy + i * f + j, r);
      sdy = vaddq_f32(sdy, g);
      sdyxh = vfmaq_f32(sdyxh, g, xh);
    }
    float32x4_t k = vdivq_f32(vmulq_f32(rg_ld(gamma + j, r), is), nf);
    for (int64_t i = 0; i < n; i++) {
      float32x4_t xh = vmulq_f32(vsubq_f32(rg_ld(x + i * f + j, r), mu), is);
      float32x4_t t = vfmaq_f32(vsubq_f32(vmulq_f32(nf, rg_ld(dy + i * f + j, r)), sdy),
                                vnegq_f32(xh), sdyxh);
      rg_st(dx + i * f + j, vfmaq_f32(rg_ld(dx + i * f + j, r), k, t), r);
    }
    rg_st(dgamma + j, vaddq_f32(rg_ld(dgamma + j, r), sdyxh), r);
    rg_st(dbeta + j, vaddq_f32(rg_ld(dbeta + j, r), sdy), r);
  }
}
