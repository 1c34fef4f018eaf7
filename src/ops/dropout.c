/* Inverted dropout with Philox masks regenerated in backward, so no mask is
 * stored: the same (seed, stream, element) gives the same decision. */
#include "core/internal.h"

rg_tensor *rg_dropout(rg_ctx *ctx, rg_tensor *x, float p) {
  static const char fn[] = "rg_dropout";
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
  if (!(p >= 0.0f && p < 1.0f)) {
    rg_fail(ctx, RG_EINVAL, fn, "p is %g, expected a probability in [0, 1)", (double)p);
    return NULL;
  }
  if (!ctx->training || p == 0.0f) return rg_handle(x);
  struct rg_rng_key *key = rg_arena_get(ctx, fn, sizeof *key);
  rg_tensor *y = key ? rg_new_output(ctx, fn, x->shape, &x, 1) : NULL;
  if (!y) return NULL;
  *key = (struct rg_rng_key){ctx->seed, ctx->dropout_stream++, 0};
  /* Drop when the element's 24-bit uniform is below p: P(drop) = thr / 2^24. */
  uint32_t threshold = (uint32_t)((double)p * 16777216.0);
  float scale = 1.0f / (1.0f - p);
  ctx->k->dropout_fwd(x->numel, key, threshold, scale, x->data, y->data);
  rg_node *node = rg_record(ctx, fn, RG_OP_DROPOUT, y, &x, 1);
  if (node) {
    node->saved[0] = key;
    node->iattr[0] = (int)threshold;
    node->attr[0] = scale;
  }
  return rg_handle(y);
}

void rg_bwd_DROPOUT(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  if (dx)
    ctx->k->dropout_bwd(node->out->numel, node->saved[0], (uint32_t)node->iattr[0],
                        node->attr[0], node->out->grad, dx);
}
