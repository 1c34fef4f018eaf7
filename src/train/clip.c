/* Gradient clipping. Every clipper starts from one fused statistics pass
 * (grad_stats: per-tensor L2, L1 and max norms, finiteness) and applies its
 * non-finite policy before touching any gradient. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define NORM_EPS 1e-6f /* PyTorch's clip_grad_norm_ denominator guard */
#define AGC_EPS 1e-3f

rg_grad_report *rg_grad_report_new(rg_ctx *ctx, int n) {
  static const char fn[] = "rg_grad_report_new";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (n < 1) {
    rg_fail(ctx, RG_EINVAL, fn, "n is %d, expected >= 1", n);
    return NULL;
  }
  rg_grad_report *r = rg_heap_alloc(ctx, fn, sizeof *r);
  float *arrays = r ? rg_heap_alloc(ctx, fn, 3 * (size_t)n * sizeof(float)) : NULL;
  if (!arrays) {
    rg_heap_free(ctx, r, sizeof *r);
    return NULL;
  }
  *r = (rg_grad_report){.n = n, .tensor_l2 = arrays, .tensor_l1 = arrays + n,
                        .tensor_linf = arrays + 2 * n};
  return r;
}

void rg_grad_report_free(rg_grad_report *r) {
  if (!r) return;
  free(r->tensor_l2);
  free(r);
}

static bool params_ok(rg_ctx *ctx, const char *fn, rg_tensor *const *params, int n) {
  if (!rg_ctx_ok(ctx)) return false;
  if (!params || n < 1) {
    rg_fail(ctx, RG_EINVAL, fn, "params is %s with n = %d, expected a list of at least one",
            params ? "a list" : "NULL", n);
    return false;
  }
  for (int i = 0; i < n; i++) {
    const rg_tensor *p = rg_ref(ctx, fn, "params[i]", params[i]);
    if (!p) return false;
    if (p->kind != RG_PARAM) {
      rg_fail(ctx, RG_EINVAL, fn, "params[%d] (\"%s\") has no gradient", i, p->name);
      return false;
    }
  }
  return true;
}

/* The fused pass over one gradient as [m, n] rows; row sums of squares go
 * to rows when not NULL. */
static void tensor_stats(rg_ctx *ctx, const rg_tensor *p, const float *x, float *rows,
                         float out[3]) {
  int64_t m, n;
  rg_rows(p, &m, &n);
  ctx->k->grad_stats(m, n, x, rows, out);
}

static bool finite_bits(float v) { return v <= FLT_MAX; }

rg_status rg_grad_measure(rg_ctx *ctx, rg_tensor *const *params, int n, rg_grad_report *rep) {
  static const char fn[] = "rg_grad_measure";
  if (!params_ok(ctx, fn, params, n)) return rg_ctx_status(ctx);
  if (!rep || rep->n < n) {
    rg_fail(ctx, RG_EINVAL, fn, "report holds %d tensors, need %d", rep ? rep->n : 0, n);
    return ctx->status;
  }
  float sq = 0.0f, l1 = 0.0f, linf = 0.0f;
  bool finite = true;
  for (int i = 0; i < n; i++) {
    float s[3];
    tensor_stats(ctx, params[i], params[i]->grad, NULL, s);
    rep->tensor_l2[i] = sqrtf(s[0]);
    rep->tensor_l1[i] = s[1];
    rep->tensor_linf[i] = s[2];
    sq = sq + s[0];
    l1 = l1 + s[1];
    linf = s[2] > linf || isnan(s[2]) ? s[2] : linf;
    finite = finite && finite_bits(s[2]);
  }
  rep->global_l2 = sqrtf(sq);
  rep->global_l1 = l1;
  rep->global_linf = linf;
  rep->finite = finite;
  return RG_OK;
}

/* Measures into a report in the arena (no heap use per step). */
static rg_grad_report *measure(rg_ctx *ctx, const char *fn, rg_tensor *const *params, int n) {
  if (!params_ok(ctx, fn, params, n)) return NULL;
  rg_grad_report *r = rg_arena_get(ctx, fn, sizeof *r);
  float *arrays = r ? rg_arena_get(ctx, fn, 3 * (size_t)n * sizeof(float)) : NULL;
  if (!arrays) return NULL;
  *r = (rg_grad_report){.n = n, .tensor_l2 = arrays, .tensor_l1 = arrays + n,
                        .tensor_linf = arrays + 2 * n};
  return rg_grad_measure(ctx, params, n, r) == RG_OK ? r : NULL;
}

/* Applies the non-finite policy; returns true when the clipper should go on
 * computing (finite, or PROPAGATE). */
