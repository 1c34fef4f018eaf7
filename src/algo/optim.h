/* The fused parameter updates (formulas in kernels.h). Every branch depends
 * only on the hyperparameters, never on the data, so it is taken once per
 * call and the same for every lane. */
#ifndef RG_ALGO_OPTIM_H
#define RG_ALGO_OPTIM_H

/* g = g grad_scale; g = fma(weight_decay, w, g);
 * b = first ? g : fma(momentum, b, (1 - dampening) g);
 * g = nesterov ? fma(momentum, b, g) : b;
 * w = fma(-(lr decoupled_decay), w, w); w = fma(-lr, g, w). */
void RG_PICK(rg_sgd_step__scalar, rg_sgd_step__avx2, rg_sgd_step__avx512,
             rg_sgd_step__neon)(int64_t n, const struct rg_sgd_hyper *h, float *w,
                                const float *g, float *buf) {
  const rg_vf gs = rg_vset(h->grad_scale), wd = rg_vset(h->weight_decay);
  const rg_vf mom = rg_vset(h->momentum), damp1 = rg_vset(1.0f - h->dampening);
  const rg_vf neg_lr = rg_vset(-h->lr), neg_dd = rg_vset(-(h->lr * h->decoupled_decay));
  const int has_wd = h->weight_decay != 0.0f, has_mom = h->momentum != 0.0f;
  const int has_dd = h->decoupled_decay != 0.0f, first = h->first, nesterov = h->nesterov;
  RG_EACH_BLOCK(n, i, t, {
    rg_vf wi = rg_vload(w + i, t);
    rg_vf gi = rg_vmul(rg_vload(g + i, t), gs);
    if (has_wd) gi = rg_vfma(wd, wi, gi);
    if (has_mom) {
      rg_vf b = first ? gi : rg_vfma(mom, rg_vload(buf + i, t), rg_vmul(damp1, gi));
      rg_vstore(buf + i, b, t);
      gi = nesterov ? rg_vfma(mom, b, gi) : b;
    }
    if (has_dd) wi = rg_vfma(neg_dd, wi, wi);
    rg_vstore(w + i, rg_vfma(neg_lr, gi, wi), t);
  });
}

/* Adam/AdamW: g = g grad_scale; g = fma(weight_decay, w, g);
 * w = fma(-(lr decoupled_decay), w, w);
 * m = fma(b1, m, (1 - b1) g); v = fma(b2, v, ((1 - b2) g) g);
 * w = fma(-(lr / bias_c1), m / (sqrt(v) / sqrt_bias_c2 + eps), w). */
void RG_PICK(rg_adam_step__scalar, rg_adam_step__avx2, rg_adam_step__avx512,
             rg_adam_step__neon)(int64_t n, const struct rg_adam_hyper *h, float *w,
                                 const float *g, float *m, float *v) {
  const rg_vf gs = rg_vset(h->grad_scale), wd = rg_vset(h->weight_decay);
  const rg_vf neg_dd = rg_vset(-(h->lr * h->decoupled_decay));
  const rg_vf b1 = rg_vset(h->beta1), c1 = rg_vset(1.0f - h->beta1);
  const rg_vf b2 = rg_vset(h->beta2), c2 = rg_vset(1.0f - h->beta2);
  const rg_vf sb2 = rg_vset(h->sqrt_bias_c2), eps = rg_vset(h->eps);
  const rg_vf neg_step = rg_vset(-(h->lr / h->bias_c1));
  const int has_wd = h->weight_decay != 0.0f, has_dd = h->decoupled_decay != 0.0f;
  RG_EACH_BLOCK(n, i, t, {
    rg_vf wi = rg_vload(w + i, t);
    rg_vf gi = rg_vmul(rg_vload(g + i, t), gs);
    if (has_wd) gi = rg_vfma(wd, wi, gi);
    if (has_dd) wi = rg_vfma(neg_dd, wi, wi);
    rg_vf mi = rg_vfma(b1, rg_vload(m + i, t), rg_vmul(c1, gi));
    rg_vf vi = rg_vfma(b2, rg_vload(v + i, t), rg_vmul(rg_vmul(c2, gi), gi));
    rg_vstore(m + i, mi, t);
    rg_vstore(v + i, vi, t);
    rg_vf denom = rg_vadd(rg_vdiv(rg_vsqrt(vi), sb2), eps);
    rg_vstore(w + i, rg_vfma(neg_step, rg_vdiv(mi, denom), wi), t);
  });
}

/* Soft threshold, the proximal step of t |w|, with a = |w| - t:
 * (a > 0) ? copysign(a, w) : ((a == a) ? 0 : w): exact zeros where
 * |w| <= t, and a NaN weight stays NaN. */
void RG_PICK(rg_prox_l1__scalar, rg_prox_l1__avx2, rg_prox_l1__avx512,
             rg_prox_l1__neon)(int64_t n, float t, float *w) {
  const rg_vf vt = rg_vset(t), zero = rg_vzero();
  RG_EACH_BLOCK(n, i, lv, {
    rg_vf wi = rg_vload(w + i, lv);
    rg_vf a = rg_vsub(rg_vabs(wi), vt);
    rg_vf small = rg_vsel(rg_veq(a, a), zero, wi);
    rg_vstore(w + i, rg_vsel(rg_vgt(a, zero), rg_vcopysign(a, wi), small), lv);
  });
}
#endif
