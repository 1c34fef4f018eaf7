/* Scalar reference bodies of the fused optimizer updates (formulas in
 * kernels.h). Every branch depends only on hyperparameters, never on data. */
#define RG_ISA scalar
#include "isa.h"

void rg_sgd_step__scalar(int64_t n, const struct rg_sgd_hyper *h, float *w, const float *g,
                         float *buf) {
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] * h->grad_scale;
    if (h->weight_decay != 0.0f) gi = fmaf(h->weight_decay, w[i], gi);
    if (h->momentum != 0.0f) {
      float b = h->first ? gi : fmaf(h->momentum, buf[i], (1.0f - h->dampening) * gi);
      buf[i] = b;
      gi = h->nesterov ? fmaf(h->momentum, b, gi) : b;
    }
    float wi = w[i];
    if (h->decoupled_decay != 0.0f) wi = fmaf(-(h->lr * h->decoupled_decay), wi, wi);
    w[i] = fmaf(-h->lr, gi, wi);
  }
}

/* m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 * w -= (lr / bias_c1) * m / (sqrt(v) / sqrt_bias_c2 + eps). */
void rg_adam_step__scalar(int64_t n, const struct rg_adam_hyper *h, float *w, const float *g,
                          float *m, float *v) {
  float step = h->lr / h->bias_c1;
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] * h->grad_scale;
    if (h->weight_decay != 0.0f) gi = fmaf(h->weight_decay, w[i], gi);
    float wi = w[i];
    if (h->decoupled_decay != 0.0f) wi = fmaf(-(h->lr * h->decoupled_decay), wi, wi);
    float mi = fmaf(h->beta1, m[i], (1.0f - h->beta1) * gi);
    float vi = fmaf(h->beta2, v[i], ((1.0f - h->beta2) * gi) * gi);
    m[i] = mi;
    v[i] = vi;
    float denom = sqrtf(vi) / h->sqrt_bias_c2 + h->eps;
    w[i] = fmaf(-step, mi / denom, wi);
  }
}

/* Soft threshold, the proximal step of t |w|: exact zeros where |w| <= t; a
 * NaN weight stays NaN. */
void rg_prox_l1__scalar(int64_t n, float t, float *w) {
  for (int64_t i = 0; i < n; i++) {
    float a = fabsf(w[i]) - t;
    w[i] = (a > 0.0f) ? copysignf(a, w[i]) : ((a == a) ? 0.0f : w[i]);
  }
}
