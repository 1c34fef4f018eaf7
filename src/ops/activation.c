/* Elementwise activations, the activation table of the dense layers, and
 * the row-wise softmax family. */
#include "core/internal.h"

/* Smallest piece worth a thread: ~50 us of work, about what waking a
 * sleeping worker costs. On AVX2, functions built on SLEEF cost 0.4-0.8 ns
 * an element, the others 0.1-0.2 (memory-bound). */
#define GRAIN_MATH (128 << 10)
#define GRAIN_CHEAP (512 << 10)

/* The saved state of a unary op: leaky ReLU's slope (0 for the others). */
struct unary_state {
  float alpha;
};

/* The activations of the dense layers, indexed by rg_nonlinearity (which
 * the GEMM epilogue takes as it is): the op that applies one alone. The one
 * place that translates between the two. */
static const struct rg_activation activations[] = {
    [RG_LINEAR] = {RG_OP_COUNT, "rg_linear"},
    [RG_RELU] = {RG_OP_RELU, "rg_relu"},
    [RG_LEAKY_RELU] = {RG_OP_LEAKY_RELU, "rg_leaky_relu"},
    [RG_TANH] = {RG_OP_TANH, "rg_tanh"},
    [RG_SIGMOID] = {RG_OP_SIGMOID, "rg_sigmoid"},
};

const struct rg_activation *rg_activation_of(rg_nonlinearity nl) {
  return (unsigned)nl <= RG_SIGMOID ? &activations[nl] : NULL;
}

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
  rg_node *node = rg_record(ctx, fn, op, y, &x, 1, sizeof(struct unary_state));
  if (node) ((struct unary_state *)node->state)->alpha = alpha;
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

rg_tensor *rg_activate(rg_ctx *ctx, rg_tensor *x, rg_nonlinearity nl, float alpha) {
  const struct rg_activation *a = rg_activation_of(nl);
  if (!a) {
    if (ctx) rg_fail(ctx, RG_EINVAL, "rg_activate", "nl is %d, not an rg_nonlinearity", (int)nl);
    return NULL;
  }
  if (nl == RG_LINEAR) return x;
  if (nl == RG_LEAKY_RELU) return rg_leaky_relu(ctx, x, alpha);
  return unary(ctx, a->fn, a->op, x, 0);
}

/* The backward rules read x (relu, leaky_relu, gelu, log) or y (sigmoid,
 * tanh, exp). */
static void unary_bwd(rg_ctx *ctx, const rg_node *node, enum rg_op op) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  const struct unary_state *s = node->state;
  struct unary_job j = {.k = ctx->k, .op = op, .bwd = true, .alpha = s->alpha,
                        .x = node->in[0]->data, .y = node->out->data, .dy = node->out->grad,
                        .out = dx};
  if (dx) unary_run(ctx, node->out->numel, &j);
}

void rg_bwd_RELU(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_RELU); }
void rg_bwd_LEAKY_RELU(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_LEAKY_RELU); }
void rg_bwd_SIGMOID(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_SIGMOID); }
void rg_bwd_TANH(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_TANH); }
void rg_bwd_GELU(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_GELU); }
void rg_bwd_EXP(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_EXP); }
void rg_bwd_LOG(rg_ctx *ctx, const rg_node *node) { unary_bwd(ctx, node, RG_OP_LOG); }

/* y = act(y) in place by table k's activation bodies (rg_predictor, after
 * batch norm). */
void rg_apply_act(const struct rg_kernels *k, rg_nonlinearity nl, float alpha, int64_t n,
                  float *y) {
  if (nl == RG_LINEAR) return;
  struct unary_job j = {.k = k, .op = activations[nl].op, .alpha = alpha, .x = y, .out = y};
  unary_range(&j, 0, n);
}

/* rg_linear_act's backward: dx += f'(input) dy, with the input's sign taken
 * from the output y (relu, leaky_relu with alpha >= 0), or f' from y
 * (sigmoid, tanh). */
void rg_act_bwd_from_output(rg_ctx *ctx, rg_nonlinearity nl, float alpha, int64_t n,
                            const float *y, const float *dy, float *dx) {
  struct unary_job j = {.k = ctx->k, .op = activations[nl].op, .bwd = true, .alpha = alpha,
                        .x = y, .y = y, .dy = dy, .out = dx};
  unary_run(ctx, n, &j);
}

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
  rg_record(ctx, fn, op, y, &x, 1, 0);
  return rg_handle(y);
}

rg_tensor *rg_softmax(rg_ctx *ctx, rg_tensor *x) { return rowwise(ctx, "rg_softmax", RG_OP_SOFTMAX, x); }
rg_tensor *rg_log_softmax(rg_ctx *ctx, rg_tensor *x) {
  return rowwise(ctx, "rg_log_softmax", RG_OP_LOG_SOFTMAX, x);
}

void rg_bwd_SOFTMAX(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  const rg_tensor *y = node->out;
  if (dx) ctx->k->softmax_bwd(y->shape.dim[0], y->shape.dim[1], y->data, y->grad, dx);
}

void rg_bwd_LOG_SOFTMAX(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  const rg_tensor *y = node->out;
  if (dx) ctx->k->log_softmax_bwd(y->shape.dim[0], y->shape.dim[1], y->data, y->grad, dx);
}
