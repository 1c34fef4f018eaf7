/* Scalar reference bodies of the row-wise softmax family and the losses.
 * Row reductions (max, sum, dot) use the 64-lane model of lanes.h; the
 * per-row scalar steps (log of the sum, label terms) are plain float code
 * that every ISA evaluates identically. */
#define RG_ISA scalar
#include "isa.h"
#include "lanes.h"
#include "math.h"

void rg_softmax_fwd__scalar(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = rg_row_max(n, xr);
    for (int64_t j = 0; j < n; j++) yr[j] = rg_expf(xr[j] - mx);
    float s = rg_row_sum(n, yr);
    for (int64_t j = 0; j < n; j++) yr[j] = yr[j] / s;
  }
}

void rg_softmax_bwd__scalar(int64_t m, int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    float s = rg_row_dot(n, gr, yr);
    for (int64_t j = 0; j < n; j++) dr[j] = fmaf(yr[j], gr[j] - s, dr[j]);
  }
}

void rg_log_softmax_fwd__scalar(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = rg_row_max(n, xr);
    float lane[RG_LANES] = {0};
    for (int64_t j = 0; j < n; j++)
      lane[j % RG_LANES] = lane[j % RG_LANES] + rg_expf(xr[j] - mx);
    float lse = rg_logf(rg_lanes_sum(lane));
    for (int64_t j = 0; j < n; j++) yr[j] = (xr[j] - mx) - lse;
  }
}

void rg_log_softmax_bwd__scalar(int64_t m, int64_t n, const float *y, const float *dy,
                                float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    float s = rg_row_sum(n, gr);
    for (int64_t j = 0; j < n; j++) dr[j] = dr[j] + fmaf(-rg_expf(yr[j]), s, gr[j]);
  }
}

/* Per row: probs = softmax(x); loss = logsumexp(x) - target . x, where the
 * target is one-hot at the label, smoothed to (1 - s) one-hot + s / n. */
void rg_xent_fwd__scalar(int64_t m, int64_t n, float smoothing, const float *x,
                         const int32_t *labels, float *probs, float *row_loss) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *pr = probs + r * n;
    float mx = rg_row_max(n, xr);
    for (int64_t j = 0; j < n; j++) pr[j] = rg_expf(xr[j] - mx);
    float s = rg_row_sum(n, pr);
    for (int64_t j = 0; j < n; j++) pr[j] = pr[j] / s;
    float lse = mx + rg_logf(s);
    float tgt = xr[labels[r]];
    if (smoothing != 0.0f)
      tgt = fmaf(1.0f - smoothing, tgt, (smoothing / (float)n) * rg_row_sum(n, xr));
    row_loss[r] = lse - tgt;
  }
}

/* dx += g * (probs - target). */
void rg_xent_bwd__scalar(int64_t m, int64_t n, float smoothing, float g, const float *probs,
                         const int32_t *labels, float *dx) {
  float off = smoothing / (float)n;
  float on = (1.0f - smoothing) + off;
  for (int64_t r = 0; r < m; r++) {
    const float *pr = probs + r * n;
    float *dr = dx + r * n;
    for (int64_t j = 0; j < n; j++)
      dr[j] = fmaf(g, pr[j] - ((j == labels[r]) ? on : off), dr[j]);
  }
}

/* Binary cross-entropy with logits, per element, in the overflow-free form
 * max(x, 0) - x t + log1p(exp(-|x|)). */
void rg_bce_fwd__scalar(int64_t n, const float *x, const float *t, float *loss) {
  for (int64_t i = 0; i < n; i++) {
    float pos = (x[i] > 0.0f) ? x[i] : 0.0f;
    loss[i] = (pos - x[i] * t[i]) + rg_log1pf(rg_expf(-fabsf(x[i])));
  }
}

void rg_bce_bwd__scalar(int64_t n, float g, const float *x, const float *t, float *dx) {
  for (int64_t i = 0; i < n; i++) dx[i] = fmaf(g, rg_sigmoidf(x[i]) - t[i], dx[i]);
}
