/* Gradient clipping. Every clipper starts from one fused statistics pass
 * (grad_stats: per-tensor L2, L1 and max norms, finiteness) and applies its
 * non-finite policy before touching any gradient. */
#include <float.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/internal.h"

#define NORM_EPS 1e-6f /* PyTorch's clip_grad_norm_ denominator guard */
#define AGC_EPS 1e-3f

/* A report lives in one counted heap block after a header that remembers
 * its context and size, so that freeing gives the bytes back to the
 * context's count. */
typedef struct report_block {
  rg_ctx *ctx;
  size_t bytes;
  _Alignas(64) rg_grad_report report;
} report_block;

rg_grad_report *rg_grad_report_new(rg_ctx *ctx, int n) {
  static const char fn[] = "rg_grad_report_new";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (n < 1) {
    rg_fail(ctx, RG_EINVAL, fn, "n is %d, expected >= 1", n);
    return NULL;
  }
  size_t bytes = sizeof(report_block) + 3 * (size_t)n * sizeof(float);
  report_block *b = rg_heap_alloc(ctx, fn, bytes);
  if (!b) return NULL;
  float *arrays = (float *)(b + 1);
  b->ctx = ctx;
  b->bytes = bytes;
  b->report = (rg_grad_report){.n = n, .tensor_l2 = arrays, .tensor_l1 = arrays + n,
                               .tensor_linf = arrays + 2 * n};
  return &b->report;
}

