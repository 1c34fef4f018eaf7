/* Per-layer statistics of a training step (regrad.h, rg_layer_stats). The
 * mean, the centred sum of squares and the saturation count are plain
 * double loops over the elements in index order, and |dL/dh| goes through
 * rg_reduce_sumsq (the deterministic sumsq slot in fixed chunks): the same
 * bits on every ISA and thread count. Only the trainer's sampled steps call
 * these, so a run without layer statistics does none of this work. */
#include <math.h>

#include "train/layer_stats.h"
#include "train/mlp.h"

/* Saturated elements of y under activation a (regrad.h gives the
 * thresholds); -1 when the output cannot tell (leaky_relu, slope < 0). */
static int64_t saturated(rg_nonlinearity a, float slope, int64_t n, const float *y) {
  int64_t c = 0;
  switch (a) {
    case RG_SIGMOID:
      for (int64_t i = 0; i < n; i++) c += y[i] < 0.02f || y[i] > 0.98f;
      return c;
    case RG_TANH:
      for (int64_t i = 0; i < n; i++) c += fabsf(y[i]) > 0.98f;
      return c;
    case RG_LEAKY_RELU:
      if (slope < 0.0f) return -1;
      if (slope > 0.0f) {
        for (int64_t i = 0; i < n; i++) c += y[i] < 0.0f;
        return c;
      }
      /* slope 0 is relu */
      /* fall through */
    case RG_RELU:
      for (int64_t i = 0; i < n; i++) c += y[i] == 0.0f;
      return c;
    default: return -1;
  }
}

static void output_stats(rg_ctx *ctx, const rg_mlp *m, const struct rg_tensor *h, bool hidden,
                         rg_layer_stats *s) {
  int64_t n = h->numel;
  const float *y = h->data;
  double sum = 0.0, centred = 0.0;
  for (int64_t i = 0; i < n; i++) sum += (double)y[i];
  double mean = sum / (double)n;
  for (int64_t i = 0; i < n; i++) {
    double d = (double)y[i] - mean;
    centred += d * d;
  }
  s->act_mean = (float)mean;
  s->act_std = (float)sqrt(centred / (double)n);
  int64_t sat = hidden ? saturated(m->cfg.activation, m->cfg.leaky_slope, n, y) : -1;
  s->saturation = sat < 0 ? NAN : (float)((double)sat / (double)n);
  /* No gradient reached the output: dL/dh is zero. */
  s->dldh_norm = h->grad ? (float)sqrt(rg_reduce_sumsq(ctx, n, h->grad)) : 0.0f;
}

void rg_layer_stats_outputs(rg_ctx *ctx, const rg_mlp *m, bool outputs, rg_layer_stats *s) {
  for (int i = 0; i < m->depth; i++) {
    const struct rg_tensor *h = outputs ? rg_deref(m->out[i]) : NULL;
    if (h && h->numel > 0) {
      output_stats(ctx, m, h, i < m->depth - 1, &s[i]);
    } else {
      s[i].act_mean = s[i].act_std = s[i].saturation = s[i].dldh_norm = NAN;
    }
  }
}

void rg_layer_stats_weight_grad(const rg_tensor *w, float dw_norm, rg_layer_stats *s) {
  s->dw_norm = dw_norm;
  s->dw_rms = (float)((double)dw_norm / sqrt((double)w->numel));
}
