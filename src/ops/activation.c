/* Elementwise activations and the row-wise softmax family. */
#include "core/internal.h"

static rg_tensor *unary(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *x, float alpha) {
  if (!rg_check(ctx, fn, "x", x)) return NULL;
  rg_tensor *y = rg_new_output(ctx, fn, x->shape, &x, 1);
  if (!y) return NULL;
  const struct rg_kernels *k = ctx->k;
  int64_t n = x->numel;
  switch (op) {
    case RG_OP_RELU: k->relu_fwd(n, x->data, y->data); break;
    case RG_OP_LEAKY_RELU: k->leaky_relu_fwd(n, alpha, x->data, y->data); break;
    case RG_OP_SIGMOID: k->sigmoid_fwd(n, x->data, y->data); break;
    case RG_OP_TANH: k->tanh_fwd(n, x->data, y->data); break;
    case RG_OP_GELU: k->gelu_fwd(n, x->data, y->data); break;
    case RG_OP_EXP: k->exp_fwd(n, x->data, y->data); break;
    default: k->log_fwd(n, x->data, y->data); break;
  }
  rg_node *node = rg_record(ctx, op, y, &x, 1);
  if (node) node->attr[0] = alpha;
  return y;
}

rg_tensor *rg_relu(rg_ctx *ctx, rg_tensor *x) { return unary(ctx, "rg_relu", RG_OP_RELU, x, 0); }
rg_tensor *rg_sigmoid(rg_ctx *ctx, rg_tensor *x) { return unary(ctx, "rg_sigmoid", RG_OP_SIGMOID, x, 0); }
rg_tensor *rg_tanh(rg_ctx *ctx, rg_tensor *x) { return unary(ctx, "rg_tanh", RG_OP_TANH, x, 0); }
rg_tensor *rg_gelu(rg_ctx *ctx, rg_tensor *x) { return unary(ctx, "rg_gelu", RG_OP_GELU, x, 0); }
rg_tensor *rg_exp(rg_ctx *ctx, rg_tensor *x) { return unary(ctx, "rg_exp", RG_OP_EXP, x, 0); }
rg_tensor *rg_log(rg_ctx *ctx, rg_tensor *x) { return unary(ctx, "rg_log", RG_OP_LOG, x, 0); }

rg_tensor *rg_leaky_relu(rg_ctx *ctx, rg_tensor *x, float alpha) {
  if (ctx && !rg_finite_arg(ctx, "rg_leaky_relu", "alpha", alpha)) return NULL;
  return unary(ctx, "rg_leaky_relu", RG_OP_LEAKY_RELU, x, alpha);
}

/* The backward rules read x (relu, leaky_relu, gelu, log) or y (sigmoid,
 * tanh, exp). */
#define UNARY_BWD(OP, call)                                       \
  void rg_bwd_##OP(rg_ctx *ctx, const rg_node *node) {            \
    float *dx = rg_grad_buf(ctx, node->in[0]);                    \
    const float *x = node->in[0]->data, *y = node->out->data;     \
    const float *dy = node->out->grad;                            \
    int64_t n = node->out->numel;                                 \
    (void)x, (void)y;                                             \
    if (dx) call;                                                 \
  }

UNARY_BWD(RELU, ctx->k->relu_bwd(n, x, dy, dx))
UNARY_BWD(LEAKY_RELU, ctx->k->leaky_relu_bwd(n, node->attr[0], x, dy, dx))
UNARY_BWD(SIGMOID, ctx->k->sigmoid_bwd(n, y, dy, dx))
UNARY_BWD(TANH, ctx->k->tanh_bwd(n, y, dy, dx))
UNARY_BWD(GELU, ctx->k->gelu_bwd(n, x, dy, dx))
UNARY_BWD(EXP, ctx->k->mul_acc(n, dy, y, dx))
UNARY_BWD(LOG, ctx->k->log_bwd(n, x, dy, dx))

static rg_tensor *rowwise(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *x) {
  if (!rg_check(ctx, fn, "x", x)) return NULL;
  if (x->shape.rank != 2) {
    rg_fail(ctx, RG_ESHAPE, fn, "x is %s, expected rank 2 [rows, classes]", RG_SHAPE_STR(x->shape));
    return NULL;
  }
  rg_tensor *y = rg_new_output(ctx, fn, x->shape, &x, 1);
  if (!y) return NULL;
  int64_t m = x->shape.dim[0], n = x->shape.dim[1];
  if (op == RG_OP_SOFTMAX)
    ctx->k->softmax_fwd(m, n, x->data, y->data);
  else
    ctx->k->log_softmax_fwd(m, n, x->data, y->data);
  rg_record(ctx, op, y, &x, 1);
  return y;
}

rg_tensor *rg_softmax(rg_ctx *ctx, rg_tensor *x) { return rowwise(ctx, "rg_softmax", RG_OP_SOFTMAX, x); }
rg_tensor *rg_log_softmax(rg_ctx *ctx, rg_tensor *x) {
  return rowwise(ctx, "rg_log_softmax", RG_OP_LOG_SOFTMAX, x);
}

#define ROW_BWD(OP, slot)                                                            \
  void rg_bwd_##OP(rg_ctx *ctx, const rg_node *node) {                               \
    float *dx = rg_grad_buf(ctx, node->in[0]);                                       \
    const rg_tensor *y = node->out;                                                  \
    if (dx) ctx->k->slot(y->shape.dim[0], y->shape.dim[1], y->data, y->grad, dx);    \
  }

ROW_BWD(SOFTMAX, softmax_bwd)
ROW_BWD(LOG_SOFTMAX, log_softmax_bwd)
