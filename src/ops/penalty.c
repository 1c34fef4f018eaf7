/* Weight penalties (L1, L2, elastic net) over parameter lists, and vector
 * norms of a tensor, as scalar tape nodes. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "core/internal.h"

/* A penalty's saved state: its two coefficients. */
struct penalty_state {
  float lambda1, lambda2;
};

/* A norm's: its order, and for the L2 norm the norm in double. */
struct norm_state {
  float ord;
  double l2;
};

/* lambda1 sum |w| + (lambda2 / 2) sum w^2 over the list, summed in list
 * order; a zero coefficient's term is left out (so 0 * inf never appears). */
static rg_tensor *penalty(rg_ctx *ctx, const char *fn, rg_tensor *const *handles, int n,
                          float lambda1, float lambda2) {
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!handles || n < 1) {
    rg_fail(ctx, RG_EINVAL, fn, "params is %s with n = %d, expected a list of at least one",
            handles ? "a list" : "NULL", n);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    char arg[32];
    snprintf(arg, sizeof arg, "params[%d]", i);
    if (!rg_ref(ctx, fn, arg, handles[i])) return NULL;
  }
  /* The headers the handles name (the list may hold transients). */
  rg_tensor **params = rg_arena_get(ctx, fn, (size_t)n * sizeof *params);
  if (!params) return NULL;
  for (int i = 0; i < n; i++) params[i] = rg_deref(handles[i]);
  rg_tensor *y = rg_new_output(ctx, fn, rg_shape1(1), params, n);
  if (!y) return NULL;
  float l1 = 0.0f;
  double l2 = 0.0;
  for (int i = 0; i < n; i++) {
    if (lambda1 != 0.0f) l1 = l1 + rg_reduce(ctx, ctx->k->asum, params[i]->numel, params[i]->data);
    if (lambda2 != 0.0f) l2 = l2 + rg_reduce_sumsq(ctx, params[i]->numel, params[i]->data);
  }
  float value = 0.0f;
  if (lambda1 != 0.0f) value = value + lambda1 * l1;
  if (lambda2 != 0.0f) value = value + (float)((double)(0.5f * lambda2) * l2);
  y->data[0] = value;
  rg_node *node = rg_record(ctx, fn, RG_OP_PENALTY, y, params, n, sizeof(struct penalty_state));
  if (node) *(struct penalty_state *)node->state = (struct penalty_state){lambda1, lambda2};
  return rg_handle(y);
}

void rg_bwd_PENALTY(rg_ctx *ctx, const rg_node *node) {
  const struct penalty_state *s = node->state;
  float g = node->out->grad[0], lambda1 = s->lambda1, lambda2 = s->lambda2;
  for (int i = 0; i < node->n_in; i++) {
    rg_tensor *w = node->in[i];
    float *dw = rg_grad_buf(ctx, w);
    if (!dw) continue;
    if (lambda1 != 0.0f) ctx->k->sign_acc(w->numel, g * lambda1, w->data, dw);
    if (lambda2 != 0.0f) ctx->k->axpy(w->numel, g * lambda2, w->data, dw);
  }
}

static bool lambda_ok(rg_ctx *ctx, const char *fn, float lambda) {
  if (!ctx) return false;
  if (lambda >= 0.0f && !isinf(lambda)) return true;
  rg_fail(ctx, RG_EINVAL, fn, "lambda is %g, expected a finite value >= 0", (double)lambda);
  return false;
}

rg_tensor *rg_l1_penalty(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda) {
  if (!lambda_ok(ctx, "rg_l1_penalty", lambda)) return NULL;
  return penalty(ctx, "rg_l1_penalty", params, n, lambda, 0.0f);
}

rg_tensor *rg_l2_penalty(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda) {
  if (!lambda_ok(ctx, "rg_l2_penalty", lambda)) return NULL;
  return penalty(ctx, "rg_l2_penalty", params, n, 0.0f, lambda);
}

rg_tensor *rg_elastic_net_penalty(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda,
                                  float l1_ratio) {
  static const char fn[] = "rg_elastic_net_penalty";
  if (!lambda_ok(ctx, fn, lambda)) return NULL;
  if (!(l1_ratio >= 0.0f && l1_ratio <= 1.0f)) {
    rg_fail(ctx, RG_EINVAL, fn, "l1_ratio is %g, expected a value in [0, 1]", (double)l1_ratio);
    return NULL;
  }
  return penalty(ctx, fn, params, n, lambda * l1_ratio, lambda * (1.0f - l1_ratio));
}

rg_tensor *rg_norm(rg_ctx *ctx, rg_tensor *x, float ord) {
  static const char fn[] = "rg_norm";
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
  if (ord != 1.0f && ord != 2.0f && ord != INFINITY) {
    rg_fail(ctx, RG_EINVAL, fn, "ord is %g, expected 1, 2 or INFINITY", (double)ord);
    return NULL;
  }
  rg_tensor *y = rg_new_output(ctx, fn, rg_shape1(1), &x, 1);
  if (!y) return NULL;
  /* The L2 norm in double, kept for backward: the float result may be inf
   * (a norm past FLT_MAX) while the gradient x / |x| is still finite. */
  double l2 = 0.0;
  if (ord == 1.0f)
    y->data[0] = rg_reduce(ctx, ctx->k->asum, x->numel, x->data);
  else if (ord == 2.0f) {
    l2 = sqrt(rg_reduce_sumsq(ctx, x->numel, x->data));
    y->data[0] = (float)l2;
  } else
    y->data[0] = rg_reduce_amax(ctx, x->numel, x->data);
  rg_node *node = rg_record(ctx, fn, RG_OP_NORM, y, &x, 1, sizeof(struct norm_state));
  if (node) *(struct norm_state *)node->state = (struct norm_state){ord, l2};
  return rg_handle(y);
}

/* dx += c x for a double c, |c| in float's normal range or not: c = m 2^e
 * with m in [1, 2), then dx += (float)m (x 2^e), x 2^e formed by exact
 * power-of-two scalings (|x 2^e| <= |c x|, which is at most |g| for the L2
 * gradient, so no step overflows). An ordinary c takes one axpy. */
static void axpy_wide(rg_ctx *ctx, int64_t n, double c, const float *x, float *dx) {
  if (c == 0.0 || (fabs(c) >= FLT_MIN && fabs(c) <= FLT_MAX)) {
    ctx->k->axpy(n, (float)c, x, dx);
    return;
  }
  float *t = rg_scratch(ctx, n);
  if (!t) return;
  int e;
  double m = 2.0 * frexp(c, &e);
  e -= 1;
  const float *from = x;
  while (e != 0) {
    int step = e > 126 ? 126 : (e < -126 ? -126 : e);
    ctx->k->scale(n, ldexpf(1.0f, step), from, t);
    from = t;
    e -= step;
  }
  ctx->k->axpy(n, (float)m, from, dx);
}

void rg_bwd_NORM(rg_ctx *ctx, const rg_node *node) {
  rg_tensor *x = node->in[0];
  float *dx = rg_grad_buf(ctx, x);
  const struct norm_state *s = node->state;
  float g = node->out->grad[0], value = node->out->data[0], ord = s->ord;
  if (!dx) return;
  if (ord == 1.0f)
    ctx->k->sign_acc(x->numel, g, x->data, dx);
  else if (ord == 2.0f) {
    if (s->l2 > 0.0) axpy_wide(ctx, x->numel, (double)g / s->l2, x->data, dx);
  } else
    ctx->k->amax_bwd(x->numel, value, g, x->data, dx);
}
