/* NEON bodies of the fused optimizer updates (src/scalar/optim.c is the
 * reference). Branches depend only on the hyperparameters, so they are taken
 * per call exactly as the scalar loop takes them per element. */
#define RG_ISA neon
#include "isa.h"
#include "vec.h"

void rg_sgd_step__neon(int64_t n, const struct rg_sgd_hyper *h, float *w, const float *g,
                       float *buf) {
  const float32x4_t gs = rg_dup(h->grad_scale), wd = rg_dup(h->weight_decay);
  const float32x4_t mom = rg_dup(h->momentum), damp = rg_dup(1.0f - h->dampening);
  const float32x4_t dd = rg_dup(-(h->lr * h->decoupled_decay)), lr = rg_dup(-h->lr);
  for (int64_t i = 0; i < n; i += 4) {
    const int64_t r = n - i;
    float32x4_t wi = rg_ld(w + i, r);
    float32x4_t gi = vmulq_f32(rg_ld(g + i, r), gs);
    if (h->weight_decay != 0.0f) gi = vfmaq_f32(gi, wd, wi);
    if (h->momentum != 0.0f) {
      float32x4_t b = h->first ? gi : vfmaq_f32(vmulq_f32(damp, gi), mom, rg_ld(buf + i, r));
      rg_st(buf + i, b, r);
      gi = h->nesterov ? vfmaq_f32(gi, mom, b) : b;
    }
    if (h->decoupled_decay != 0.0f) wi = vfmaq_f32(wi, dd, wi);
    rg_st(w + i, vfmaq_f32(wi, lr, gi), r);
  }
}

/* m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 * w -= (lr / bias_c1) * m / (sqrt(v) / sqrt_bias_c2 + eps). */
void rg_adam_step__neon(int64_t n, const struct rg_adam_hyper *h, float *w, const float *g,
                        float *m, float *v) {
  const float32x4_t step = rg_dup(-(h->lr / h->bias_c1));
  const float32x4_t gs = rg_dup(h->grad_scale), wd = rg_dup(h->weight_decay);
  const float32x4_t dd = rg_dup(-(h->lr * h->decoupled_decay));
  const float32x4_t b1 = rg_dup(h->beta1), c1 = rg_dup(1.0f - h->beta1);
  const float32x4_t b2 = rg_dup(h->beta2), c2 = rg_dup(1.0f - h->beta2);
  const float32x4_t sb2 = rg_dup(h->sqrt_bias_c2), eps = rg_dup(h->eps);
  for (int64_t i = 0; i < n; i += 4) {
    const int64_t r = n - i;
    float32x4_t wi = rg_ld(w + i, r);
    float32x4_t gi = vmulq_f32(rg_ld(g + i, r), gs);
    if (h->weight_decay != 0.0f) gi = vfmaq_f32(gi, wd, wi);
    if (h->decoupled_decay != 0.0f) wi = vfmaq_f32(wi, dd, wi);
    float32x4_t mi = vfmaq_f32(vmulq_f32(c1, gi), b1, rg_ld(m + i, r));
    float32x4_t vi = vfmaq_f32(vmulq_f32(vmulq_f32(c2, gi), gi), b2, rg_ld(v + i, r));
    rg_st(m + i, mi, r);
    rg_st(v + i, vi, r);
    float32x4_t denom = vaddq_f32(vdivq_f32(vsqrtq_f32(vi), sb2), eps);
    rg_st(w + i, vfmaq_f32(wi, step, vdivq_f32(mi, denom)), r);
  }
}

/* Soft threshold: (a > 0) ? copysign(a, w) : ((a == a) ? 0 : w), a = |w| - t. */
void rg_prox_l1__neon(int64_t n, float t, float *w) {
  const float32x4_t tv = rg_dup(t);
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t wi = rg_ld(w + i, n - i);
    float32x4_t a = vsubq_f32(vabsq_f32(wi), tv);
    float32x4_t small = rg_sel(vceqq_f32(a, a), rg_zero(), wi);
    rg_st(w + i, rg_sel(vcgtq_f32(a, rg_zero()), rg_copysign(a, wi), small), n - i);
  }
}
