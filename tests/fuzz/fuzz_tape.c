/* libFuzzer target: random programs of library calls over a pool of tensor
 * handles, with tape resets and uses of old handles. The input is a
 * program: the first byte picks the first arena chunk's size (small ones
 * make tapes grow past it, so resets merge and free chunks), then each
 * instruction is an opcode byte and operand bytes:
 *
 *   NEW s        a transient of shape s (rg_tensor_new, filled with a tag)
 *   VIEW s       a transient over static memory (rg_tensor_view)
 *   UNARY k a    one of 15 single-input ops on pool[a]
 *   BINARY k a b one of 7 two-input ops on pool[a], pool[b]
 *   PENALTY a b  rg_l2_penalty over {pool[a], pool[b]}
 *   BACKWARD a   rg_backward(pool[a])
 *   RESET c      rg_tape_reset of context c
 *   READ a       the accessors of pool[a], reading every element
 *   MODE m       training / grad enabled switches
 *   STICKY a     a failing call, then pool[a] used with the error pending
 *   STEP         SGD step over the parameters (gradients, clipping)
 *
 * The pool holds the parameters of two contexts (never stale) and up to 32
 * handles made by the program, each remembered with its context and the
 * number of resets that context had when it was made. The checks, after
 * every call:
 *   - no crash, no sanitizer report (ASan, UBSan, LeakSanitizer);
 *   - a call that fails sets a status whose message starts with the
 *     function's name; a call that returns NULL or an error status with no
 *     error pending has set one; with an error pending a call fails and the
 *     error stays as it was;
 *   - a handle from before its context's last reset is stale: the accessors
 *     give NULL/0, and an op whose first problem it is fails with
 *     RG_ESTATE; a current handle's data is readable, and a NEW tensor's
 *     data still holds its tag (no handle ever reads another tensor);
 *   - a handle of the other context is refused with RG_EINVAL "belongs to
 *     another context". */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regrad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL 32
#define PARAMS 3 /* per context */
#define VIEW_FLOATS 4096

typedef struct entry {
  rg_tensor *t;
  int ctx;        /* 0 or 1 */
  uint64_t epoch; /* resets of its context when made; UINT64_MAX: a parameter */
  float tag;      /* NEW tensors: every element; NAN otherwise */
  bool used;
} entry;

typedef struct prog {
  const uint8_t *p, *end;
  rg_ctx *ctx[2];
  uint64_t resets[2];
  entry pool[POOL + 2 * PARAMS];
  int n_made; /* handles made so far (slot = n_made % POOL) */
  float serial;
} prog;

static float view_data[VIEW_FLOATS];

static uint8_t next(prog *g) { return g->p < g->end ? *g->p++ : 0; }

static void fail_check(const char *what, const char *fn, const rg_ctx *ctx) {
  fprintf(stderr, "fuzz_tape: %s: %s (status %s, message \"%s\")\n", fn, what,
          rg_status_name(rg_ctx_status(ctx)), rg_ctx_message(ctx));
  abort();
}

static entry *operand(prog *g) {
  int n = POOL + 2 * PARAMS;
  entry *e = &g->pool[next(g) % n];
  return e->used ? e : &g->pool[POOL]; /* an unused slot: a parameter instead */
}

static bool stale(const prog *g, const entry *e) {
  return e->epoch != UINT64_MAX && e->epoch != g->resets[e->ctx];
}

/* The status an op must give when its inputs (in argument order) are
 * checked first: RG_ESTATE for the first stale one, RG_EINVAL for the
 * first of another context, RG_OK when all are usable. */
static rg_status expected(const prog *g, int c, entry *const *in, int n) {
  for (int i = 0; i < n; i++) {
    if (stale(g, in[i])) return RG_ESTATE;
    if (in[i]->ctx != c) return RG_EINVAL;
  }
  return RG_OK;
}

/* After a call of fn in context c that returned ok (a tensor or RG_OK):
 * the rules of the file comment. want is the status the inputs force
 * (RG_OK: none). */
