/* Scalar reference bodies of the elementwise slots. Each expression here is
 * the contract: SIMD bodies evaluate the same operations in the same order.
 * Comparisons are written so that a NaN input propagates to the output. */
#define RG_ISA scalar
#include "isa.h"
#include "math.h"

void rg_relu_fwd__scalar(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = (x[i] < 0.0f) ? 0.0f : x[i];
}

void rg_relu_bwd__scalar(int64_t n, const float *x, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i++) dx[i] = dx[i] + ((x[i] > 0.0f) ? dy[i] : 0.0f);
}

void rg_leaky_relu_fwd__scalar(int64_t n, float alpha, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = (x[i] < 0.0f) ? alpha * x[i] : x[i];
}

void rg_leaky_relu_bwd__scalar(int64_t n, float alpha, const float *x, const float *dy,
                               float *dx) {
  for (int64_t i = 0; i < n; i++) dx[i] = dx[i] + ((x[i] > 0.0f) ? dy[i] : alpha * dy[i]);
}

void rg_sigmoid_fwd__scalar(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = rg_sigmoidf(x[i]);
}

void rg_sigmoid_bwd__scalar(int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i++) dx[i] = fmaf(dy[i], y[i] * (1.0f - y[i]), dx[i]);
}

void rg_tanh_fwd__scalar(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = rg_tanhf(x[i]);
}

void rg_tanh_bwd__scalar(int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i++) dx[i] = fmaf(dy[i], fmaf(-y[i], y[i], 1.0f), dx[i]);
}

void rg_gelu_fwd__scalar(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) {
    float t = rg_tanhf(rg_gelu_u(x[i]));
    y[i] = (0.5f * x[i]) * (1.0f + t);
  }
}

/* d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c0 (1 + 3 c1 x^2), x^2 capped at
 * 100 (rg_gelu_x2: where it binds, 1 - t^2 = 0). */
void rg_gelu_bwd__scalar(int64_t n, const float *x, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i++) {
    float t = rg_tanhf(rg_gelu_u(x[i]));
    float du = RG_GELU_C0 * fmaf(3.0f * RG_GELU_C1, rg_gelu_x2(x[i]), 1.0f);
    float d = fmaf(0.5f * x[i], fmaf(-t, t, 1.0f) * du, 0.5f * (1.0f + t));
    dx[i] = fmaf(dy[i], d, dx[i]);
  }
}

void rg_exp_fwd__scalar(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = rg_expf(x[i]);
}

void rg_log_fwd__scalar(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = rg_logf(x[i]);
}

void rg_log_bwd__scalar(int64_t n, const float *x, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i++) dx[i] = dx[i] + dy[i] / x[i];
}

void rg_clamp_fwd__scalar(int64_t n, float lo, float hi, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = (x[i] < lo) ? lo : ((x[i] > hi) ? hi : x[i]);
}

/* Subgradient: the gradient passes where lo <= x <= hi, boundaries included. */
void rg_clamp_bwd__scalar(int64_t n, float lo, float hi, const float *x, const float *dy,
                          float *dx) {
  for (int64_t i = 0; i < n; i++)
    dx[i] = dx[i] + ((x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f);
}

void rg_add__scalar(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void rg_sub__scalar(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] - b[i];
}

void rg_mul__scalar(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

void rg_scale__scalar(int64_t n, float s, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = s * x[i];
}

void rg_axpy__scalar(int64_t n, float a, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

void rg_mul_acc__scalar(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = fmaf(a[i], b[i], y[i]);
}

/* y += a * sign(x), with sign(0) = 0 and sign(NaN) = 0. */
void rg_sign_acc__scalar(int64_t n, float a, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++)
    y[i] = y[i] + ((x[i] > 0.0f) ? a : ((x[i] < 0.0f) ? -a : 0.0f));
}

/* y[j] += sum over rows i (in order) of x[i][j]. */
void rg_colsum_acc__scalar(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) y[j] = y[j] + x[i * n + j];
}
