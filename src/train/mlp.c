/* The multilayer perceptron used by the `regrad` command and the study. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "train/init.h"
#include "train/mlp.h"

#define MAX_PREFIX 160 /* leaves room for ".<layer>.running_mean" in a name */

static rg_tensor *make(rg_ctx *ctx, bool buffer, const char *prefix, int layer, const char *what,
                       rg_shape s) {
  char name[MAX_PREFIX + 40];
  snprintf(name, sizeof name, "%s.%d.%s", prefix, layer, what);
  return rg_persistent_new(ctx, "rg_mlp_new", buffer ? RG_BUFFER : RG_PARAM, name, s, NULL);
}

static bool config_ok(rg_ctx *ctx, const char *fn, const rg_mlp_config *c) {
  const char *bad = NULL;
  if (c->in < 1 || c->out < 1) bad = "in and out must be >= 1";
  else if (c->hidden < 0 || c->hidden > RG_MLP_MAX_LAYERS) bad = "hidden must be 0 to 64";
  else if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) bad = "dropout must be in [0, 1)";
  else if (c->activation == RG_LINEAR || (unsigned)c->activation > RG_SIGMOID)
    bad = "activation must be relu, leaky_relu, tanh or sigmoid";
  else if (!(c->leaky_slope - c->leaky_slope == 0.0f)) bad = "leaky_slope must be finite";
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
  if (!*prefix || strlen(prefix) > MAX_PREFIX) {
    rg_fail(ctx, RG_EINVAL, fn, "prefix is %zu bytes long, expected 1 to %d", strlen(prefix),
            MAX_PREFIX);
    return NULL;
  }
  if (!config_ok(ctx, fn, cfg)) return NULL;
  rg_mlp *m = rg_heap_alloc(ctx, fn, sizeof *m);
  if (!m) return NULL;
  int params_before = ctx->n_params;
  memset(m, 0, sizeof *m);
  m->ctx = ctx;
  m->cfg = *cfg;
  m->depth = cfg->hidden + 1;
  int fan_in = cfg->in;
  for (int i = 0; i < m->depth; i++) {
    int width = i < cfg->hidden ? cfg->widths[i] : cfg->out;
    struct rg_mlp_layer *l = &m->layers[i];
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
    /* Leave no half-built model: the same prefix must work on a retry. */
    rg_params_truncate(ctx, params_before);
    rg_heap_free(ctx, m, sizeof *m);
    return NULL;
  }
  return m;
}

void rg_mlp_free(rg_mlp *m) {
  if (m) rg_heap_free(m->ctx, m, sizeof *m);
}

/* The gain of a weight under a scheme when the caller gave none: 1 for
 * Xavier and orthogonal (Glorot's setting, PyTorch's default), the layer's
 * activation for Kaiming (He), where the classifier counts as linear. */
static float default_gain(const rg_mlp *m, rg_init_scheme s, bool last) {
  if (s != RG_INIT_KAIMING_UNIFORM && s != RG_INIT_KAIMING_NORMAL) return 1.0f;
  return rg_calculate_gain(last ? RG_LINEAR : m->cfg.activation, m->cfg.leaky_slope);
}

static rg_status init_weight(rg_mlp *m, const char *fn, rg_tensor *w, rg_init_scheme s,
                             float scale, float gain) {
  rg_ctx *ctx = m->ctx;
  switch (s) {
    case RG_INIT_NORMAL: return rg_init_normal(ctx, w, 0.0f, scale);
    case RG_INIT_UNIFORM: return rg_init_uniform(ctx, w, -scale, scale);
    case RG_INIT_XAVIER_UNIFORM: return rg_init_xavier_uniform(ctx, w, gain);
    case RG_INIT_XAVIER_NORMAL: return rg_init_xavier_normal(ctx, w, gain);
    case RG_INIT_KAIMING_UNIFORM: return rg_init_kaiming_gain(ctx, fn, w, gain, false);
    case RG_INIT_KAIMING_NORMAL: return rg_init_kaiming_gain(ctx, fn, w, gain, true);
    case RG_INIT_ORTHOGONAL: return rg_init_orthogonal(ctx, w, gain);
    default: return rg_init_standard(ctx, fn, w); /* init_args_ok refused all but STANDARD */
  }
}

