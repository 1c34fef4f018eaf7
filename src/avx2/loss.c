/* AVX2 bodies of the row-wise softmax family and the losses. Row max, sum
 * and dot use the 64 lanes of lanes.h; exp(x - max) is summed in the same
 * lanes as it is produced (the scalar code stores it, then sums the stored
 * values: the same numbers in the same lanes). Per-row scalar steps are
 * plain float code, identical to the reference. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "lanes.h"
#include "simd.h"
#include "vmath.h"

/* Row sum of e = exp(x - mx), also storing e to y when y is not NULL. */
struct expsum_ctx {
  const float *x;
  float *y;
  __m256 mx;
  __m256 acc[RG_ACCS];
};

RG_INLINE void expsum_step(void *v, int q, int64_t i, __m256i m, int tail) {
  struct expsum_ctx *c = v;
  __m256 e = rg_vexp(rg_ld(c->x + i, m, tail) - c->mx);
  if (tail) e = rg_keep(_mm256_castsi256_ps(m), e); /* masked lanes add +0.0 */
  if (c->y) rg_st(c->y + i, e, m, tail);
  c->acc[q] = c->acc[q] + e;
}

RG_INLINE float row_expsum(int64_t n, const float *x, float mx, float *y) {
  struct expsum_ctx c = {.x = x, .y = y, .mx = rg_set(mx)};
  rg_lanes_run(n, expsum_step, &c);
  return rg_lanes_sum(c.acc);
}

/* y = softmax(x) on one row; returns the max and the sum of exponentials. */
static void row_softmax(int64_t n, const float *x, float *y, float *mx, float *s) {
  *mx = rg_row_max(n, x);
  *s = row_expsum(n, x, *mx, y);
  rg_map1(n, rg_div_op, *s, 0.0f, y, y);
}

void rg_softmax_fwd__avx2(int64_t m, int64_t n, const float *x, float *y) {
  float mx, s;
  for (int64_t r = 0; r < m; r++) row_softmax(n, x + r * n, y + r * n, &mx, &s);
}

/* fma(y, dy - s, dx) */
RG_INLINE __m256 softmax_bwd_op(const struct rg_vin *in) {
  return _mm256_fmadd_ps(in->a, in->b - in->s, in->c);
}

void rg_softmax_bwd__avx2(int64_t m, int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float s = rg_row_dot(n, gr, yr);
    rg_map3(n, softmax_bwd_op, s, 0.0f, yr, gr, dx + r * n, dx + r * n);
  }
}

/* (x - mx) - lse */
RG_INLINE __m256 log_softmax_op(const struct rg_vin *in) { return (in->a - in->s) - in->t; }

void rg_log_softmax_fwd__avx2(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float mx = rg_row_max(n, xr);
    float lse = rg_logf_avx2(row_expsum(n, xr, mx, NULL));
    rg_map1(n, log_softmax_op, mx, lse, xr, y + r * n);
  }
}

/* dx + fma(-exp(y), s, dy) */
RG_INLINE __m256 log_softmax_bwd_op(const struct rg_vin *in) {
  return in->c + _mm256_fmadd_ps(rg_neg(rg_vexp(in->a)), in->s, in->b);
}

void rg_log_softmax_bwd__avx2(int64_t m, int64_t n, const float *y, const float *dy,
                              float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *gr = dy + r * n;
    float s = rg_row_sum(n, gr);
    rg_map3(n, log_softmax_bwd_op, s, 0.0f, y + r * n, gr, dx + r * n, dx + r * n);
  }
}

void rg_xent_fwd__avx2(int64_t m, int64_t n, float smoothing, const float *x,
                       const int32_t *labels, float *probs, float *row_loss) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float mx, s;
    row_softmax(n, xr, probs + r * n, &mx, &s);
    float lse = mx + rg_logf_avx2(s);
    float tgt = xr[labels[r]];
    if (smoothing != 0.0f)
      tgt = fmaf(1.0f - smoothing, tgt, (smoothing / (float)n) * rg_row_sum(n, xr));
    row_loss[r] = lse - tgt;
  }
}

/* dx += g (p - target): target is `on` at the label column, `off` elsewhere. */
struct xent_bwd_ctx {
  const float *p;
  float *dx;
  int64_t label;
  __m256 g, on, off;
};

RG_INLINE void xent_bwd_chunk(void *v, int64_t j, __m256i m, int tail) {
  const struct xent_bwd_ctx *c = v;
  int64_t d = c->label - j; /* the label's lane in this chunk, if 0 <= d < 8 */
  __m256i hit = _mm256_cmpeq_epi32(rg_iota(), _mm256_set1_epi32(d >= 0 && d < RG_W ? (int)d : -1));
  __m256 tv = rg_sel(_mm256_castsi256_ps(hit), c->on, c->off);
  __m256 p = rg_ld(c->p + j, m, tail);
  rg_st(c->dx + j, _mm256_fmadd_ps(c->g, p - tv, rg_ld(c->dx + j, m, tail)), m, tail);
}

void rg_xent_bwd__avx2(int64_t m, int64_t n, float smoothing, float g, const float *probs,
                       const int32_t *labels, float *dx) {
  float off = smoothing / (float)n;
  float on = (1.0f - smoothing) + off;
  for (int64_t r = 0; r < m; r++) {
    struct xent_bwd_ctx c = {probs + r * n, dx + r * n, labels[r], rg_set(g), rg_set(on),
                             rg_set(off)};
    rg_chunks(n, xent_bwd_chunk, &c);
  }
}

/* (max(x, 0) - x t) + log1p(exp(-|x|)); (x > 0) ? x : 0 is maxps(x, 0). */
RG_INLINE __m256 bce_fwd_op(const struct rg_vin *in) {
  __m256 x = in->a;
  __m256 pos = _mm256_max_ps(x, rg_zero());
  return (pos - x * in->b) + rg_vlog1p(rg_vexp(rg_neg(rg_abs(x))));
}

/* fma(g, sigmoid(x) - t, dx) */
RG_INLINE __m256 bce_bwd_op(const struct rg_vin *in) {
  return _mm256_fmadd_ps(in->s, rg_vsigmoid(in->a) - in->b, in->c);
}

void rg_bce_fwd__avx2(int64_t n, const float *x, const float *t, float *loss) {
  rg_map2(n, bce_fwd_op, 0.0f, 0.0f, x, t, loss);
}

void rg_bce_bwd__avx2(int64_t n, float g, const float *x, const float *t, float *dx) {
  rg_map3(n, bce_bwd_op, g, 0.0f, x, t, dx, dx);
}
