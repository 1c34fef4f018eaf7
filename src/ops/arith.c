/* add, sub, mul (same shape, or a row vector broadcast over the rows), scale,
 * sum and mean. */
#include <string.h>

#include "core/internal.h"

enum { SAME = 0, ROWS = 1 };

/* An elementwise op's saved state: b has a's shape (SAME) or is a row
 * broadcast over a's rows (ROWS). */
struct binary_state {
  int mode;
};

/* scale's: the factor. */
struct scale_state {
  float s;
};

/* Checks a and b for an elementwise op; *mode is SAME or ROWS (b is [n] or
 * [1,n] and a's last dimension is n, a viewed as [numel / n, n]). */
static bool binary_shapes(rg_ctx *ctx, const char *fn, rg_tensor **pa, rg_tensor **pb, int *mode) {
  if (!rg_check(ctx, fn, "a", pa) || !rg_check(ctx, fn, "b", pb)) return false;
  const rg_tensor *a = *pa, *b = *pb;
  if (rg_same_shape(a->shape, b->shape)) {
    *mode = SAME;
    return true;
  }
  int64_t n = a->shape.dim[a->shape.rank - 1];
  bool row = (b->shape.rank == 1 || (b->shape.rank == 2 && b->shape.dim[0] == 1)) &&
             b->numel == n && a->shape.rank >= 2;
  if (!row) {
    rg_fail(ctx, RG_ESHAPE, fn, "shapes differ: a is %s, b is %s (b must match a or be a row of %lld)",
            RG_SHAPE_STR(a->shape), RG_SHAPE_STR(b->shape), (long long)n);
    return false;
  }
  *mode = ROWS;
  return true;
}

static rg_tensor *binary(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *a, rg_tensor *b) {
  int mode;
  if (!binary_shapes(ctx, fn, &a, &b, &mode)) return NULL;
  rg_tensor *in[2] = {a, b};
  rg_tensor *y = rg_new_output(ctx, fn, a->shape, in, 2);
  if (!y) return NULL;
  rg_add_fn k = op == RG_OP_ADD ? ctx->k->add : op == RG_OP_SUB ? ctx->k->sub : ctx->k->mul;
  int64_t n = mode == SAME ? a->numel : b->numel;
  for (int64_t at = 0; at < a->numel; at += n) k(n, a->data + at, b->data, y->data + at);
  rg_node *node = rg_record(ctx, fn, op, y, in, 2, sizeof(struct binary_state));
  if (node) ((struct binary_state *)node->state)->mode = mode;
  return rg_handle(y);
}

rg_tensor *rg_add(rg_ctx *ctx, rg_tensor *a, rg_tensor *b) { return binary(ctx, "rg_add", RG_OP_ADD, a, b); }
rg_tensor *rg_sub(rg_ctx *ctx, rg_tensor *a, rg_tensor *b) { return binary(ctx, "rg_sub", RG_OP_SUB, a, b); }
rg_tensor *rg_mul(rg_ctx *ctx, rg_tensor *a, rg_tensor *b) { return binary(ctx, "rg_mul", RG_OP_MUL, a, b); }

/* db += s * (dy summed over rows when broadcast). */
static void accumulate_b(rg_ctx *ctx, const rg_node *node, const float *dy, float s) {
  rg_tensor *b = node->in[1];
  float *db = rg_grad_buf(ctx, b);
  if (!db) return;
  if (((const struct binary_state *)node->state)->mode == SAME) {
    ctx->k->axpy(b->numel, s, dy, db);
    return;
  }
  float *col = rg_scratch(ctx, b->numel);
  if (!col) return;
  memset(col, 0, (size_t)b->numel * sizeof(float));
  ctx->k->colsum_acc(node->out->numel / b->numel, b->numel, dy, col);
  ctx->k->axpy(b->numel, s, col, db);
}