static void check_call(prog *g, int c, const char *fn, bool ok, rg_status before, rg_status want) {
  rg_ctx *ctx = g->ctx[c];
  rg_status st = rg_ctx_status(ctx);
  if (before != RG_OK) {
    if (ok) fail_check("succeeded with an error pending", fn, ctx);
    if (st != before) fail_check("changed the pending error", fn, ctx);
    return;
  }
  if (ok) {
    if (st != RG_OK) fail_check("succeeded but set an error", fn, ctx);
    if (want != RG_OK) fail_check("accepted a stale or foreign tensor", fn, ctx);
    return;
  }
  if (st == RG_OK) fail_check("failed without setting an error", fn, ctx);
  const char *msg = rg_ctx_message(ctx);
  size_t len = strlen(fn);
  if (strncmp(msg, fn, len) != 0 || msg[len] != ':') fail_check("message does not name it", fn, ctx);
  if (want != RG_OK && st != want) fail_check("wrong status for a stale or foreign tensor", fn, ctx);
  if (want == RG_EINVAL && !strstr(msg, "belongs to another context"))
    fail_check("foreign tensor not named", fn, ctx);
  if (want == RG_OK && st == RG_ESTATE && strstr(msg, "stale tensor"))
    fail_check("a current tensor called stale", fn, ctx);
  rg_ctx_clear_error(ctx);
}

static void remember(prog *g, int c, rg_tensor *t, float tag) {
  if (!t) return;
  entry *e = &g->pool[g->n_made++ % POOL];
  *e = (entry){.t = t, .ctx = c, .epoch = g->resets[c], .tag = tag, .used = true};
}

static rg_shape shape_of(uint8_t b) {
  static const int64_t dims[8] = {1, 2, 3, 4, 7, 16, 300, 100000};
  if (b & 0x80) return rg_shape1(dims[b & 7]);
  int64_t rows = dims[(b >> 3) & 3], cols = dims[b & 7];
  if (rows * cols > 100000) cols = 2;
  return rg_shape2(rows, cols);
}

static void op_new(prog *g, bool view) {
  int c = next(g) & 1;
  rg_shape s = shape_of(next(g));
  int64_t n = s.rank == 1 ? s.dim[0] : s.dim[0] * s.dim[1];
  rg_ctx *ctx = g->ctx[c];
  rg_status before = rg_ctx_status(ctx);
  rg_tensor *t;
  float tag = NAN;
  if (view) {
    if (n > VIEW_FLOATS) s = rg_shape1(VIEW_FLOATS);
    t = rg_tensor_view(ctx, s, view_data);
  } else {
    tag = g->serial++;
    float *fill = malloc((size_t)n * sizeof *fill);
    if (!fill) abort();
    for (int64_t i = 0; i < n; i++) fill[i] = tag;
    t = rg_tensor_new(ctx, s, fill);
    free(fill);
  }
  check_call(g, c, view ? "rg_tensor_view" : "rg_tensor_new", t != NULL, before, RG_OK);
  remember(g, c, t, tag);
}

