/* The multilayer perceptron used by the `regrad` command and the study. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

struct layer {
  rg_tensor *w, *b, *gamma, *beta, *rmean, *rvar;
};

struct rg_mlp {
  rg_ctx *ctx;
  rg_mlp_config cfg;
  int depth;
  struct layer layers[RG_MLP_MAX_LAYERS + 1];
};

static rg_tensor *make(rg_ctx *ctx, bool buffer, const char *prefix, int layer, const char *what,
                       rg_shape s) {
  char name[200];
  snprintf(name, sizeof name, "%s.%d.%s", prefix, layer, what);
  return buffer ? rg_buffer_new(ctx, name, s, NULL) : rg_param_new(ctx, name, s, NULL);
}

static bool config_ok(rg_ctx *ctx, const char *fn, const rg_mlp_config *c) {
  const char *bad = NULL;
  if (c->in < 1 || c->out < 1) bad = "in and out must be >= 1";
  else if (c->hidden < 0 || c->hidden > RG_MLP_MAX_LAYERS) bad = "hidden must be 0 to 64";
  else if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) bad = "dropout must be in [0, 1)";
  else if (c->activation == RG_LINEAR) bad = "activation must be relu, leaky_relu, tanh or sigmoid";
  for (int i = 0; !bad && i < c->hidden; i++)
    if (c->widths[i] < 1) bad = "every hidden width must be >= 1";
  if (bad) rg_fail(ctx, RG_EINVAL, fn, "%s", bad);
  return !bad;
}

rg_mlp *rg_mlp_new(rg_ctx *ctx, const char *prefix, const rg_mlp_config *cfg) {
  static const char fn[] = "rg_mlp_new";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!prefix || !cfg) {
    rg_fail(ctx, RG_EINVAL, fn, "prefix and cfg are required");
    return NULL;
  }
  if (!config_ok(ctx, fn, cfg)) return NULL;
  rg_mlp *m = rg_heap_alloc(ctx, fn, sizeof *m);
  if (!m) return NULL;
  memset(m, 0, sizeof *m);
  m->ctx = ctx;
  m->cfg = *cfg;
  m->depth = cfg->hidden + 1;
  int fan_in = cfg->in;
  for (int i = 0; i < m->depth; i++) {
    int width = i < cfg->hidden ? cfg->widths[i] : cfg->out;
    struct layer *l = &m->layers[i];
    l->w = make(ctx, false, prefix, i, "w", rg_shape2(width, fan_in));
    l->b = make(ctx, false, prefix, i, "b", rg_shape1(width));
    if (cfg->batch_norm && i < cfg->hidden) {
      l->gamma = make(ctx, false, prefix, i, "gamma", rg_shape1(width));
      l->beta = make(ctx, false, prefix, i, "beta", rg_shape1(width));
      l->rmean = make(ctx, true, prefix, i, "running_mean", rg_shape1(width));
      l->rvar = make(ctx, true, prefix, i, "running_var", rg_shape1(width));
    }
    fan_in = width;
  }
  if (ctx->status != RG_OK || rg_mlp_init(m, RG_INIT_KAIMING_UNIFORM, 0) != RG_OK) {
    free(m);
    return NULL;
  }
  return m;
}

void rg_mlp_free(rg_mlp *m) { free(m); }

static rg_status init_weight(rg_mlp *m, rg_tensor *w, rg_init_scheme s, float scale, bool last) {
  rg_ctx *ctx = m->ctx;
  rg_nonlinearity nl = last ? RG_LINEAR : m->cfg.activation;
  float a = m->cfg.leaky_slope;
  switch (s) {
    case RG_INIT_NORMAL: return rg_init_normal(ctx, w, 0.0f, scale);
    case RG_INIT_UNIFORM: return rg_init_uniform(ctx, w, -scale, scale);
    case RG_INIT_XAVIER_UNIFORM: return rg_init_xavier_uniform(ctx, w, rg_calculate_gain(nl, a));
    case RG_INIT_XAVIER_NORMAL: return rg_init_xavier_normal(ctx, w, rg_calculate_gain(nl, a));
    case RG_INIT_KAIMING_UNIFORM: return rg_init_kaiming_uniform(ctx, w, a, RG_FAN_IN, nl);
    case RG_INIT_KAIMING_NORMAL: return rg_init_kaiming_normal(ctx, w, a, RG_FAN_IN, nl);
    case RG_INIT_ORTHOGONAL: return rg_init_orthogonal(ctx, w, rg_calculate_gain(nl, a));
    default:
      rg_fail(ctx, RG_EINVAL, "rg_mlp_init", "scheme is %d, not a known scheme", (int)s);
      return ctx->status;
  }
}

rg_status rg_mlp_init(rg_mlp *m, rg_init_scheme scheme, float scale) {
  if (!m) return RG_EINVAL;
  rg_ctx *ctx = m->ctx;
  for (int i = 0; i < m->depth && ctx->status == RG_OK; i++) {
    struct layer *l = &m->layers[i];
    init_weight(m, l->w, scheme, scale, i == m->depth - 1);
    rg_init_zeros(ctx, l->b);
    if (!l->gamma) continue;
    rg_init_constant(ctx, l->gamma, 1.0f);
    rg_init_zeros(ctx, l->beta);
    rg_init_zeros(ctx, l->rmean);
    rg_init_constant(ctx, l->rvar, 1.0f);
  }
  return ctx->status;
}

static rg_tensor *activate(rg_mlp *m, rg_tensor *h) {
  switch (m->cfg.activation) {
    case RG_LEAKY_RELU: return rg_leaky_relu(m->ctx, h, m->cfg.leaky_slope);
    case RG_TANH: return rg_tanh(m->ctx, h);
    case RG_SIGMOID: return rg_sigmoid(m->ctx, h);
    default: return rg_relu(m->ctx, h);
  }
}

rg_tensor *rg_mlp_forward(rg_mlp *m, rg_tensor *x) {
  if (!m) return NULL;
  rg_tensor *h = x;
  for (int i = 0; i < m->depth; i++) {
    struct layer *l = &m->layers[i];
    h = rg_linear(m->ctx, h, l->w, l->b);
    if (i == m->depth - 1) break;
    if (l->gamma) h = rg_batch_norm(m->ctx, h, l->gamma, l->beta, l->rmean, l->rvar, 0.1f, 1e-5f);
    h = activate(m, h);
    if (m->cfg.dropout > 0.0f) h = rg_dropout(m->ctx, h, m->cfg.dropout);
  }
  return h;
}

int rg_mlp_depth(const rg_mlp *m) { return m ? m->depth : 0; }

rg_tensor *rg_mlp_weight(const rg_mlp *m, int i) {
  return m && i >= 0 && i < m->depth ? m->layers[i].w : NULL;
}

rg_tensor *rg_mlp_bias(const rg_mlp *m, int i) {
  return m && i >= 0 && i < m->depth ? m->layers[i].b : NULL;
}