void rg_grad_report_free(rg_grad_report *r) {
  if (!r) return;
  report_block *b = (report_block *)((char *)r - offsetof(report_block, report));
  rg_heap_free(b->ctx, b, b->bytes);
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

/* The fused pass over one gradient as [m, n] rows; row sums of squares (in
 * double, so exact squares that neither overflow nor underflow) go to rows
 * when not NULL. */
static void tensor_stats(rg_ctx *ctx, const rg_tensor *p, const float *x, double *rows,
                         struct rg_grad_stats *out) {
  int64_t m, n;
  rg_rows(p, &m, &n);
  ctx->k->grad_stats(m, n, x, rows, out);
}

static bool finite_bits(float v) { return v <= FLT_MAX; }

/* The fused pass into rep, and the double sums of squares (global, and per
 * tensor when tensor_sq is not NULL) for norms past FLT_MAX. Norms are
 * (float)sqrt of double sums of squares: rounded once, finite whenever the
 * norm itself is below FLT_MAX, exact-ish down to the smallest subnormal. */
static void measure_into(rg_ctx *ctx, rg_tensor *const *params, int n, rg_grad_report *rep,
                         double *tensor_sq, double *global_sq) {
  double sq = 0.0;
  float l1 = 0.0f, linf = 0.0f;
  bool finite = true;
  for (int i = 0; i < n; i++) {
    struct rg_grad_stats s;
    tensor_stats(ctx, params[i], params[i]->grad, NULL, &s);
    rep->tensor_l2[i] = (float)sqrt(s.sumsq);
    rep->tensor_l1[i] = s.asum;
    rep->tensor_linf[i] = s.amax;
    if (tensor_sq) tensor_sq[i] = s.sumsq;
    sq = sq + s.sumsq;
    l1 = l1 + s.asum;
    linf = s.amax > linf || isnan(s.amax) ? s.amax : linf;
    finite = finite && finite_bits(s.amax);
  }
  rep->global_l2 = (float)sqrt(sq);
  rep->global_l1 = l1;
  rep->global_linf = linf;
  rep->finite = finite;
  *global_sq = sq;
}

rg_status rg_grad_measure(rg_ctx *ctx, rg_tensor *const *params, int n, rg_grad_report *rep) {
  static const char fn[] = "rg_grad_measure";
  if (!params_ok(ctx, fn, params, n)) return rg_ctx_status(ctx);
  if (!rep || rep->n < n) {
    rg_fail(ctx, RG_EINVAL, fn, "report holds %d tensors, need %d", rep ? rep->n : 0, n);
    return ctx->status;
  }
  double global_sq;
  measure_into(ctx, params, n, rep, NULL, &global_sq);
  return RG_OK;
}

/* A report with the double sums of squares beside it. */
typedef struct wide_report {
  rg_grad_report rep;
  double global_sq;
  double *tensor_sq; /* [n] */
} wide_report;

/* Measures into a report in the arena (no heap use per step). */
static wide_report *measure(rg_ctx *ctx, const char *fn, rg_tensor *const *params, int n) {
  if (!params_ok(ctx, fn, params, n)) return NULL;
  wide_report *w = rg_arena_get(ctx, fn, sizeof *w);
  double *sq = w ? rg_arena_get(ctx, fn, (size_t)n * sizeof(double)) : NULL;
  float *arrays = sq ? rg_arena_get(ctx, fn, 3 * (size_t)n * sizeof(float)) : NULL;
  if (!arrays) return NULL;
  w->rep = (rg_grad_report){.n = n, .tensor_l2 = arrays, .tensor_l1 = arrays + n,
                            .tensor_linf = arrays + 2 * n};
  w->tensor_sq = sq;
  measure_into(ctx, params, n, &w->rep, sq, &w->global_sq);
  return w;
}

/* max_norm / (norm + 1e-6) in float, as PyTorch computes it; for a finite
 * gradient whose L2 norm passes FLT_MAX (the float norm is inf) the same
 * quotient in double, so the gradient is scaled down instead of zeroed. */
static float norm_coef(float max_norm, float norm, double sumsq) {
  if (isinf(norm) && sumsq <= DBL_MAX) return (float)(max_norm / (sqrt(sumsq) + NORM_EPS));
  return max_norm / (norm + NORM_EPS);
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

/* The options every clipper takes: NULL, or a known non-finite policy. */
static bool opts_ok(rg_ctx *ctx, const char *fn, const rg_clip_opts *o) {
  if (!o || (o->nonfinite >= RG_NONFINITE_ERROR && o->nonfinite <= RG_NONFINITE_PROPAGATE))
    return true;
  if (ctx)
    rg_fail(ctx, RG_EINVAL, fn, "opts->nonfinite is %d, expected an rg_nonfinite value",
            (int)o->nonfinite);
  return false;
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
  wide_report *w = opts_ok(ctx, fn, o) ? measure(ctx, fn, params, n) : NULL;
  rg_grad_report *rep = w ? &w->rep : NULL;
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
  wide_report *w = opts_ok(ctx, fn, o) ? measure(ctx, fn, params, n) : NULL;
  rg_grad_report *rep = w ? &w->rep : NULL;
  if (rep) {
    res.norm = norm_type == 1.0f ? rep->global_l1
             : norm_type == 2.0f ? rep->global_l2 : rep->global_linf;
    if (policy_allows(ctx, fn, params, n, rep, o, &res)) {
      float coef = norm_type == 2.0f ? norm_coef(max_norm, res.norm, w->global_sq)
                                     : max_norm / (res.norm + NORM_EPS);
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
  wide_report *w = opts_ok(ctx, fn, o) ? measure(ctx, fn, params, n) : NULL;
  rg_grad_report *rep = w ? &w->rep : NULL;
  if (rep) {
    res.norm = rep->global_l2;
    if (policy_allows(ctx, fn, params, n, rep, o, &res))
      for (int i = 0; i < n; i++) {
        float coef = norm_coef(max_norm, rep->tensor_l2[i], w->tensor_sq[i]);
        if (!(coef < 1.0f)) continue;
        res.clipped++;
        ctx->k->scale(params[i]->numel, coef, params[i]->grad, params[i]->grad);
      }
  }
  if (r) *r = res;
  return rg_ctx_status(ctx);
}

/* Scales each row of p's gradient down to lambda max(|w_row|, eps). The row
 * norms and the limit stay double up to the scale factor (at most 1), so a
 * row whose norm passes FLT_MAX still gets its own factor, not 0. */
static int64_t agc_tensor(rg_ctx *ctx, const char *fn, rg_tensor *p, float lambda) {
  int64_t m, n;
  rg_rows(p, &m, &n);
  double *g_rows = rg_arena_get(ctx, fn, 2 * (size_t)m * sizeof(double));
  if (!g_rows) return 0;
  double *w_rows = g_rows + m;
  struct rg_grad_stats unused;
  tensor_stats(ctx, p, p->grad, g_rows, &unused);
  tensor_stats(ctx, p, p->data, w_rows, &unused);
  int64_t clipped = 0;
  for (int64_t i = 0; i < m; i++) {
    double wn = sqrt(w_rows[i]), gn = sqrt(g_rows[i]);
    double limit = (double)lambda * (wn > AGC_EPS ? wn : AGC_EPS);
    if (!(gn > limit)) continue;
    clipped++;
    float s = (float)(limit / (gn > NORM_EPS ? gn : NORM_EPS));
    ctx->k->scale(n, s, p->grad + i * n, p->grad + i * n);
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
  wide_report *w = opts_ok(ctx, fn, o) ? measure(ctx, fn, params, n) : NULL;
  rg_grad_report *rep = w ? &w->rep : NULL;
  if (rep) {
    res.norm = rep->global_l2;
    if (policy_allows(ctx, fn, params, n, rep, o, &res))
      for (int i = 0; i < n; i++)
        if (!(exempt && exempt[i])) res.clipped += agc_tensor(ctx, fn, params[i], lambda);
  }
  if (r) *r = res;
  return rg_ctx_status(ctx);
}

/* History-adaptive clipping. The statistics follow the norms the optimizer
 * saw (after clipping): an exponential moving average and its variance
 * (West's exponentially weighted update). A z-score outlier is skipped, at
 * most max_skips times in a row; the next outlier in the same run is taken
 * as a level shift: the run's mean becomes the new average and the variance
 * is rescaled to it (the same relative spread), so training goes on at the
 * new level (docs/clipping.md). */
#define EMA_MAX_SKIPS 5            /* max_skips 0 */
#define EMA_MAX_COUNT ((int64_t)1 << 53)
#define EMA_RECORD 40              /* mean, var, seen, run, run_sum */

struct rg_ema_clipper {
  rg_ctx *ctx;
  rg_ema_clip_config cfg;
  double mean, var;
  int64_t seen;   /* norms that entered the statistics */
  int64_t run;    /* consecutive skipped steps */
  double run_sum; /* their norms, summed */
};

static void ema_save(const void *obj, uint8_t *rec) {
  const rg_ema_clipper *c = obj;
  rg_put_f64(rec, c->mean);
  rg_put_f64(rec + 8, c->var);
  rg_put_u64(rec + 16, (uint64_t)c->seen);
  rg_put_u64(rec + 24, (uint64_t)c->run);
  rg_put_f64(rec + 32, c->run_sum);
}

static bool ema_check(rg_ctx *ctx, const char *fn, const char *where, const void *obj,
                      const uint8_t *rec) {
  const rg_ema_clipper *c = obj;
  double mean = rg_get_f64(rec), var = rg_get_f64(rec + 8), run_sum = rg_get_f64(rec + 32);
  int64_t seen = (int64_t)rg_get_u64(rec + 16), run = (int64_t)rg_get_u64(rec + 24);
  bool ok = mean >= 0 && mean <= DBL_MAX && var >= 0 && var <= DBL_MAX && run_sum >= 0 &&
            run_sum <= DBL_MAX && seen >= 0 && seen <= EMA_MAX_COUNT && run >= 0 &&
            run <= c->cfg.max_skips;
  if (!ok)
    rg_fail(ctx, RG_EFORMAT, fn, "%s: mean %g, variance %g, seen %lld, run %lld (of at most "
            "%lld), run sum %g: out of range", where, mean, var, (long long)seen, (long long)run,
            (long long)c->cfg.max_skips, run_sum);
  return ok;
}

static void ema_load(void *obj, const uint8_t *rec) {
  rg_ema_clipper *c = obj;
  c->mean = rg_get_f64(rec);
  c->var = rg_get_f64(rec + 8);
  c->seen = (int64_t)rg_get_u64(rec + 16);
  c->run = (int64_t)rg_get_u64(rec + 24);
  c->run_sum = rg_get_f64(rec + 32);
}

static const rg_state_kind ema_state = {"ema_clipper", EMA_RECORD, ema_save, ema_check, ema_load};

rg_ema_clipper *rg_ema_clipper_new(rg_ctx *ctx, const rg_ema_clip_config *cfg) {
  static const char fn[] = "rg_ema_clipper_new";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!cfg) {
    rg_fail(ctx, RG_EINVAL, fn, "cfg is NULL");
    return NULL;
  }
  rg_ema_clip_config c = *cfg;
  if (c.max_skips == 0) c.max_skips = EMA_MAX_SKIPS;
  if (!(c.factor > 0.0f && c.factor <= FLT_MAX) || !(c.beta >= 0.0f && c.beta < 1.0f) ||
      c.warmup < 0 || c.warmup > EMA_MAX_COUNT ||
      !(c.z_threshold >= 0.0f && c.z_threshold <= FLT_MAX) || c.max_skips < 0 ||
      c.max_skips > EMA_MAX_COUNT) {
    rg_fail(ctx, RG_EINVAL, fn, "factor %g, beta %g, warmup %lld, z_threshold %g, max_skips "
            "%lld: expected a finite factor > 0, beta in [0, 1), warmup and max_skips 0 to 2^53, "
            "a finite z_threshold >= 0", (double)c.factor, (double)c.beta, (long long)c.warmup,
            (double)c.z_threshold, (long long)c.max_skips);
    return NULL;
  }
  rg_ema_clipper *e = rg_heap_alloc(ctx, fn, sizeof *e);
  if (!e) return NULL;
  *e = (rg_ema_clipper){.ctx = ctx, .cfg = c};
  if (!rg_state_add(ctx, fn, &ema_state, e)) {
    rg_heap_free(ctx, e, sizeof *e);
    return NULL;
  }
  return e;
}

void rg_ema_clipper_free(rg_ema_clipper *c) {
  if (!c) return;
  rg_state_remove(c->ctx, c);
  rg_heap_free(c->ctx, c, sizeof *c);
}

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

/* How many standard deviations x lies above the average. The variance
 * starts at 0 with the first norm, so it is bias-corrected by 1 - beta^(n-1)
 * after n norms (as Adam corrects its moments); the deviation is floored at
 * 1e-6 of the average, so a constant history does not make every later
 * wiggle infinitely unlikely. */
static double ema_z(const rg_ema_clipper *c, double x) {
  double kept = 1.0 - pow(c->cfg.beta, (double)(c->seen - 1));
  double var = kept > 0.0 ? c->var / kept : 0.0, floor = 1e-6 * c->mean;
  return (x - c->mean) / sqrt(var + floor * floor + DBL_MIN);
}

/* The outlier run (and x, its last member) becomes the new level. */
static void ema_shift(rg_ema_clipper *c, double x) {
  double level = (c->run_sum + x) / (double)(c->run + 1);
  if (c->mean > 0.0) c->var *= (level / c->mean) * (level / c->mean);
  c->mean = level;
}

rg_status rg_ema_clip(rg_ema_clipper *c, rg_tensor *const *params, int n, const rg_clip_opts *o,
                      rg_clip_result *r) {
  static const char fn[] = "rg_ema_clip";
  rg_clip_result res;
  start(&res);
  if (!c) return RG_EINVAL;
  rg_ctx *ctx = c->ctx;
  wide_report *w = opts_ok(ctx, fn, o) ? measure(ctx, fn, params, n) : NULL;
  rg_grad_report *rep = w ? &w->rep : NULL;
  if (rep) {
    res.norm = rep->global_l2;
    /* A non-finite norm let through (propagate) is neither clipped nor
     * allowed into the statistics, which it would poison for good. */
    if (policy_allows(ctx, fn, params, n, rep, o, &res) && rep->finite) {
      bool warm = c->seen >= c->cfg.warmup && c->seen > 0;
      bool outlier = warm && c->cfg.z_threshold > 0.0f && ema_z(c, res.norm) > c->cfg.z_threshold;
      if (outlier && c->run < c->cfg.max_skips) {
        res.skip = true;
        c->run++;
        c->run_sum += res.norm;
      } else {
        if (outlier) ema_shift(c, res.norm);
        c->run = 0;
        c->run_sum = 0.0;
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
