/* Scalar reference bodies of batch normalization over [n, f]. Column
 * statistics run down the rows in order, so vector bodies parallelize across
 * features and need no lane model. */
#define RG_ISA scalar
#include "isa.h"

/* Batch mean and biased variance of each column (two passes). */
void rg_bn_stats__scalar(int64_t n, int64_t f, const float *x, float *mean, float *var) {
  for (int64_t j = 0; j < f; j++) mean[j] = 0.0f, var[j] = 0.0f;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < f; j++) mean[j] = mean[j] + x[i * f + j];
  for (int64_t j = 0; j < f; j++) mean[j] = mean[j] / (float)n;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < f; j++) {
      float d = x[i * f + j] - mean[j];
      var[j] = fmaf(d, d, var[j]);
    }
  for (int64_t j = 0; j < f; j++) var[j] = var[j] / (float)n;
}

/* y = (x - mean) * invstd * gamma + beta */
void rg_bn_apply__scalar(int64_t n, int64_t f, const float *x, const float *mean,
                         const float *invstd, const float *gamma, const float *beta, float *y) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < f; j++)
      y[i * f + j] = fmaf((x[i * f + j] - mean[j]) * invstd[j], gamma[j], beta[j]);
}

/* With xh = (x - mean) invstd, per column:
 *   dbeta += sum dy, dgamma += sum dy xh,
 *   dx += (gamma invstd / n) (n dy - sum dy - xh sum(dy xh)).
 * The column sums run over rows in order, then add to dgamma and dbeta. */
void rg_bn_bwd__scalar(int64_t n, int64_t f, const float *x, const float *mean,
                       const float *invstd, const float *gamma, const float *dy, float *dx,
                       float *dgamma, float *dbeta) {
  for (int64_t j = 0; j < f; j++) {
    float sdy = 0.0f, sdyxh = 0.0f;
    for (int64_t i = 0; i < n; i++) {
      float xh = (x[i * f + j] - mean[j]) * invstd[j];
      sdy = sdy + dy[i * f + j];
      sdyxh = fmaf(dy[i * f + j], xh, sdyxh);
    }
    float k = (gamma[j] * invstd[j]) / (float)n;
    for (int64_t i = 0; i < n; i++) {
      float xh = (x[i * f + j] - mean[j]) * invstd[j];
      float t = fmaf(-xh, sdyxh, (float)n * dy[i * f + j] - sdy);
      dx[i * f + j] = fmaf(k, t, dx[i * f + j]);
    }
    dgamma[j] = dgamma[j] + sdyxh;
    dbeta[j] = dbeta[j] + sdy;
  }
}
