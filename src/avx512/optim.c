/* AVX-512 bodies of the fused optimizer updates (src/scalar/optim.c). The
 * branches depend only on hyperparameters, so they are taken per call. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "simd.h"

void rg_sgd_step__avx512(int64_t n, const struct rg_sgd_hyper *h, float *w, const float *g,
                         float *buf) {
  const __m512 gs = rg_splat(h->grad_scale), wd = rg_splat(h->weight_decay);
  const __m512 mom = rg_splat(h->momentum), damp1 = rg_splat(1.0f - h->dampening);
  const __m512 neg_lr = rg_splat(-h->lr), neg_dd = rg_splat(-(h->lr * h->decoupled_decay));
  const int has_wd = h->weight_decay != 0.0f, has_mom = h->momentum != 0.0f;
  const int has_dd = h->decoupled_decay != 0.0f;
  RG_EACH_BLOCK(n, i, k, {
    __m512 wi = rg_load(w + i, k);
    __m512 gi = _mm512_mul_ps(rg_load(g + i, k), gs);
    if (has_wd) gi = _mm512_fmadd_ps(wd, wi, gi);
    if (has_mom) {
      __m512 b = h->first ? gi
                          : _mm512_fmadd_ps(mom, rg_load(buf + i, k), _mm512_mul_ps(damp1, gi));
      rg_store(buf + i, k, b);
      gi = h->nesterov ? _mm512_fmadd_ps(mom, b, gi) : b;
    }
    if (has_dd) wi = _mm512_fmadd_ps(neg_dd, wi, wi);
    rg_store(w + i, k, _mm512_fmadd_ps(neg_lr, gi, wi));
  });
}

/* m = b1 m + (1 - b1) g;  v = b2 v + ((1 - b2) g) g;
 * w = fmaf(-lr / bias_c1, m / (sqrt(v) / sqrt_bias_c2 + eps), w). */
void rg_adam_step__avx512(int64_t n, const struct rg_adam_hyper *h, float *w, const float *g,
                          float *m, float *v) {
  const __m512 gs = rg_splat(h->grad_scale), wd = rg_splat(h->weight_decay);
  const __m512 neg_dd = rg_splat(-(h->lr * h->decoupled_decay));
  const __m512 b1 = rg_splat(h->beta1), c1 = rg_splat(1.0f - h->beta1);
  const __m512 b2 = rg_splat(h->beta2), c2 = rg_splat(1.0f - h->beta2);
  const __m512 sb2 = rg_splat(h->sqrt_bias_c2), eps = rg_splat(h->eps);
  const __m512 neg_step = rg_splat(-(h->lr / h->bias_c1));
  const int has_wd = h->weight_decay != 0.0f, has_dd = h->decoupled_decay != 0.0f;
  RG_EACH_BLOCK(n, i, k, {
    __m512 wi = rg_load(w + i, k);
    __m512 gi = _mm512_mul_ps(rg_load(g + i, k), gs);
    if (has_wd) gi = _mm512_fmadd_ps(wd, wi, gi);
    if (has_dd) wi = _mm512_fmadd_ps(neg_dd, wi, wi);
    __m512 mi = _mm512_fmadd_ps(b1, rg_load(m + i, k), _mm512_mul_ps(c1, gi));
    __m512 vi = _mm512_fmadd_ps(b2, rg_load(v + i, k), _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
    rg_store(m + i, k, mi);
    rg_store(v + i, k, vi);
    __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), sb2), eps);
    rg_store(w + i, k, _mm512_fmadd_ps(neg_step, _mm512_div_ps(mi, denom), wi));
  });
}

/* (a > 0) ? copysign(a, w) : ((a == a) ? 0 : w), a = |w| - t. */
void rg_prox_l1__avx512(int64_t n, float t, float *w) {
  const __m512 vt = rg_splat(t), zero = rg_zero();
  RG_EACH_BLOCK(n, i, k, {
    __m512 wi = rg_load(w + i, k);
    __m512 a = _mm512_sub_ps(rg_abs(wi), vt);
    __m512 r = _mm512_mask_mov_ps(wi, rg_eq(a, a), zero);
    rg_store(w + i, k, _mm512_mask_mov_ps(r, rg_gt(a, zero), rg_copysign(a, wi)));
  });
}
