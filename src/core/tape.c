/* The tape: recording nodes, the backward walk and reset. */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

rg_tensor *rg_new_output(rg_ctx *ctx, const char *fn, rg_shape shape, rg_tensor *const *in,
                         int n_in) {
  int64_t numel;
  if (!rg_shape_valid(ctx, fn, "output", shape, &numel)) return NULL;
  rg_tensor *t = rg_slot_new(ctx, fn);
  float *d = t ? rg_arena_get(ctx, fn, (size_t)numel * sizeof(float)) : NULL;
  if (!d) return NULL;
  bool needs = false;
  for (int i = 0; i < n_in; i++) needs = needs || (in[i] && in[i]->requires_grad);
  t->kind = RG_TRANSIENT;
  t->shape = shape;
  t->numel = numel;
  t->data = d;
  t->requires_grad = needs && ctx->grad_enabled;
  t->owner = ctx;
  for (int i = shape.rank; i < RG_MAX_RANK; i++) t->shape.dim[i] = 0;
  return t;
}

static bool all_finite(rg_ctx *ctx, const rg_tensor *t) {
  return rg_reduce_amax(ctx, t->numel, t->data) <= FLT_MAX;
}

/* "[128,784] [784]" for the anomaly report. */
static const char *shapes_str(rg_tensor *const *in, int n, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  for (int i = 0; i < n && at < len; i++)
    at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "",
                           in[i] ? RG_SHAPE_STR(in[i]->shape) : "-");
  return buf;
}

static void anomaly_forward(rg_ctx *ctx, enum rg_op op, rg_tensor *out, rg_tensor *const *in,
                            int n_in) {
  if (all_finite(ctx, out)) return;
  char shapes[192];
  rg_fail(ctx, RG_ENONFINITE, "anomaly",
          "forward of %s at tape position %llu gave a non-finite value; inputs %s, output %s",
          rg_op_name(op), (unsigned long long)ctx->tape_nodes,
          shapes_str(in, n_in, shapes, sizeof shapes), RG_SHAPE_STR(out->shape));
}

static void anomaly_backward(rg_ctx *ctx, const rg_node *node, uint64_t position) {
  for (int i = 0; i < node->n_in; i++) {
    rg_tensor *t = node->in[i];
    if (!t->grad || all_finite(ctx, &(rg_tensor){.numel = t->numel, .data = t->grad})) continue;
    rg_fail(ctx, RG_ENONFINITE, "anomaly",
            "backward of %s at tape position %llu gave a non-finite gradient for input %d %s "
            "(output %s)",
            rg_op_name(node->op), (unsigned long long)position, i, RG_SHAPE_STR(t->shape),
            RG_SHAPE_STR(node->out->shape));
    return;
  }
}

rg_node *rg_record(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *out, rg_tensor *const *in,
                   int n_in, size_t state_bytes) {
  if (ctx->anomaly) anomaly_forward(ctx, op, out, in, n_in);
  if (!out->requires_grad) return NULL;
  rg_node *node = rg_arena_zeroed(ctx, fn, sizeof *node);
  rg_tensor **ins = node ? rg_arena_get(ctx, fn, (size_t)n_in * sizeof *ins) : NULL;
  void *state = ins && state_bytes ? rg_arena_zeroed(ctx, fn, state_bytes) : NULL;
  if (!ins || (state_bytes && !state)) return NULL;
  memcpy(ins, in, (size_t)n_in * sizeof *ins);
  node->state = state;
  node->op = op;
  node->n_in = n_in;
  node->in = ins;
  node->out = out;
  node->prev = ctx->tape;
  ctx->tape = node;
  ctx->tape_nodes++;
  out->node = node;
  return node;
}

float *rg_grad_buf(rg_ctx *ctx, rg_tensor *t) {
  if (!t || !t->requires_grad) return NULL;
  if (!t->grad) t->grad = rg_arena_zeroed(ctx, "rg_backward", (size_t)t->numel * sizeof(float));
  return t->grad;
}

float *rg_grad_dest(rg_ctx *ctx, rg_tensor *t, int *acc) {
  if (!t || !t->requires_grad) return NULL;
  *acc = t->grad != NULL;
  if (!t->grad) t->grad = rg_arena_get(ctx, "rg_backward", (size_t)t->numel * sizeof(float));
  return t->grad;
}

float *rg_scratch(rg_ctx *ctx, int64_t n) {
  return rg_arena_get(ctx, "rg_backward", (size_t)n * sizeof(float));
}

rg_status rg_backward(rg_ctx *ctx, rg_tensor *loss) {
  static const char fn[] = "rg_backward";
  if (!rg_check(ctx, fn, "loss", &loss)) return ctx ? ctx->status : RG_EINVAL;
  if (loss->numel != 1) {
    rg_fail(ctx, RG_ESHAPE, fn, "loss is %s, expected a single element", RG_SHAPE_STR(loss->shape));
    return ctx->status;
  }
  if (ctx->backward_done) {
    rg_fail(ctx, RG_ESTATE, fn, "backward already ran on this tape; call rg_tape_reset first");
    return ctx->status;
  }
  if (!loss->node) {
    rg_fail(ctx, RG_ESTATE, fn, "loss was not recorded (no parameter feeds it, or grad was disabled)");
    return ctx->status;
  }
  float *g = rg_grad_buf(ctx, loss);
  if (!g) return ctx->status;
  g[0] += 1.0f;
  ctx->backward_done = true;
  uint64_t position = ctx->tape_nodes;
  for (rg_node *node = ctx->tape; node != loss->node; node = node->prev) position--;
  for (rg_node *node = loss->node; node && ctx->status == RG_OK; node = node->prev, position--) {
    if (!node->out->grad) continue;
    ctx->rules[node->op](ctx, node);
    if (ctx->anomaly) anomaly_backward(ctx, node, position - 1);
  }
  return ctx->status;
}

void rg_tape_reset(rg_ctx *ctx) {
  if (!ctx) return;
  rg_slots_retire_all(ctx);
  ctx->tape = NULL;
  ctx->tape_nodes = 0;
  ctx->backward_done = false;
  rg_arena_reset(ctx);
}