static bool policy_allows(rg_ctx *ctx, const char *fn, rg_tensor *const *params, int n,
                          const rg_grad_report *rep, const rg_clip_opts *o, rg_clip_result *r) {
  r->finite = rep->finite;
  if (rep->finite) return true;
  rg_nonfinite policy = o ? o->nonfinite : RG_NONFINITE_ERROR;
  int bad = 0;
  while (bad < n - 1 && finite_bits(rep->tensor_linf[bad])) bad++;
  switch (policy) {
    case RG_NONFINITE_SKIP: r->skip = true; return false;
    case RG_NONFINITE_ZERO:
      for (int i = 0; i < n; i++) memset(params[i]->grad, 0, (size_t)params[i]->numel * sizeof(float));
      r->scale = 0.0f;
      return false;
    case RG_NONFINITE_PROPAGATE: return true;
    default:
      rg_fail(ctx, RG_ENONFINITE, fn, "the gradient of \"%s\" holds NaN or infinity",
              params[bad]->name);
      return false;
  }
}

static void start(rg_clip_result *r) { *r = (rg_clip_result){.scale = 1.0f, .finite = true}; }

static void scale_all(rg_ctx *ctx, rg_tensor *const *params, int n, float s) {
  for (int i = 0; i < n; i++) ctx->k->scale(params[i]->numel, s, params[i]->grad, params[i]->grad);
}

rg_status rg_clip_grad_value(rg_ctx *ctx, rg_tensor *const *params, int n, float clip,
                             const rg_clip_opts *o, rg_clip_result *r) {
  static const char fn[] = "rg_clip_grad_value";
  rg_clip_result res;
  start(&res);
  if (ctx && !(clip > 0.0f)) rg_fail(ctx, RG_EINVAL, fn, "clip is %g, expected > 0", (double)clip);
  rg_grad_report *rep = measure(ctx, fn, params, n);
  if (rep) {
    res.norm = rep->global_linf;
    if (policy_allows(ctx, fn, params, n, rep, o, &res))
      for (int i = 0; i < n; i++) {
        res.clipped += !(rep->tensor_linf[i] <= clip);
        ctx->k->clamp_fwd(params[i]->numel, -clip, clip, params[i]->grad, params[i]->grad);
      }
  }
  if (r) *r = res;
  return rg_ctx_status(ctx);
}

rg_status rg_clip_grad_norm(rg_ctx *ctx, rg_tensor *const *params, int n, float max_norm,
                            float norm_type, const rg_clip_opts *o, rg_clip_result *r) {
  static const char fn[] = "rg_clip_grad_norm";
  rg_clip_result res;
  start(&res);
  if (ctx && !(max_norm >= 0.0f))
    rg_fail(ctx, RG_EINVAL, fn, "max_norm is %g, expected >= 0", (double)max_norm);
  if (ctx && norm_type != 1.0f && norm_type != 2.0f && norm_type != INFINITY)
    rg_fail(ctx, RG_EINVAL, fn, "norm_type is %g, expected 1, 2 or INFINITY", (double)norm_type);
  rg_grad_report *rep = measure(ctx, fn, params, n);
  if (rep) {
    res.norm = norm_type == 1.0f ? rep->global_l1
             : norm_type == 2.0f ? rep->global_l2 : rep->global_linf;
    if (policy_allows(ctx, fn, params, n, rep, o, &res)) {
      float coef = max_norm / (res.norm + NORM_EPS);
      res.scale = coef < 1.0f ? coef : (isnan(coef) ? coef : 1.0f);
      res.clipped = res.scale < 1.0f;
      if (!(o && o->defer_scale) && res.scale != 1.0f) scale_all(ctx, params, n, res.scale);
    }
  }
  if (r) *r = res;
  return rg_ctx_status(ctx);
}

rg_status rg_clip_grad_norm_per_tensor(rg_ctx *ctx, rg_tensor *const *params, int n,
                                       float max_norm, const rg_clip_opts *o, rg_clip_result *r) {
  static const char fn[] = "rg_clip_grad_norm_per_tensor";
  rg_clip_result res;
  start(&res);
  if (ctx && !(max_norm >= 0.0f))
    rg_fail(ctx, RG_EINVAL, fn, "max_norm is %g, expected >= 0", (double)max_norm);
  rg_grad_report *rep = measure(ctx, fn, params, n);
  if (rep) {
    res.norm = rep->global_l2;
    if (policy_allows(ctx, fn, params, n, rep, o, &res))
      for (int i = 0; i < n; i++) {
        float coef = max_norm / (rep->tensor_l2[i] + NORM_EPS);
        if (!(coef < 1.0f)) continue;
        res.clipped++;
        ctx->k->scale(params[i]->numel, coef, params[i]->grad, params[i]->grad);
      }
  }
  if (r) *r = res;
  return rg_ctx_status(ctx);
}

