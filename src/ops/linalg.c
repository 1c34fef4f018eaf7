/* matmul and linear, forward and backward, through the gemm slot. */
#include <math.h>
#include <string.h>

#include "core/internal.h"

static bool rank2(rg_ctx *ctx, const char *fn, const char *arg, const rg_tensor *t) {
  if (t->shape.rank == 2) return true;
  rg_fail(ctx, RG_ESHAPE, fn, "%s is %s, expected rank 2", arg, RG_SHAPE_STR(t->shape));
  return false;
}

/* What matmul's backward needs: which operands were transposed. */
struct matmul_state {
  bool ta, tb;
};

rg_tensor *rg_matmul(rg_ctx *ctx, rg_tensor *a, rg_tensor *b, bool ta, bool tb) {
  static const char fn[] = "rg_matmul";
  if (!rg_check(ctx, fn, "a", &a) || !rg_check(ctx, fn, "b", &b) || !rank2(ctx, fn, "a", a) ||
      !rank2(ctx, fn, "b", b))
    return NULL;
  int64_t m = a->shape.dim[ta], k = a->shape.dim[!ta];
  int64_t kb = b->shape.dim[tb], n = b->shape.dim[!tb];
  if (k != kb) {
    rg_fail(ctx, RG_ESHAPE, fn, "inner dimensions differ: %sa is %s, %sb is %s", ta ? "transposed " : "",
            RG_SHAPE_STR(a->shape), tb ? "transposed " : "", RG_SHAPE_STR(b->shape));
    return NULL;
  }
  rg_tensor *in[2] = {a, b};
  rg_tensor *y = rg_new_output(ctx, fn, rg_shape2(m, n), in, 2);
  if (!y) return NULL;
  rg_gemm(ctx, m, n, k, ta, tb, a->data, a->shape.dim[1], b->data, b->shape.dim[1], y->data, n, 0);
  rg_node *node = rg_record(ctx, fn, RG_OP_MATMUL, y, in, 2, sizeof(struct matmul_state));
  if (node) *(struct matmul_state *)node->state = (struct matmul_state){ta, tb};
  return rg_handle(y);
}

/* With C = op(A) op(B): dop(A) = dC op(B)^T and dop(B) = op(A)^T dC, written
 * directly in the stored layout of A and B. */
void rg_bwd_MATMUL(rg_ctx *ctx, const rg_node *node) {
  rg_tensor *a = node->in[0], *b = node->in[1];
  const struct matmul_state *s = node->state;
  int ta = s->ta, tb = s->tb;
  int64_t m = node->out->shape.dim[0], n = node->out->shape.dim[1], k = a->shape.dim[!ta];
  int64_t lda = a->shape.dim[1], ldb = b->shape.dim[1];
  const float *dy = node->out->grad;
  int acc_a, acc_b; /* in this order: a and b may be one tensor */
  float *da = rg_grad_dest(ctx, a, &acc_a), *db = rg_grad_dest(ctx, b, &acc_b);
  if (da && !ta) rg_gemm(ctx, m, k, n, 0, !tb, dy, n, b->data, ldb, da, lda, acc_a);
  if (da && ta) rg_gemm(ctx, k, m, n, tb, 1, b->data, ldb, dy, n, da, lda, acc_a);
  if (db && !tb) rg_gemm(ctx, k, n, m, !ta, 0, a->data, lda, dy, n, db, ldb, acc_b);
  if (db && tb) rg_gemm(ctx, n, k, m, 1, ta, dy, n, a->data, lda, db, ldb, acc_b);
}

/* The checks of rg_linear and rg_linear_act. */
static bool linear_args(rg_ctx *ctx, const char *fn, rg_tensor **px, rg_tensor **pw,
                        rg_tensor **pb) {
  if (!rg_check(ctx, fn, "x", px) || !rg_check(ctx, fn, "w", pw) || !rank2(ctx, fn, "x", *px) ||
      !rank2(ctx, fn, "w", *pw))
    return false;
  const rg_tensor *x = *px, *w = *pw;
  int64_t in_f = x->shape.dim[1], out_f = w->shape.dim[0];
  if (w->shape.dim[1] != in_f) {
    rg_fail(ctx, RG_ESHAPE, fn, "x is %s but w is %s, expected w [out,%lld]",
            RG_SHAPE_STR(x->shape), RG_SHAPE_STR(w->shape), (long long)in_f);
    return false;
  }
  if (*pb && (!rg_check(ctx, fn, "b", pb) || (*pb)->numel != out_f || (*pb)->shape.rank != 1)) {
    if (ctx->status == RG_OK)
      rg_fail(ctx, RG_ESHAPE, fn, "b is %s, expected [%lld]", RG_SHAPE_STR((*pb)->shape),
              (long long)out_f);
    return false;
  }
  return true;
}

