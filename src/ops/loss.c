/* Losses: softmax cross-entropy (fused backward), binary cross-entropy with
 * logits, mean squared error. Each returns a [1] tensor, the batch mean. */
#include <string.h>

#include "core/internal.h"

static bool unit_interval(rg_ctx *ctx, const char *fn, const char *arg, float v) {
  if (v >= 0.0f && v < 1.0f) return true;
  rg_fail(ctx, RG_EINVAL, fn, "%s is %g, expected a value in [0, 1)", arg, (double)v);
  return false;
}

/* Cross-entropy's saved state: the smoothing, the softmax of the logits
 * and a copy of the labels (both in the arena): the fused backward is
 * probs - target. */
struct xent_state {
  float smoothing;
  const float *probs;
  const int32_t *labels;
};

/* MSE's: the difference a - b. */
struct mse_state {
  const float *diff;
};

rg_tensor *rg_cross_entropy(rg_ctx *ctx, rg_tensor *logits, const int32_t *labels,
                            float smoothing) {
  static const char fn[] = "rg_cross_entropy";
  if (!rg_check(ctx, fn, "logits", &logits) || !unit_interval(ctx, fn, "smoothing", smoothing))
    return NULL;
  if (logits->shape.rank != 2) {
    rg_fail(ctx, RG_ESHAPE, fn, "logits is %s, expected [batch, classes]",
            RG_SHAPE_STR(logits->shape));
    return NULL;
  }
  if (!labels) {
    rg_fail(ctx, RG_EINVAL, fn, "labels is NULL");
    return NULL;
  }
  int64_t m = logits->shape.dim[0], n = logits->shape.dim[1];
  for (int64_t r = 0; r < m; r++)
    if (labels[r] < 0 || labels[r] >= n) {
      rg_fail(ctx, RG_ERANGE, fn, "labels[%lld] is %d, expected 0 to %lld", (long long)r,
              (int)labels[r], (long long)n - 1);
      return NULL;
    }
  int32_t *lab = rg_arena_get(ctx, fn, (size_t)m * sizeof *lab);
  float *probs = lab ? rg_arena_get(ctx, fn, (size_t)(m * n) * sizeof(float)) : NULL;
  float *rows = probs ? rg_arena_get(ctx, fn, (size_t)m * sizeof(float)) : NULL;
  rg_tensor *y = rows ? rg_new_output(ctx, fn, rg_shape1(1), &logits, 1) : NULL;
  if (!y) return NULL;
  memcpy(lab, labels, (size_t)m * sizeof *lab);
  ctx->k->xent_fwd(m, n, smoothing, logits->data, lab, probs, rows);
  y->data[0] = rg_reduce(ctx, ctx->k->sum, m, rows) / (float)m;
  rg_node *node = rg_record(ctx, fn, RG_OP_CROSS_ENTROPY, y, &logits, 1, sizeof(struct xent_state));
  if (node) *(struct xent_state *)node->state = (struct xent_state){smoothing, probs, lab};
  return rg_handle(y);
}

void rg_bwd_CROSS_ENTROPY(rg_ctx *ctx, const rg_node *node) {
  rg_tensor *x = node->in[0];
  float *dx = rg_grad_buf(ctx, x);
  int64_t m = x->shape.dim[0], n = x->shape.dim[1];
  const struct xent_state *s = node->state;
  if (dx)
    ctx->k->xent_bwd(m, n, s->smoothing, node->out->grad[0] / (float)m, s->probs, s->labels, dx);
}

rg_tensor *rg_bce_with_logits(rg_ctx *ctx, rg_tensor *logits, rg_tensor *targets) {
  static const char fn[] = "rg_bce_with_logits";
  if (!rg_check(ctx, fn, "logits", &logits) || !rg_check(ctx, fn, "targets", &targets))
    return NULL;
  if (!rg_same_shape(logits->shape, targets->shape)) {
    rg_fail(ctx, RG_ESHAPE, fn, "logits is %s but targets is %s", RG_SHAPE_STR(logits->shape),
            RG_SHAPE_STR(targets->shape));
    return NULL;
  }
  for (int64_t i = 0; i < targets->numel; i++)
    if (!(targets->data[i] >= 0.0f && targets->data[i] <= 1.0f)) {
      rg_fail(ctx, RG_ERANGE, fn, "targets[%lld] is %g, expected a value in [0, 1]",
              (long long)i, (double)targets->data[i]);
      return NULL;
    }
  float *elems = rg_arena_get(ctx, fn, (size_t)logits->numel * sizeof(float));
  rg_tensor *in[2] = {logits, targets};
  rg_tensor *y = elems ? rg_new_output(ctx, fn, rg_shape1(1), in, 2) : NULL;
  if (!y) return NULL;
  ctx->k->bce_fwd(logits->numel, logits->data, targets->data, elems);
  y->data[0] = rg_reduce(ctx, ctx->k->sum, logits->numel, elems) / (float)logits->numel;
  rg_record(ctx, fn, RG_OP_BCE, y, in, 2, 0);
  return rg_handle(y);
}

/* d/dx = (sigmoid(x) - t) g / count; d/dt = -x g / count (the loss is
 * linear in t). */
void rg_bwd_BCE(rg_ctx *ctx, const rg_node *node) {
  rg_tensor *x = node->in[0], *t = node->in[1];
  float g = node->out->grad[0] / (float)x->numel;
  float *dx = rg_grad_buf(ctx, x), *dt = rg_grad_buf(ctx, t);
  if (dx) ctx->k->bce_bwd(x->numel, g, x->data, t->data, dx);
  if (dt) ctx->k->axpy(x->numel, -g, x->data, dt);
}

rg_tensor *rg_mse(rg_ctx *ctx, rg_tensor *a, rg_tensor *b) {
  static const char fn[] = "rg_mse";
  if (!rg_check(ctx, fn, "a", &a) || !rg_check(ctx, fn, "b", &b)) return NULL;
  if (!rg_same_shape(a->shape, b->shape)) {
    rg_fail(ctx, RG_ESHAPE, fn, "a is %s but b is %s", RG_SHAPE_STR(a->shape),
            RG_SHAPE_STR(b->shape));
    return NULL;
  }
  float *diff = rg_arena_get(ctx, fn, (size_t)a->numel * sizeof(float));
  rg_tensor *in[2] = {a, b};
  rg_tensor *y = diff ? rg_new_output(ctx, fn, rg_shape1(1), in, 2) : NULL;
  if (!y) return NULL;
  ctx->k->sub(a->numel, a->data, b->data, diff);
  y->data[0] = (float)(rg_reduce_sumsq(ctx, a->numel, diff) / (double)a->numel);
  rg_node *node = rg_record(ctx, fn, RG_OP_MSE, y, in, 2, sizeof(struct mse_state));
  if (node) ((struct mse_state *)node->state)->diff = diff;
  return rg_handle(y);
}

/* d/da = 2 (a - b) / count, d/db the negative. */
void rg_bwd_MSE(rg_ctx *ctx, const rg_node *node) {
  int64_t n = node->in[0]->numel;
  float g = 2.0f * node->out->grad[0] / (float)n;
  float *da = rg_grad_buf(ctx, node->in[0]), *db = rg_grad_buf(ctx, node->in[1]);
  const float *diff = ((const struct mse_state *)node->state)->diff;
  if (da) ctx->k->axpy(n, g, diff, da);
  if (db) ctx->k->axpy(n, -g, diff, db);
}
