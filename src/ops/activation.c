/* Elementwise activations and the row-wise softmax family. */
#include "core/internal.h"


/* Smallest piece worth a thread: ~50 us of work, about what waking a
 * sleeping worker costs. On AVX2, functions built on SLEEF cost 0.4-0.8 ns
 * an element, the others 0.1-0.2 (memory-bound). */
#define GRAIN_MATH (128 << 10)
#define GRAIN_CHEAP (512 << 10)

/* One unary op, forward (y = f(x)) or backward (dx += f'(x or y) dy). */
struct unary_job {
  const struct rg_kernels *k;
  enum rg_op op;
  bool bwd;
  float alpha;
  const float *x, *y, *dy;
  float *out;
};

static void unary_range(void *vp, int64_t lo, int64_t hi) {
  const struct unary_job *j = vp;
  const struct rg_kernels *k = j->k;
  int64_t n = hi - lo;
  const float *x = j->x + lo, *y = j->y + lo, *dy = j->dy ? j->dy + lo : NULL;
  float *out = j->out + lo;
  if (!j->bwd) {
    switch (j->op) {
      case RG_OP_RELU: k->relu_fwd(n, x, out); break;
      case RG_OP_LEAKY_RELU: k->leaky_relu_fwd(n, j->alpha, x, out); break;
      case RG_OP_SIGMOID: k->sigmoid_fwd(n, x, out); break;
      case RG_OP_TANH: k->tanh_fwd(n, x, out); break;
      case RG_OP_GELU: k->gelu_fwd(n, x, out); break;
      case RG_OP_EXP: k->exp_fwd(n, x, out); break;
      default: k->log_fwd(n, x, out); break;
    }
    return;
  }
  switch (j->op) {
    case RG_OP_RELU: k->relu_bwd(n, x, dy, out); break;
    case RG_OP_LEAKY_RELU: k->leaky_relu_bwd(n, j->alpha, x, dy, out); break;
    case RG_OP_SIGMOID: k->sigmoid_bwd(n, y, dy, out); break;
    case RG_OP_TANH: k->tanh_bwd(n, y, dy, out); break;
    case RG_OP_GELU: k->gelu_bwd(n, x, dy, out); break;
    case RG_OP_EXP: k->mul_acc(n, dy, y, out); break;
    default: k->log_bwd(n, x, dy, out); break;
  }
}

static void unary_run(rg_ctx *ctx, int64_t n, struct unary_job *j) {
  bool math = j->bwd ? (j->op == RG_OP_GELU || j->op == RG_OP_LOG)
                     : (j->op != RG_OP_RELU && j->op != RG_OP_LEAKY_RELU);
  rg_parallel_range(ctx, n, math ? GRAIN_MATH : GRAIN_CHEAP, unary_range, j);
}

static rg_tensor *unary(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *x, float alpha) {
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
  rg_tensor *y = rg_new_output(ctx, fn, x->shape, &x, 1);
  if (!y) return NULL;
  struct unary_job j = {.k = ctx->k, .op = op, .alpha = alpha, .x = x->data, .y = y->data,
                        .out = y->data};
  unary_run(ctx, x->numel, &j);
  rg_node *node = rg_record(ctx, fn, op, y, &x, 1);
  if (node) node->attr[0] = alpha;
  return rg_handle(y);
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
static void unary_bwd(rg_ctx *ctx, const rg_node *node, enum rg_op op) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  struct unary_job j = {.k = ctx->k, .op = op, .bwd = true, .alpha = node->attr[0],
                        .x = node->in[0]->data, .y = node->out->data, .dy = node->out->grad,
                        .out = dx};
  if (dx) unary_run(ctx, node->out->numel, &j);
}

/* y = act(y) in place by table k's activation bodies (rg_predictor, after
 * batch norm). */
void rg_apply_act(const struct rg_kernels *k, enum rg_act act, float alpha, int64_t n, float *y) {
  switch (act) {
    case RG_ACT_RELU: k->relu_fwd(n, y, y); break;
    case RG_ACT_LEAKY_RELU: k->leaky_relu_fwd(n, alpha, y, y); break;
    case RG_ACT_TANH: k->tanh_fwd(n, y, y); break;
    case RG_ACT_SIGMOID: k->sigmoid_fwd(n, y, y); break;
    case RG_ACT_NONE: break;
  }
}

/* rg_linear_act's backward: dx += f'(input) dy, with the input's sign taken
 * from the output y (relu, leaky_relu with alpha >= 0), or f' from y
 * (sigmoid, tanh). */
void rg_act_bwd_from_output(rg_ctx *ctx, enum rg_op op, float alpha, int64_t n, const float *y,
                            const float *dy, float *dx) {
  struct unary_job j = {.k = ctx->k, .op = op, .bwd = true, .alpha = alpha, .x = y, .y = y,
                        .dy = dy, .out = dx};
  unary_run(ctx, n, &j);
}

#define UNARY_BWD(OP) \
  void rg_bwd_##OP(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_##OP); }

UNARY_BWD(RELU)
UNARY_BWD(LEAKY_RELU)
UNARY_BWD(SIGMOID)
UNARY_BWD(TANH)
UNARY_BWD(GELU)
UNARY_BWD(EXP)
UNARY_BWD(LOG)

static rg_tensor *rowwise(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *x) {
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
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
  rg_record(ctx, fn, op, y, &x, 1);
  return rg_handle(y);
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