/* Scales each row of p's gradient down to lambda max(|w_row|, eps). */
static int64_t agc_tensor(rg_ctx *ctx, const char *fn, rg_tensor *p, float lambda) {
  int64_t m, n;
  rg_rows(p, &m, &n);
  float *g_rows = rg_arena_get(ctx, fn, 2 * (size_t)m * sizeof(float));
  if (!g_rows) return 0;
  float *w_rows = g_rows + m, unused[3];
  tensor_stats(ctx, p, p->grad, g_rows, unused);
  tensor_stats(ctx, p, p->data, w_rows, unused);
  int64_t clipped = 0;
  for (int64_t i = 0; i < m; i++) {
    float wn = sqrtf(w_rows[i]), gn = sqrtf(g_rows[i]);
    float limit = lambda * (wn > AGC_EPS ? wn : AGC_EPS);
    if (!(gn > limit)) continue;
    clipped++;
    ctx->k->scale(n, limit / (gn > NORM_EPS ? gn : NORM_EPS), p->grad + i * n, p->grad + i * n);
  }
  return clipped;
}

rg_status rg_clip_agc(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda,
                      const bool *exempt, const rg_clip_opts *o, rg_clip_result *r) {
  static const char fn[] = "rg_clip_agc";
  rg_clip_result res;
  start(&res);
  if (ctx && !(lambda > 0.0f && lambda < INFINITY))
    rg_fail(ctx, RG_EINVAL, fn, "lambda is %g, expected a finite value > 0", (double)lambda);
  rg_grad_report *rep = measure(ctx, fn, params, n);
  if (rep) {
    res.norm = rep->global_l2;
    if (policy_allows(ctx, fn, params, n, rep, o, &res))
      for (int i = 0; i < n; i++)
        if (!(exempt && exempt[i])) res.clipped += agc_tensor(ctx, fn, params[i], lambda);
  }
  if (r) *r = res;
  return rg_ctx_status(ctx);
}

struct rg_ema_clipper {
  rg_ctx *ctx;
  rg_ema_clip_config cfg;
  double mean, var;
  int64_t seen;
};

rg_ema_clipper *rg_ema_clipper_new(rg_ctx *ctx, const rg_ema_clip_config *cfg) {
  static const char fn[] = "rg_ema_clipper_new";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!cfg || !(cfg->factor > 0.0f) || !(cfg->beta >= 0.0f && cfg->beta < 1.0f) ||
      cfg->warmup < 0 || !(cfg->z_threshold >= 0.0f)) {
    rg_fail(ctx, RG_EINVAL, fn, "expected factor > 0, beta in [0, 1), warmup >= 0, z_threshold >= 0");
    return NULL;
  }
  rg_ema_clipper *c = rg_heap_alloc(ctx, fn, sizeof *c);
  if (c) *c = (rg_ema_clipper){.ctx = ctx, .cfg = *cfg};
  return c;
}

void rg_ema_clipper_free(rg_ema_clipper *c) { free(c); }

/* EMA of the norms the optimizer actually saw, with its variance (West's
 * exponentially weighted update). Skipped spikes do not enter it. */
static void ema_update(rg_ema_clipper *c, double x) {
  if (c->seen++ == 0) {
    c->mean = x;
    c->var = 0.0;
    return;
  }
  double a = 1.0 - c->cfg.beta, diff = x - c->mean;
  c->mean += a * diff;
  c->var = (1.0 - a) * (c->var + a * diff * diff);
}

rg_status rg_ema_clip(rg_ema_clipper *c, rg_tensor *const *params, int n, const rg_clip_opts *o,
                      rg_clip_result *r) {
  static const char fn[] = "rg_ema_clip";
  rg_clip_result res;
  start(&res);
  if (!c) return RG_EINVAL;
  rg_ctx *ctx = c->ctx;
  rg_grad_report *rep = measure(ctx, fn, params, n);
  if (rep) {
    res.norm = rep->global_l2;
    if (policy_allows(ctx, fn, params, n, rep, o, &res)) {
      bool warm = c->seen >= c->cfg.warmup && c->seen > 0;
      double z = (res.norm - c->mean) / sqrt(c->var + 1e-12);
      if (warm && c->cfg.z_threshold > 0.0f && z > c->cfg.z_threshold) {
        res.skip = true;
      } else {
        float limit = warm ? (float)(c->cfg.factor * c->mean) : INFINITY;
        if (res.norm > limit) {
          res.scale = limit / (res.norm + NORM_EPS);
          res.clipped = 1;
          if (!(o && o->defer_scale)) scale_all(ctx, params, n, res.scale);
        }
        ema_update(c, res.norm * res.scale);
      }
    }
  }
  if (r) *r = res;
  return rg_ctx_status(ctx);
}
