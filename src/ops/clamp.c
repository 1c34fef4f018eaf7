/* clamp(x, lo, hi) and grad_clip(x, c), which clamps only the gradient. */
#include <math.h>
#include <string.h>

#include "core/internal.h"

/* clamp's saved state: the interval. */
struct clamp_state {
  float lo, hi;
};

/* grad_clip's: the bound of the gradient. */
struct grad_clip_state {
  float c;
};

rg_tensor *rg_clamp(rg_ctx *ctx, rg_tensor *x, float lo, float hi) {
  static const char fn[] = "rg_clamp";
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
  if (!(lo <= hi)) {
    rg_fail(ctx, RG_EINVAL, fn, "lo is %g and hi %g, expected lo <= hi", (double)lo, (double)hi);
    return NULL;
  }
  rg_tensor *y = rg_new_output(ctx, fn, x->shape, &x, 1);
  if (!y) return NULL;
  ctx->k->clamp_fwd(x->numel, lo, hi, x->data, y->data);
  rg_node *node = rg_record(ctx, fn, RG_OP_CLAMP, y, &x, 1, sizeof(struct clamp_state));
  if (node) *(struct clamp_state *)node->state = (struct clamp_state){lo, hi};
  return rg_handle(y);
}

void rg_bwd_CLAMP(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  const struct clamp_state *s = node->state;
  if (dx)
    ctx->k->clamp_bwd(node->out->numel, s->lo, s->hi, node->in[0]->data, node->out->grad, dx);
}

rg_tensor *rg_grad_clip(rg_ctx *ctx, rg_tensor *x, float c) {
  static const char fn[] = "rg_grad_clip";
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
  if (!(c > 0.0f) || isinf(c)) {
    rg_fail(ctx, RG_EINVAL, fn, "c is %g, expected a finite value > 0", (double)c);
    return NULL;
  }
  rg_tensor *y = rg_new_output(ctx, fn, x->shape, &x, 1);
  if (!y) return NULL;
  memcpy(y->data, x->data, (size_t)x->numel * sizeof(float));
  rg_node *node = rg_record(ctx, fn, RG_OP_GRAD_CLIP, y, &x, 1, sizeof(struct grad_clip_state));
  if (node) ((struct grad_clip_state *)node->state)->c = c;
  return rg_handle(y);
}

void rg_bwd_GRAD_CLIP(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  float *clipped = dx ? rg_scratch(ctx, node->out->numel) : NULL;
  if (!clipped) return;
  float c = ((const struct grad_clip_state *)node->state)->c;
  ctx->k->clamp_fwd(node->out->numel, -c, c, node->out->grad, clipped);
  ctx->k->add(node->out->numel, dx, clipped, dx);
}