static void op_unary(prog *g) {
  static const char *const names[] = {
      "rg_relu", "rg_tanh", "rg_sigmoid", "rg_exp", "rg_log", "rg_gelu", "rg_scale",
      "rg_sum", "rg_mean", "rg_softmax", "rg_log_softmax", "rg_dropout", "rg_clamp",
      "rg_norm", "rg_grad_clip"};
  int k = next(g) % 15, c = next(g) & 1;
  entry *a = operand(g);
  rg_ctx *ctx = g->ctx[c];
  rg_status before = rg_ctx_status(ctx);
  rg_tensor *x = a->t, *y = NULL;
  switch (k) {
    case 0: y = rg_relu(ctx, x); break;
    case 1: y = rg_tanh(ctx, x); break;
    case 2: y = rg_sigmoid(ctx, x); break;
    case 3: y = rg_exp(ctx, x); break;
    case 4: y = rg_log(ctx, x); break;
    case 5: y = rg_gelu(ctx, x); break;
    case 6: y = rg_scale(ctx, x, 0.5f); break;
    case 7: y = rg_sum(ctx, x); break;
    case 8: y = rg_mean(ctx, x); break;
    case 9: y = rg_softmax(ctx, x); break;
    case 10: y = rg_log_softmax(ctx, x); break;
    case 11: y = rg_dropout(ctx, x, 0.25f); break;
    case 12: y = rg_clamp(ctx, x, -1.0f, 1.0f); break;
    case 13: y = rg_norm(ctx, x, 2.0f); break;
    default: y = rg_grad_clip(ctx, x, 1.0f); break;
  }
  check_call(g, c, names[k], y != NULL, before, expected(g, c, &a, 1));
  /* rg_dropout in eval mode gives its input back: not a new tensor. */
  if (y && y != x) remember(g, c, y, NAN);
}

static void op_binary(prog *g) {
  static const char *const names[] = {"rg_add", "rg_sub", "rg_mul", "rg_matmul",
                                      "rg_mse", "rg_bce_with_logits", "rg_linear"};
  int k = next(g) % 7, c = next(g) & 1;
  entry *in[2] = {operand(g), operand(g)};
  rg_ctx *ctx = g->ctx[c];
  rg_status before = rg_ctx_status(ctx);
  rg_tensor *a = in[0]->t, *b = in[1]->t, *y = NULL;
  switch (k) {
    case 0: y = rg_add(ctx, a, b); break;
    case 1: y = rg_sub(ctx, a, b); break;
    case 2: y = rg_mul(ctx, a, b); break;
    case 3: y = rg_matmul(ctx, a, b, false, true); break;
    case 4: y = rg_mse(ctx, a, b); break;
    case 5: y = rg_bce_with_logits(ctx, a, b); break;
    default: y = rg_linear(ctx, a, b, NULL); break;
  }
  check_call(g, c, names[k], y != NULL, before, expected(g, c, in, 2));
  remember(g, c, y, NAN);
}

static void op_penalty(prog *g) {
  int c = next(g) & 1;
  entry *in[2] = {operand(g), operand(g)};
  rg_tensor *list[2] = {in[0]->t, in[1]->t};
  rg_ctx *ctx = g->ctx[c];
  rg_status before = rg_ctx_status(ctx);
  rg_tensor *y = rg_l2_penalty(ctx, list, 2, 0.1f);
  check_call(g, c, "rg_l2_penalty", y != NULL, before, expected(g, c, in, 2));
  remember(g, c, y, NAN);
}

static void op_backward(prog *g) {
  int c = next(g) & 1;
  entry *a = operand(g);
  rg_ctx *ctx = g->ctx[c];
  rg_status before = rg_ctx_status(ctx);
  rg_status st = rg_backward(ctx, a->t);
  if (st != rg_ctx_status(ctx)) fail_check("returned a status other than the context's",
                                           "rg_backward", ctx);
  check_call(g, c, "rg_backward", st == RG_OK, before, expected(g, c, &a, 1));
}

/* The accessors never fail: a stale handle gives NULL/0, a current one its
 * data, and a NEW tensor still holds its tag. */
static void op_read(prog *g) {
  entry *a = operand(g);
  float *d = rg_tensor_data(a->t);
  int64_t n = rg_tensor_numel(a->t);
  rg_shape s = rg_tensor_shape(a->t);
  float *gr = rg_tensor_grad(a->t);
  if (stale(g, a)) {
    if (d || n || s.rank || gr || rg_tensor_is_param(a->t) || rg_tensor_name(a->t))
      fail_check("a stale handle is readable", "rg_tensor_data", g->ctx[a->ctx]);
    return;
  }
  if (!d || n < 1 || s.rank < 1) fail_check("a current handle is not readable", "rg_tensor_data",
                                            g->ctx[a->ctx]);
  volatile float sink = 0.0f;
  for (int64_t i = 0; i < n; i++) {
    sink += d[i] + (gr ? gr[i] : 0.0f);
    if (a->tag == a->tag && d[i] != a->tag)
      fail_check("a handle reads another tensor's data", "rg_tensor_data", g->ctx[a->ctx]);
  }
  (void)sink;
}

