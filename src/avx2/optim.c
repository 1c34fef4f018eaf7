/* AVX2 bodies of the fused optimizer updates: the per-element expressions of
 * scalar/optim.c on 8 lanes. Branches depend only on hyperparameters, so
 * they are uniform across lanes. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "simd.h"

struct sgd_ctx {
  const struct rg_sgd_hyper *h;
  float *w, *buf;
  const float *g;
};

RG_INLINE void sgd_chunk(void *v, int64_t i, __m256i m, int tail) {
  const struct sgd_ctx *c = v;
  const struct rg_sgd_hyper *h = c->h;
  __m256 w = rg_ld(c->w + i, m, tail);
  __m256 g = rg_ld(c->g + i, m, tail) * rg_set(h->grad_scale);
  if (h->weight_decay != 0.0f) g = _mm256_fmadd_ps(rg_set(h->weight_decay), w, g);
  if (h->momentum != 0.0f) {
    __m256 mom = rg_set(h->momentum);
    __m256 b = h->first ? g
                        : _mm256_fmadd_ps(mom, rg_ld(c->buf + i, m, tail),
                                          rg_set(1.0f - h->dampening) * g);
    rg_st(c->buf + i, b, m, tail);
    g = h->nesterov ? _mm256_fmadd_ps(mom, b, g) : b;
  }
  if (h->decoupled_decay != 0.0f)
    w = _mm256_fmadd_ps(rg_set(-(h->lr * h->decoupled_decay)), w, w);
  rg_st(c->w + i, _mm256_fmadd_ps(rg_set(-h->lr), g, w), m, tail);
}

void rg_sgd_step__avx2(int64_t n, const struct rg_sgd_hyper *h, float *w, const float *g,
                       float *buf) {
  struct sgd_ctx c = {h, w, buf, g};
  rg_chunks(n, sgd_chunk, &c);
}

struct adam_ctx {
  const struct rg_adam_hyper *h;
  float step;
  float *w, *m, *v;
  const float *g;
};

/* m = fma(b1, m, (1 - b1) g); v = fma(b2, v, ((1 - b2) g) g);
 * w = fma(-step, m / (sqrt(v) / sqrt_bias_c2 + eps), w) */
RG_INLINE void adam_chunk(void *vc, int64_t i, __m256i msk, int tail) {
  const struct adam_ctx *c = vc;
  const struct rg_adam_hyper *h = c->h;
  __m256 w = rg_ld(c->w + i, msk, tail);
  __m256 g = rg_ld(c->g + i, msk, tail) * rg_set(h->grad_scale);
  if (h->weight_decay != 0.0f) g = _mm256_fmadd_ps(rg_set(h->weight_decay), w, g);
  if (h->decoupled_decay != 0.0f)
    w = _mm256_fmadd_ps(rg_set(-(h->lr * h->decoupled_decay)), w, w);
  __m256 m = _mm256_fmadd_ps(rg_set(h->beta1), rg_ld(c->m + i, msk, tail),
                             rg_set(1.0f - h->beta1) * g);
  __m256 v = _mm256_fmadd_ps(rg_set(h->beta2), rg_ld(c->v + i, msk, tail),
                             (rg_set(1.0f - h->beta2) * g) * g);
  rg_st(c->m + i, m, msk, tail);
  rg_st(c->v + i, v, msk, tail);
  __m256 denom = _mm256_sqrt_ps(v) / rg_set(h->sqrt_bias_c2) + rg_set(h->eps);
  rg_st(c->w + i, _mm256_fmadd_ps(rg_set(-c->step), m / denom, w), msk, tail);
}

void rg_adam_step__avx2(int64_t n, const struct rg_adam_hyper *h, float *w, const float *g,
                        float *m, float *v) {
  struct adam_ctx c = {h, h->lr / h->bias_c1, w, m, v, g};
  rg_chunks(n, adam_chunk, &c);
}

/* a = |w| - t; (a > 0) ? copysign(a, w) : ((a == a) ? 0 : w) */
RG_INLINE __m256 prox_l1_op(const struct rg_vin *in) {
  __m256 w = in->a, a = rg_abs(w) - in->s;
  __m256 not_nan = _mm256_cmp_ps(a, a, _CMP_ORD_Q);
  return rg_sel(rg_gt(a, rg_zero()), rg_copysign(a, w), rg_sel(not_nan, rg_zero(), w));
}

void rg_prox_l1__avx2(int64_t n, float t, float *w) { rg_map1(n, prox_l1_op, t, 0.0f, w, w); }