/* The arguments of rg_mlp_init(_gain), checked before any weight changes. */
static bool init_args_ok(rg_ctx *ctx, const char *fn, rg_init_scheme s, float scale, float gain) {
  bool naive = s == RG_INIT_NORMAL || s == RG_INIT_UNIFORM;
  bool gainless = naive || s == RG_INIT_STANDARD;
  if ((unsigned)s > RG_INIT_STANDARD)
    rg_fail(ctx, RG_EINVAL, fn, "scheme is %d, not a known scheme", (int)s);
  else if (naive && !(scale >= 0.0f && scale < INFINITY))
    rg_fail(ctx, RG_EINVAL, fn, "scale is %g, expected a finite value >= 0", (double)scale);
  else if (!(gain == 0.0f || (gain > 0.0f && gain < INFINITY)))
    rg_fail(ctx, RG_EINVAL, fn, "gain is %g, expected 0 (the scheme's default) or a finite "
            "value > 0", (double)gain);
  else if (gainless && gain != 0.0f)
    rg_fail(ctx, RG_EINVAL, fn, "gain is %g, but scheme %s has no gain: expected 0", (double)gain,
            s == RG_INIT_NORMAL ? "RG_INIT_NORMAL" : s == RG_INIT_UNIFORM ? "RG_INIT_UNIFORM"
                                                    : "RG_INIT_STANDARD");
  return ctx->status == RG_OK;
}

static rg_status init_all(rg_mlp *m, const char *fn, rg_init_scheme scheme, float scale,
                          float gain) {
  if (!m) return RG_EINVAL;
  rg_ctx *ctx = m->ctx;
  if (!rg_ctx_ok(ctx)) return ctx->status;
  if (!init_args_ok(ctx, fn, scheme, scale, gain)) return ctx->status;
  for (int i = 0; i < m->depth && ctx->status == RG_OK; i++) {
    struct rg_mlp_layer *l = &m->layers[i];
    bool last = i == m->depth - 1;
    init_weight(m, fn, l->w, scheme, scale, gain != 0.0f ? gain : default_gain(m, scheme, last));
    rg_init_zeros(ctx, l->b);
    if (!l->gamma) continue;
    rg_init_constant(ctx, l->gamma, 1.0f);
    rg_init_zeros(ctx, l->beta);
    rg_init_zeros(ctx, l->rmean);
    rg_init_constant(ctx, l->rvar, 1.0f);
  }
  return ctx->status;
}

rg_status rg_mlp_init(rg_mlp *m, rg_init_scheme scheme, float scale) {
  return init_all(m, "rg_mlp_init", scheme, scale, 0.0f);
}

rg_status rg_mlp_init_gain(rg_mlp *m, rg_init_scheme scheme, float scale, float gain) {
  return init_all(m, "rg_mlp_init_gain", scheme, scale, gain);
}

rg_tensor *rg_mlp_forward(rg_mlp *m, rg_tensor *x) {
  static const char fn[] = "rg_mlp_forward";
  const rg_tensor *xt = m ? rg_ref(m->ctx, fn, "x", x) : NULL;
  if (!xt) return NULL;
  if (xt->shape.rank != 2 || xt->shape.dim[1] != m->cfg.in) {
    rg_fail(m->ctx, RG_ESHAPE, fn, "x is %s, expected [batch,%d]", RG_SHAPE_STR(xt->shape),
            m->cfg.in);
    return NULL;
  }
  rg_tensor *h = x;
  for (int i = 0; i < m->depth; i++) {
    struct rg_mlp_layer *l = &m->layers[i];
    if (i == m->depth - 1) return m->out[i] = rg_linear(m->ctx, h, l->w, l->b);
    if (rg_mlp_fuses_activation(m, i)) {
      h = rg_linear_act(m->ctx, h, l->w, l->b, m->cfg.activation, m->cfg.leaky_slope);
    } else {
      h = rg_linear(m->ctx, h, l->w, l->b);
      if (l->gamma)
        h = rg_batch_norm(m->ctx, h, l->gamma, l->beta, l->rmean, l->rvar, RG_MLP_BN_MOMENTUM,
                          RG_MLP_BN_EPS);
      h = rg_activate(m->ctx, h, m->cfg.activation, m->cfg.leaky_slope);
    }
    m->out[i] = h;
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