static void add_sub_bwd(rg_ctx *ctx, const rg_node *node, float sign_b) {
  const float *dy = node->out->grad;
  float *da = rg_grad_buf(ctx, node->in[0]);
  if (da) ctx->k->axpy(node->out->numel, 1.0f, dy, da);
  accumulate_b(ctx, node, dy, sign_b);
}

void rg_bwd_ADD(rg_ctx *ctx, const rg_node *node) { add_sub_bwd(ctx, node, 1.0f); }
void rg_bwd_SUB(rg_ctx *ctx, const rg_node *node) { add_sub_bwd(ctx, node, -1.0f); }

void rg_bwd_MUL(rg_ctx *ctx, const rg_node *node) {
  rg_tensor *a = node->in[0], *b = node->in[1];
  const float *dy = node->out->grad;
  int64_t n = ((const struct binary_state *)node->state)->mode == SAME ? a->numel : b->numel;
  float *da = rg_grad_buf(ctx, a);
  for (int64_t at = 0; da && at < a->numel; at += n) ctx->k->mul_acc(n, dy + at, b->data, da + at);
  if (!b->requires_grad) return;
  float *prod = rg_scratch(ctx, a->numel);
  if (!prod) return;
  ctx->k->mul(a->numel, dy, a->data, prod);
  accumulate_b(ctx, node, prod, 1.0f);
}

rg_tensor *rg_scale(rg_ctx *ctx, rg_tensor *x, float s) {
  static const char fn[] = "rg_scale";
  if (!rg_check(ctx, fn, "x", &x) || !rg_finite_arg(ctx, fn, "s", s)) return NULL;
  rg_tensor *y = rg_new_output(ctx, fn, x->shape, &x, 1);
  if (!y) return NULL;
  ctx->k->scale(x->numel, s, x->data, y->data);
  rg_node *node = rg_record(ctx, fn, RG_OP_SCALE, y, &x, 1, sizeof(struct scale_state));
  if (node) ((struct scale_state *)node->state)->s = s;
  return rg_handle(y);
}

void rg_bwd_SCALE(rg_ctx *ctx, const rg_node *node) {
  float *dx = rg_grad_buf(ctx, node->in[0]);
  const struct scale_state *st = node->state;
  if (dx) ctx->k->axpy(node->out->numel, st->s, node->out->grad, dx);
}

static rg_tensor *reduce_all(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *x) {
  if (!rg_check(ctx, fn, "x", &x)) return NULL;
  rg_tensor *y = rg_new_output(ctx, fn, rg_shape1(1), &x, 1);
  if (!y) return NULL;
  float s = rg_reduce(ctx, ctx->k->sum, x->numel, x->data);
  y->data[0] = op == RG_OP_MEAN ? s / (float)x->numel : s;
  rg_record(ctx, fn, op, y, &x, 1, 0);
  return rg_handle(y);
}

rg_tensor *rg_sum(rg_ctx *ctx, rg_tensor *x) { return reduce_all(ctx, "rg_sum", RG_OP_SUM, x); }
rg_tensor *rg_mean(rg_ctx *ctx, rg_tensor *x) { return reduce_all(ctx, "rg_mean", RG_OP_MEAN, x); }

/* dx += g for every element (g divided by the count for the mean). */
static void spread_bwd(rg_ctx *ctx, const rg_node *node, float g) {
  rg_tensor *x = node->in[0];
  float *dx = rg_grad_buf(ctx, x);
  float *fill = dx ? rg_scratch(ctx, x->numel) : NULL;
  if (!fill) return;
  for (int64_t i = 0; i < x->numel; i++) fill[i] = g;
  ctx->k->add(x->numel, dx, fill, dx);
}

void rg_bwd_SUM(rg_ctx *ctx, const rg_node *node) { spread_bwd(ctx, node, node->out->grad[0]); }

void rg_bwd_MEAN(rg_ctx *ctx, const rg_node *node) {
  spread_bwd(ctx, node, node->out->grad[0] / (float)node->in[0]->numel);
}
