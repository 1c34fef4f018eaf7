/* Per-parameter gradient diagnostics: |g|, |w| and the relative update
 * |dw| / |w| of each step, with vanishing and exploding alerts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

struct rg_diag {
  rg_ctx *ctx;
  float vanish, explode;
  int n;
  rg_tensor **params;
  rg_param_diag *rows;
  float *before; /* weights before the step, all parameters end to end */
  size_t before_len;
  bool armed; /* before_step ran since the last after_step */
};

rg_diag *rg_diag_new(rg_ctx *ctx, float vanish, float explode) {
  static const char fn[] = "rg_diag_new";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!(vanish >= 0.0f) || !(explode >= 0.0f)) {
    rg_fail(ctx, RG_EINVAL, fn, "thresholds %g and %g must be >= 0", (double)vanish, (double)explode);
    return NULL;
  }
  int n = 0;
  size_t len = 0;
  for (int i = 0; i < ctx->n_params; i++)
    if (ctx->params[i]->kind == RG_PARAM) n++, len += (size_t)ctx->params[i]->numel;
  rg_diag *d = rg_heap_alloc(ctx, fn, sizeof *d);
  rg_tensor **params = d ? rg_heap_alloc(ctx, fn, (size_t)n * sizeof *params + 1) : NULL;
  rg_param_diag *rows = params ? rg_heap_alloc(ctx, fn, (size_t)n * sizeof *rows + 1) : NULL;
  float *before = rows ? rg_heap_alloc(ctx, fn, len * sizeof(float) + 1) : NULL;
  if (!before) {
    rg_heap_free(ctx, rows, (size_t)n * sizeof *rows + 1);
    rg_heap_free(ctx, params, (size_t)n * sizeof *params + 1);
    rg_heap_free(ctx, d, sizeof *d);
    return NULL;
  }
  *d = (rg_diag){ctx, vanish > 0 ? vanish : 1e-7f, explode > 0 ? explode : 1e3f, n, params, rows,
                 before, len, false};
  for (int i = 0, j = 0; i < ctx->n_params; i++)
    if (ctx->params[i]->kind == RG_PARAM) {
      params[j] = ctx->params[i];
      rows[j] = (rg_param_diag){.name = params[j]->name};
      j++;
    }
  return d;
}

void rg_diag_free(rg_diag *d) {
  if (!d) return;
  rg_ctx *ctx = d->ctx;
  rg_heap_free(ctx, d->params, (size_t)d->n * sizeof *d->params + 1);
  rg_heap_free(ctx, d->rows, (size_t)d->n * sizeof *d->rows + 1);
  rg_heap_free(ctx, d->before, d->before_len * sizeof(float) + 1);
  rg_heap_free(ctx, d, sizeof *d);
}

static float l2(rg_ctx *ctx, int64_t n, const float *x) {
  return (float)sqrt(rg_reduce_sumsq(ctx, n, x));
}

rg_status rg_diag_before_step(rg_diag *d) {
  if (!d) return RG_EINVAL;
  if (!rg_ctx_ok(d->ctx)) return rg_ctx_status(d->ctx);
  float *at = d->before;
  for (int i = 0; i < d->n; i++) {
    rg_tensor *p = d->params[i];
    float g = l2(d->ctx, p->numel, p->grad);
    d->rows[i].grad_norm = g;
    d->rows[i].vanishing = g < d->vanish;
    d->rows[i].exploding = !(g <= d->explode);
    memcpy(at, p->data, (size_t)p->numel * sizeof(float));
    at += p->numel;
  }
  d->armed = true;
  return RG_OK;
}

rg_status rg_diag_after_step(rg_diag *d) {
  if (!d) return RG_EINVAL;
  if (!rg_ctx_ok(d->ctx)) return rg_ctx_status(d->ctx);
  if (!d->armed) {
    /* Without the copy of the weights there is no update to measure. */
    rg_fail(d->ctx, RG_ESTATE, "rg_diag_after_step", "call rg_diag_before_step first");
    return d->ctx->status;
  }
  d->armed = false;
  float *at = d->before;
  for (int i = 0; i < d->n; i++) {
    rg_tensor *p = d->params[i];
    float w = l2(d->ctx, p->numel, p->data);
    d->ctx->k->sub(p->numel, p->data, at, at); /* the update, in place of the copy */
    float dw = l2(d->ctx, p->numel, at);
    d->rows[i].weight_norm = w;
    d->rows[i].update_ratio = w > 0.0f ? dw / w : (dw > 0.0f ? INFINITY : 0.0f);
    at += p->numel;
  }
  return RG_OK;
}

const rg_param_diag *rg_diag_params(const rg_diag *d, int *n) {
  if (n) *n = d ? d->n : 0;
  return d ? d->rows : NULL;
}

int rg_diag_alerts(const rg_diag *d, int *vanishing, int *exploding) {
  int v = 0, e = 0;
  for (int i = 0; d && i < d->n; i++) v += d->rows[i].vanishing, e += d->rows[i].exploding;
  if (vanishing) *vanishing = v;
  if (exploding) *exploding = e;
  return v + e;
}

const char *rg_diag_csv_header(void) {
  return "step,param,grad_norm,weight_norm,update_ratio,vanishing,exploding";
}

int rg_diag_write_csv(const rg_diag *d, FILE *file, int64_t step) {
  if (!d || !file) return -1;
  for (int i = 0; i < d->n; i++) {
    const rg_param_diag *r = &d->rows[i];
    if (fprintf(file, "%lld,%s,%.9g,%.9g,%.9g,%d,%d\n", (long long)step, r->name,
                (double)r->grad_norm, (double)r->weight_norm, (double)r->update_ratio,
                r->vanishing, r->exploding) < 0)
      return -1;
  }
  return 0;
}