/* An error left pending: the next call fails and leaves it unchanged. */
static void op_sticky(prog *g) {
  int c = next(g) & 1;
  rg_ctx *ctx = g->ctx[c];
  if (rg_ctx_status(ctx) == RG_OK) {
    if (rg_relu(ctx, NULL) || rg_ctx_status(ctx) != RG_EINVAL) fail_check("NULL accepted", "rg_relu", ctx);
  }
  rg_status before = rg_ctx_status(ctx);
  entry *a = operand(g);
  rg_tensor *y = rg_tanh(ctx, a->t);
  check_call(g, c, "rg_tanh", y != NULL, before, RG_OK);
  rg_ctx_clear_error(ctx);
}

static void op_step(prog *g) {
  int c = next(g) & 1;
  rg_ctx *ctx = g->ctx[c];
  rg_status before = rg_ctx_status(ctx);
  int n;
  rg_tensor *const *params = rg_params(ctx, &n);
  rg_clip_result r;
  rg_status st = rg_clip_grad_norm(ctx, params, n < PARAMS ? n : PARAMS, 1.0f, 2.0f, NULL, &r);
  check_call(g, c, "rg_clip_grad_norm", st == RG_OK, before, RG_OK);
  rg_zero_grad(ctx);
}

static void run(prog *g) {
  while (g->p < g->end) {
    switch (next(g) % 12) {
      case 0: op_new(g, false); break;
      case 1: op_new(g, true); break;
      case 2:
      case 3: op_unary(g); break;
      case 4: op_binary(g); break;
      case 5: op_penalty(g); break;
      case 6: op_backward(g); break;
      case 7: {
        int c = next(g) & 1;
        rg_tape_reset(g->ctx[c]);
        g->resets[c]++;
        break;
      }
      case 8: op_read(g); break;
      case 9: {
        uint8_t m = next(g);
        rg_set_training(g->ctx[m & 1], m & 2);
        rg_set_grad_enabled(g->ctx[m & 1], !(m & 4));
        break;
      }
      case 10: op_sticky(g); break;
      default: op_step(g); break;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  prog g = {.p = data + 1, .end = data + size};
  size_t arena = (size_t)256 << (data[0] & 15); /* 256 B to 8 MiB */
  for (int c = 0; c < 2; c++) {
    g.ctx[c] = rg_ctx_new(&(rg_config){.seed = 1 + (uint64_t)c, .isa = "scalar",
                                       .arena_bytes = arena, .mem_limit = 64u << 20});
    if (!g.ctx[c] || rg_ctx_status(g.ctx[c]) != RG_OK) abort();
    static const rg_shape shapes[PARAMS] = {{2, {3, 3, 0, 0}}, {1, {3, 0, 0, 0}},
                                            {2, {2, 3, 0, 0}}};
    for (int i = 0; i < PARAMS; i++) {
      char name[8] = {'p', (char)('0' + i), 0};
      rg_tensor *p = rg_param_new(g.ctx[c], name, shapes[i], NULL);
      if (!p) abort();
      float *d = rg_tensor_data(p);
      for (int64_t j = 0; j < rg_tensor_numel(p); j++) d[j] = 0.1f * (float)(j + 1) - 0.3f;
      g.pool[POOL + c * PARAMS + i] =
          (entry){.t = p, .ctx = c, .epoch = UINT64_MAX, .tag = NAN, .used = true};
    }
  }
  for (int i = 0; i < VIEW_FLOATS; i++) view_data[i] = (float)(i % 17) * 0.125f - 1.0f;
  run(&g);
  rg_ctx_free(g.ctx[0]);
  rg_ctx_free(g.ctx[1]);
  return 0;
}
