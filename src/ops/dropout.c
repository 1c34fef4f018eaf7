/* Inverted dropout with Philox masks regenerated in backward, so no mask is
 * stored: the same (seed, stream, element) gives the same decision. */
#include "core/internal.h"

/* What dropout's backward needs to regenerate the mask: the Philox key of
 * the forward, the drop threshold and the scale of the kept elements. */
struct dropout_state {
  struct rg_rng_key key;
  uint32_t threshold;
  float scale;
};

rg_tensor *rg_dropout(rg_ctx *ctx, rg_tensor *x, float p) {
  static const char fn[] = "rg_dropout";
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
  if (!(p >= 0.0f && p < 1.0f)) {
    rg_fail(ctx, RG_EINVAL, fn, "p is %g, expected a probability in [0, 1)", (double)p);
    return NULL;
  }
  if (!ctx->training || p == 0.0f) return rg_handle(x);
  rg_tensor *y = rg_new_output(ctx, fn, x->shape, &x, 1);
  if (!y) return NULL;
  const struct rg_rng_key key = {ctx->seed, ctx->dropout_stream++, 0};
  /* Drop when the element's 24-bit uniform is below p: P(drop) = thr / 2^24. */
  uint32_t threshold = (uint32_t)((double)p * 16777216.0);
  float scale = 1.0f / (1.0f - p);
  ctx->k->dropout_fwd(x->numel, &key, threshold, scale, x->data, y->data);
  rg_node *node = rg_record(ctx, fn, RG_OP_DROPOUT, y, &x, 1, sizeof(struct dropout_state));
  if (node) *(struct dropout_state *)node->state = (struct dropout_state){key, threshold, scale};
  return rg_handle(y);
}

void rg_bwd_DROPOUT(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  const struct dropout_state *s = node->state;
  if (dx) ctx->k->dropout_bwd(node->out->numel, &s->key, s->threshold, s->scale, node->out->grad, dx);
}
