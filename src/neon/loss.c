/* NEON bodies of the row-wise softmax family and the losses
 * (src/scalar/loss.c is the reference). Row max, sum and dot go through the
 * 64-lane model of lanes.h; the per-row scalar steps are the same float
 * operations as in the reference, logf through SLEEF's AdvSIMD body. */
#define RG_ISA neon
#include "isa.h"
#include "lanes.h"

/* y = exp(x - mx) over a row. */
static void exp_shifted(int64_t n, const float *x, float mx, float *y) {
  const float32x4_t c = rg_dup(mx);
  for (int64_t j = 0; j < n; j += 4)
    rg_st(y + j, rg_exp4(vsubq_f32(rg_ld(x + j, n - j), c)), n - j);
}

/* y = y / s over a row. */
static void divide(int64_t n, float *y, float s) {
  const float32x4_t c = rg_dup(s);
  for (int64_t j = 0; j < n; j += 4) rg_st(y + j, vdivq_f32(rg_ld(y + j, n - j), c), n - j);
}

void rg_softmax_fwd__neon(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    exp_shifted(n, xr, rg_row_max(n, xr), yr);
    divide(n, yr, rg_row_sum(n, yr));
  }
}

void rg_softmax_bwd__neon(int64_t m, int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    const float32x4_t s = rg_dup(rg_row_dot(n, gr, yr));
    for (int64_t j = 0; j < n; j += 4) {
      float32x4_t d = vsubq_f32(rg_ld(gr + j, n - j), s);
      rg_st(dr + j, vfmaq_f32(rg_ld(dr + j, n - j), rg_ld(yr + j, n - j), d), n - j);
    }
  }
}

void rg_log_softmax_fwd__neon(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = rg_row_max(n, xr);
    float lse = rg_log1(rg_reduce(RG_FOLD_EXPSUM, n, xr, NULL, mx));
    const float32x4_t c = rg_dup(mx), l = rg_dup(lse);
    for (int64_t j = 0; j < n; j += 4)
      rg_st(yr + j, vsubq_f32(vsubq_f32(rg_ld(xr + j, n - j), c), l), n - j);
  }
}

void rg_log_softmax_bwd__neon(int64_t m, int64_t n, const float *y, const float *dy,
                              float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    const float32x4_t s = rg_dup(rg_row_sum(n, gr));
    for (int64_t j = 0; j < n; j += 4) {
      float32x4_t e = vnegq_f32(rg_exp4(rg_ld(yr + j, n - j)));
      float32x4_t t = vfmaq_f32(rg_ld(gr + j, n - j), e, s);
      rg_st(dr + j, vaddq_f32(rg_ld(dr + j, n - j), t), n - j);
    }
  }
}

void rg_xent_fwd__neon(int64_t m, int64_t n, float smoothing, const float *x,
                       const int32_t *labels, float *probs, float *row_loss) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *pr = probs + r * n;
    float mx = rg_row_max(n, xr);
    exp_shifted(n, xr, mx, pr);
    float s = rg_row_sum(n, pr);
    divide(n, pr, s);
    float lse = mx + rg_log1(s);
    float tgt = xr[labels[r]];
    if (smoothing != 0.0f)
      tgt = fmaf(1.0f - smoothing, tgt, (smoothing / (float)n) * rg_row_sum(n, xr));
    row_loss[r] = lse - tgt;
  }
}

/* dx += g (probs - target); the target is `off` except `on` at the label. */
void rg_xent_bwd__neon(int64_t m, int64_t n, float smoothing, float g, const float *probs,
                       const int32_t *labels, float *dx) {
  const float off = smoothing / (float)n;
  const float on = (1.0f - smoothing) + off;
  const float32x4_t gv = rg_dup(g), offv = rg_dup(off);
  for (int64_t r = 0; r < m; r++) {
    const float *pr = probs + r * n;
    float *dr = dx + r * n;
    const int64_t label = labels[r];
    for (int64_t j = 0; j < n; j += 4) {
      float32x4_t t = offv;
      if (label >= j && label < j + 4) {
        float tt[4] = {off, off, off, off};
        tt[label - j] = on;
        t = vld1q_f32(tt);
      }
      float32x4_t d = vsubq_f32(rg_ld(pr + j, n - j), t);
      rg_st(dr + j, vfmaq_f32(rg_ld(dr + j, n - j), gv, d), n - j);
    }
  }
}

/* max(x, 0) - x t + log1p(exp(-|x|)), with (x > 0) ? x : 0 for the max. */
void rg_bce_fwd__neon(int64_t n, const float *x, const float *t, float *loss) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    float32x4_t pos = rg_sel(vcgtq_f32(v, rg_zero()), v, rg_zero());
    float32x4_t lin = vsubq_f32(pos, vmulq_f32(v, rg_ld(t + i, n - i)));
    float32x4_t soft = rg_log1p4(rg_exp4(vnegq_f32(vabsq_f32(v))));
    rg_st(loss + i, vaddq_f32(lin, soft), n - i);
  }
}

void rg_bce_bwd__neon(int64_t n, float g, const float *x, const float *t, float *dx) {
  const float32x4_t gv = rg_dup(g);
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t d = vsubq_f32(rg_sigmoid4(rg_ld(x + i, n - i)), rg_ld(t + i, n - i));
    rg_st(dx + i, vfmaq_f32(rg_ld(dx + i, n - i), gv, d), n - i);
  }
}
