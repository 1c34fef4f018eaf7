/* clamp(x, lo, hi) and grad_clip(x, c), which clamps only the gradient. */
#include <math.h>
#include <string.h>

#include "core/internal.h"

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
  rg_node *node = rg_record(ctx, fn, RG_OP_CLAMP, y, &x, 1);
  if (node) node->attr[0] = lo, node->attr[1] = hi;
  return rg_handle(y);
}

void rg_bwd_CLAMP(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  if (dx)
    ctx->k->clamp_bwd(node->out->numel, node->attr[0], node->attr[1], node->in[0]->data,
                      node->out->grad, dx);
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
  rg_node *node = rg_record(ctx, fn, RG_OP_GRAD_CLIP, y, &x, 1);
  if (node) node->attr[0] = c;
  return rg_handle(y);
}

void rg_bwd_GRAD_CLIP(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  float *clipped = dx ? rg_scratch(ctx, node->out->numel) : NULL;
  if (!clipped) return;
  float c = node->attr[0];
  ctx->k->clamp_fwd(node->out->numel, -c, c, node->out->grad, clipped);
  ctx->k->add(node->out->numel, dx, clipped, dx);
}