rg_tensor *rg_linear(rg_ctx *ctx, rg_tensor *x, rg_tensor *w, rg_tensor *b) {
  static const char fn[] = "rg_linear";
  if (!linear_args(ctx, fn, &x, &w, &b)) return NULL;
  int64_t batch = x->shape.dim[0], in_f = x->shape.dim[1], out_f = w->shape.dim[0];
  rg_tensor *in[3] = {x, w, b};
  rg_tensor *y = rg_new_output(ctx, fn, rg_shape2(batch, out_f), in, b ? 3 : 2);
  if (!y) return NULL;
  /* The bias is each output's starting value; gemm then adds over k. */
  struct rg_epilogue ep = {b ? b->data : NULL, RG_LINEAR, 0.0f};
  if (b)
    rg_gemm_epi(ctx, batch, out_f, in_f, 0, 1, x->data, in_f, w->data, in_f, y->data, out_f, &ep);
  else
    rg_gemm(ctx, batch, out_f, in_f, 0, 1, x->data, in_f, w->data, in_f, y->data, out_f, 0);
  rg_record(ctx, fn, RG_OP_LINEAR, y, in, b ? 3 : 2, 0);
  return rg_handle(y);
}

/* The gradients of x W^T + b for the gradient dy of that sum. */
static void linear_bwd(rg_ctx *ctx, const rg_node *node, const float *dy) {
  rg_tensor *x = node->in[0], *w = node->in[1];
  int64_t batch = x->shape.dim[0], in_f = x->shape.dim[1], out_f = w->shape.dim[0];
  int acc_x, acc_w; /* in this order: x and w may be one tensor */
  float *dx = rg_grad_dest(ctx, x, &acc_x), *dw = rg_grad_dest(ctx, w, &acc_w);
  if (dx) rg_gemm(ctx, batch, in_f, out_f, 0, 0, dy, out_f, w->data, in_f, dx, in_f, acc_x);
  if (dw) rg_gemm(ctx, out_f, in_f, batch, 1, 0, dy, out_f, x->data, in_f, dw, in_f, acc_w);
  float *db = node->n_in == 3 ? rg_grad_buf(ctx, node->in[2]) : NULL;
  if (db) ctx->k->colsum_acc(batch, out_f, dy, db);
}

void rg_bwd_LINEAR(rg_ctx *ctx, const rg_node *node) { linear_bwd(ctx, node, node->out->grad); }

/* What linear_act's backward needs: the activation and its slope. */
struct linear_act_state {
  rg_nonlinearity act;
  float alpha;
};

rg_tensor *rg_linear_act(rg_ctx *ctx, rg_tensor *x, rg_tensor *w, rg_tensor *b,
                         rg_nonlinearity act, float alpha) {
  static const char fn[] = "rg_linear_act";
  if (!linear_args(ctx, fn, &x, &w, &b)) return NULL;
  bool bad_alpha = act == RG_LEAKY_RELU && !(alpha >= 0.0f && alpha < INFINITY);
  if (!rg_activation_of(act) || bad_alpha) {
    rg_fail(ctx, RG_EINVAL, fn, "act is %d and alpha %g, expected a known activation and, for "
            "leaky ReLU, a finite alpha >= 0", (int)act, (double)alpha);
    return NULL;
  }
  int64_t batch = x->shape.dim[0], in_f = x->shape.dim[1], out_f = w->shape.dim[0];
  rg_tensor *in[3] = {x, w, b};
  rg_tensor *y = rg_new_output(ctx, fn, rg_shape2(batch, out_f), in, b ? 3 : 2);
  if (!y) return NULL;
  struct rg_epilogue ep = {b ? b->data : NULL, act, alpha};
  rg_gemm_epi(ctx, batch, out_f, in_f, 0, 1, x->data, in_f, w->data, in_f, y->data, out_f, &ep);
  rg_node *node = rg_record(ctx, fn, RG_OP_LINEAR_ACT, y, in, b ? 3 : 2,
                            sizeof(struct linear_act_state));
  if (node) *(struct linear_act_state *)node->state = (struct linear_act_state){act, alpha};
  return rg_handle(y);
}

/* The activation's derivative from the output, into a zeroed scratch: the
 * values the separate activation op accumulates into the linear output's
 * fresh gradient. */
void rg_bwd_LINEAR_ACT(rg_ctx *ctx, const rg_node *node) {
  const struct linear_act_state *s = node->state;
  const rg_tensor *y = node->out;
  const float *dy = y->grad;
  if (s->act != RG_LINEAR) {
    float *d = rg_arena_zeroed(ctx, "rg_backward", (size_t)y->numel * sizeof(float));
    if (!d) return;
    rg_act_bwd_from_output(ctx, s->act, s->alpha, y->numel, y->data, dy, d);
    dy = d;
  }
  linear_bwd(ctx, node, dy);
}
