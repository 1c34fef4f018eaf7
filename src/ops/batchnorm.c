/* Batch normalization over [n, f]: batch statistics in training (with
 * running-statistics updates), running statistics in eval. */
#include <math.h>
#include <string.h>

#include "core/internal.h"

/* What batch norm's backward needs: the statistics it normalized with
 * (the batch's in training, the running ones in eval) and which mode. */
struct bn_state {
  const float *mean, *invstd; /* [f], in the arena */
  bool training;
};

static bool feature_vec(rg_ctx *ctx, const char *fn, const char *arg, rg_tensor **pt, int64_t f) {
  if (!rg_check(ctx, fn, arg, pt)) return false;
  const rg_tensor *t = *pt;
  if (t->numel == f && t->shape.rank == 1) return true;
  rg_fail(ctx, RG_ESHAPE, fn, "%s is %s, expected [%lld]", arg, RG_SHAPE_STR(t->shape),
          (long long)f);
  return false;
}

/* Decodes *px and vecs[0..3] in place. */
static bool bn_args(rg_ctx *ctx, const char *fn, rg_tensor **px, rg_tensor **vecs,
                    float momentum, float eps) {
  static const char *const names[4] = {"gamma", "beta", "running_mean", "running_var"};
  if (!rg_check(ctx, fn, "x", px)) return false;
  const rg_tensor *x = *px;
  if (x->shape.rank != 2) {
    rg_fail(ctx, RG_ESHAPE, fn, "x is %s, expected [batch, features]", RG_SHAPE_STR(x->shape));
    return false;
  }
  for (int i = 0; i < 4; i++)
    if (!feature_vec(ctx, fn, names[i], &vecs[i], x->shape.dim[1])) return false;
  if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps > 0.0f) || isinf(eps)) {
    rg_fail(ctx, RG_EINVAL, fn, "momentum is %g and eps %g, expected momentum in [0, 1], eps > 0",
            (double)momentum, (double)eps);
    return false;
  }
  if (ctx->training && x->shape.dim[0] < 2) {
    rg_fail(ctx, RG_ESHAPE, fn, "x is %s: training needs at least 2 rows for batch statistics",
            RG_SHAPE_STR(x->shape));
    return false;
  }
  return true;
}

static void update_running(int64_t n, int64_t f, float momentum, const float *mean,
                           const float *var, float *rmean, float *rvar) {
  float unbias = (float)n / (float)(n - 1);
  for (int64_t j = 0; j < f; j++) {
    rmean[j] = (1.0f - momentum) * rmean[j] + momentum * mean[j];
    rvar[j] = (1.0f - momentum) * rvar[j] + momentum * (var[j] * unbias);
  }
}

rg_tensor *rg_batch_norm(rg_ctx *ctx, rg_tensor *x, rg_tensor *gamma, rg_tensor *beta,
                         rg_tensor *running_mean, rg_tensor *running_var, float momentum,
                         float eps) {
  static const char fn[] = "rg_batch_norm";
  rg_tensor *vecs[4] = {gamma, beta, running_mean, running_var};
  if (!bn_args(ctx, fn, &x, vecs, momentum, eps)) return NULL;
  gamma = vecs[0], beta = vecs[1], running_mean = vecs[2], running_var = vecs[3];
  int64_t n = x->shape.dim[0], f = x->shape.dim[1];
  float *stats = rg_arena_get(ctx, fn, (size_t)(3 * f) * sizeof(float));
  rg_tensor *in[3] = {x, gamma, beta};
  rg_tensor *y = stats ? rg_new_output(ctx, fn, x->shape, in, 3) : NULL;
  if (!y) return NULL;
  float *mean = stats, *var = stats + f, *invstd = stats + 2 * f;
  if (ctx->training) {
    ctx->k->bn_stats(n, f, x->data, mean, var);
    update_running(n, f, momentum, mean, var, running_mean->data, running_var->data);
  } else {
    memcpy(mean, running_mean->data, (size_t)f * sizeof(float));
    memcpy(var, running_var->data, (size_t)f * sizeof(float));
  }
  for (int64_t j = 0; j < f; j++) invstd[j] = 1.0f / sqrtf(var[j] + eps);
  ctx->k->bn_apply(n, f, x->data, mean, invstd, gamma->data, beta->data, y->data);
  rg_node *node = rg_record(ctx, fn, RG_OP_BATCH_NORM, y, in, 3, sizeof(struct bn_state));
  if (node) *(struct bn_state *)node->state = (struct bn_state){mean, invstd, ctx->training};
  return rg_handle(y);
}

/* Eval mode is an affine map per feature: dx = dy gamma invstd. */
static void eval_bwd(rg_ctx *ctx, int64_t n, int64_t f, const float *gamma, const float *invstd,
                     const float *dy, float *dx) {
  float *k = rg_scratch(ctx, f);
  if (!k) return;
  for (int64_t j = 0; j < f; j++) k[j] = gamma[j] * invstd[j];
  for (int64_t i = 0; i < n; i++) ctx->k->mul_acc(f, dy + i * f, k, dx + i * f);
}

void rg_bwd_BATCH_NORM(rg_ctx *ctx, const rg_node *node) {
  rg_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2];
  int64_t n = x->shape.dim[0], f = x->shape.dim[1];
  const struct bn_state *s = node->state;
  const float *mean = s->mean, *invstd = s->invstd, *dy = node->out->grad;
  float *dx = rg_grad_buf(ctx, x);
  float *dgamma = rg_grad_buf(ctx, gamma), *dbeta = rg_grad_buf(ctx, beta);
  if (s->training) {
    /* The fused kernel always forms all three; unused outputs go to scratch. */
    float *scratch = rg_scratch(ctx, x->numel + 2 * f);
    if (!scratch) return;
    memset(scratch, 0, (size_t)(x->numel + 2 * f) * sizeof(float));
    ctx->k->bn_bwd(n, f, x->data, mean, invstd, gamma->data, dy, dx ? dx : scratch,
                   dgamma ? dgamma : scratch + x->numel, dbeta ? dbeta : scratch + x->numel + f);
    return;
  }
  if (dx) eval_bwd(ctx, n, f, gamma->data, invstd, dy, dx);
  if (dbeta) ctx->k->colsum_acc(n, f, dy, dbeta);
  if (dgamma) {
    /* dgamma += column sums of dy * xh, with xh from bn_apply(gamma 1, beta 0). */
    float *xh = rg_scratch(ctx, x->numel), *ones = rg_scratch(ctx, 2 * f);
    if (!xh || !ones) return;
    for (int64_t j = 0; j < f; j++) ones[j] = 1.0f, ones[f + j] = 0.0f;
    ctx->k->bn_apply(n, f, x->data, mean, invstd, ones, ones + f, xh);
    ctx->k->mul(x->numel, xh, dy, xh);
    ctx->k->colsum_acc(n, f, xh, dgamma);
  }
}
