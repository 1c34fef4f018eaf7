/* Gradient checks of every differentiable op over sizes 1, 7, 15, 16, 17 and
 * 33, on the ISA chosen by REGRAD_ISA; and proof that the checker rejects a
 * wrong backward rule. */
#define RG_TEST_MAIN
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>

#include "core/internal.h"
#include "helpers.h"

struct fixture {
  int kase;
  int64_t n;
  rg_tensor *p[3];
  rg_tensor *running[2];
  float weights[4096];
  int32_t labels[64];
  float clip; /* grad_clip's c; 0 for the default that never clips */
};

typedef rg_tensor *(*build_fn)(rg_ctx *ctx, struct fixture *f);

struct gcase {
  const char *name;
  build_fn build;
  int n_params;
  rg_shape (*shape)(int64_t n, int which);
  float lo, hi;
};

static rg_shape vec(int64_t n, int which) { (void)which; return rg_shape1(n); }
static rg_shape rows2(int64_t n, int which) { (void)which; return rg_shape2(2, n); }
static rg_shape rows3_row(int64_t n, int which) { return which ? rg_shape1(n) : rg_shape2(3, n); }
static rg_shape mm_nn(int64_t n, int which) { return which ? rg_shape2(n, 5) : rg_shape2(3, n); }
static rg_shape mm_nt(int64_t n, int which) { return which ? rg_shape2(5, n) : rg_shape2(3, n); }
static rg_shape mm_tn(int64_t n, int which) { return which ? rg_shape2(n, 5) : rg_shape2(n, 3); }
static rg_shape mm_tt(int64_t n, int which) { return which ? rg_shape2(5, n) : rg_shape2(n, 3); }
static rg_shape lin(int64_t n, int which) {
  return which == 0 ? rg_shape2(4, n) : which == 1 ? rg_shape2(5, n) : rg_shape1(5);
}
static rg_shape bn(int64_t n, int which) { return which ? rg_shape1(n) : rg_shape2(5, n); }

#define P(i) f->p[i]
static rg_tensor *b_mm_nn(rg_ctx *c, struct fixture *f) { return rg_matmul(c, P(0), P(1), false, false); }
static rg_tensor *b_mm_nt(rg_ctx *c, struct fixture *f) { return rg_matmul(c, P(0), P(1), false, true); }
static rg_tensor *b_mm_tn(rg_ctx *c, struct fixture *f) { return rg_matmul(c, P(0), P(1), true, false); }
static rg_tensor *b_mm_tt(rg_ctx *c, struct fixture *f) { return rg_matmul(c, P(0), P(1), true, true); }
static rg_tensor *b_linear(rg_ctx *c, struct fixture *f) { return rg_linear(c, P(0), P(1), P(2)); }
static rg_tensor *b_lin_relu(rg_ctx *c, struct fixture *f) {
  return rg_linear_act(c, P(0), P(1), P(2), RG_RELU, 0);
}
static rg_tensor *b_lin_leaky(rg_ctx *c, struct fixture *f) {
  return rg_linear_act(c, P(0), P(1), P(2), RG_LEAKY_RELU, 0.1f);
}
static rg_tensor *b_lin_tanh(rg_ctx *c, struct fixture *f) {
  return rg_linear_act(c, P(0), P(1), P(2), RG_TANH, 0);
}
static rg_tensor *b_lin_sigmoid(rg_ctx *c, struct fixture *f) {
  return rg_linear_act(c, P(0), P(1), NULL, RG_SIGMOID, 0);
}
static rg_tensor *b_linear_nobias(rg_ctx *c, struct fixture *f) { return rg_linear(c, P(0), P(1), NULL); }
static rg_tensor *b_add(rg_ctx *c, struct fixture *f) { return rg_add(c, P(0), P(1)); }
static rg_tensor *b_sub(rg_ctx *c, struct fixture *f) { return rg_sub(c, P(0), P(1)); }
static rg_tensor *b_mul(rg_ctx *c, struct fixture *f) { return rg_mul(c, P(0), P(1)); }
static rg_tensor *b_scale(rg_ctx *c, struct fixture *f) { return rg_scale(c, P(0), -1.5f); }
static rg_tensor *b_sum(rg_ctx *c, struct fixture *f) { return rg_sum(c, P(0)); }
static rg_tensor *b_mean(rg_ctx *c, struct fixture *f) { return rg_mean(c, P(0)); }
static rg_tensor *b_relu(rg_ctx *c, struct fixture *f) { return rg_relu(c, P(0)); }
static rg_tensor *b_leaky(rg_ctx *c, struct fixture *f) { return rg_leaky_relu(c, P(0), 0.1f); }
static rg_tensor *b_sigmoid(rg_ctx *c, struct fixture *f) { return rg_sigmoid(c, P(0)); }
static rg_tensor *b_tanh(rg_ctx *c, struct fixture *f) { return rg_tanh(c, P(0)); }
static rg_tensor *b_gelu(rg_ctx *c, struct fixture *f) { return rg_gelu(c, P(0)); }
static rg_tensor *b_exp(rg_ctx *c, struct fixture *f) { return rg_exp(c, P(0)); }
static rg_tensor *b_log(rg_ctx *c, struct fixture *f) { return rg_log(c, P(0)); }
static rg_tensor *b_softmax(rg_ctx *c, struct fixture *f) { return rg_softmax(c, P(0)); }
static rg_tensor *b_log_softmax(rg_ctx *c, struct fixture *f) { return rg_log_softmax(c, P(0)); }
static rg_tensor *b_xent(rg_ctx *c, struct fixture *f) { return rg_cross_entropy(c, P(0), f->labels, 0.0f); }
static rg_tensor *b_xent_smooth(rg_ctx *c, struct fixture *f) {
  return rg_cross_entropy(c, P(0), f->labels, 0.1f);
}
static rg_tensor *b_bce(rg_ctx *c, struct fixture *f) {
  rg_tensor *t = rg_tensor_new(c, rg_tensor_shape(P(0)), NULL);
  for (int64_t i = 0; t && i < rg_tensor_numel(t); i++) rg_tensor_data(t)[i] = (float)(i % 3) * 0.5f;
  return rg_bce_with_logits(c, P(0), t);
}
/* Targets that are parameters get d/dt = -x / count (values kept in (0, 1)). */
static rg_tensor *b_bce_targets(rg_ctx *c, struct fixture *f) {
  return rg_bce_with_logits(c, rg_scale(c, P(0), 4.0f), P(1));
}
static rg_tensor *b_mse(rg_ctx *c, struct fixture *f) { return rg_mse(c, P(0), P(1)); }
static rg_tensor *b_dropout(rg_ctx *c, struct fixture *f) { return rg_dropout(c, P(0), 0.3f); }
static rg_tensor *b_bn_train(rg_ctx *c, struct fixture *f) {
  return rg_batch_norm(c, P(0), P(1), P(2), f->running[0], f->running[1], 0.1f, 1e-5f);
}
static rg_tensor *b_bn_eval(rg_ctx *c, struct fixture *f) {
  rg_set_training(c, false);
  rg_tensor *y = rg_batch_norm(c, P(0), P(1), P(2), f->running[0], f->running[1], 0.1f, 1e-5f);
  rg_set_training(c, true);
  return y;
}
static rg_tensor *b_l1(rg_ctx *c, struct fixture *f) { return rg_l1_penalty(c, f->p, 2, 0.3f); }
static rg_tensor *b_l2(rg_ctx *c, struct fixture *f) { return rg_l2_penalty(c, f->p, 2, 0.3f); }
static rg_tensor *b_elastic(rg_ctx *c, struct fixture *f) {
  return rg_elastic_net_penalty(c, f->p, 2, 0.3f, 0.4f);
}
static rg_tensor *b_norm1(rg_ctx *c, struct fixture *f) { return rg_norm(c, P(0), 1.0f); }
static rg_tensor *b_norm2(rg_ctx *c, struct fixture *f) { return rg_norm(c, P(0), 2.0f); }
static rg_tensor *b_norminf(rg_ctx *c, struct fixture *f) { return rg_norm(c, P(0), INFINITY); }
static rg_tensor *b_clamp(rg_ctx *c, struct fixture *f) { return rg_clamp(c, P(0), -0.3f, 0.4f); }
static rg_tensor *b_grad_clip(rg_ctx *c, struct fixture *f) {
  return rg_grad_clip(c, P(0), f->clip > 0 ? f->clip : 100.0f);
}
/* x feeds three ops: gradients must accumulate. */
static rg_tensor *b_shared(rg_ctx *c, struct fixture *f) {
  return rg_add(c, rg_mul(c, P(0), P(0)), rg_tanh(c, P(0)));
}
/* The first gradient of a transient is written without zeroing, later ones
 * add to it (rg_grad_dest): a transient as both operands, and one feeding
 * two linear layers. */
static rg_tensor *b_mm_self(rg_ctx *c, struct fixture *f) {
  rg_tensor *t = rg_scale(c, P(0), 1.5f);
  return rg_matmul(c, t, t, false, true);
}
static rg_tensor *b_linear_self(rg_ctx *c, struct fixture *f) {
  rg_tensor *t = rg_scale(c, P(0), 1.5f);
  return rg_linear(c, t, t, NULL);
}
static rg_tensor *b_linear_twice(rg_ctx *c, struct fixture *f) {
  rg_tensor *t = rg_tanh(c, P(0));
  return rg_add(c, rg_linear(c, t, P(1), P(2)), rg_linear_act(c, t, P(1), P(2), RG_TANH, 0));
}

static const struct gcase cases[] = {
    {"matmul_nn", b_mm_nn, 2, mm_nn, -1, 1},       {"matmul_nt", b_mm_nt, 2, mm_nt, -1, 1},
    {"matmul_tn", b_mm_tn, 2, mm_tn, -1, 1},       {"matmul_tt", b_mm_tt, 2, mm_tt, -1, 1},
    {"linear", b_linear, 3, lin, -1, 1},           {"linear_nobias", b_linear_nobias, 2, lin, -1, 1},
    {"linear_relu", b_lin_relu, 3, lin, -1, 1},    {"linear_leaky_relu", b_lin_leaky, 3, lin, -1, 1},
    {"linear_tanh", b_lin_tanh, 3, lin, -1, 1},    {"linear_sigmoid", b_lin_sigmoid, 2, lin, -1, 1},
    {"add", b_add, 2, rows2, -1, 1},               {"add_row", b_add, 2, rows3_row, -1, 1},
    {"sub", b_sub, 2, rows2, -1, 1},               {"sub_row", b_sub, 2, rows3_row, -1, 1},
    {"mul", b_mul, 2, rows2, -1, 1},               {"mul_row", b_mul, 2, rows3_row, -1, 1},
    {"scale", b_scale, 1, vec, -1, 1},             {"sum", b_sum, 1, rows2, -1, 1},
    {"mean", b_mean, 1, rows2, -1, 1},             {"relu", b_relu, 1, rows2, -1, 1},
    {"leaky_relu", b_leaky, 1, rows2, -1, 1},      {"sigmoid", b_sigmoid, 1, rows2, -3, 3},
    {"tanh", b_tanh, 1, rows2, -2, 2},             {"gelu", b_gelu, 1, rows2, -3, 3},
    {"exp", b_exp, 1, rows2, -2, 1},               {"log", b_log, 1, rows2, 0.5f, 2},
    {"softmax", b_softmax, 1, rows2, -2, 2},       {"log_softmax", b_log_softmax, 1, rows2, -2, 2},
    {"cross_entropy", b_xent, 1, lin, -2, 2},      {"cross_entropy_smooth", b_xent_smooth, 1, lin, -2, 2},
    {"bce_with_logits", b_bce, 1, rows2, -3, 3},   {"bce_targets", b_bce_targets, 2, rows2, 0.1f, 0.9f},
    {"mse", b_mse, 2, rows2, -1, 1},
    {"dropout", b_dropout, 1, rows2, -1, 1},       {"batch_norm_train", b_bn_train, 3, bn, -1, 1},
    {"batch_norm_eval", b_bn_eval, 3, bn, 0.5f, 1.5f}, {"l1_penalty", b_l1, 2, rows2, -1, 1},
    {"l2_penalty", b_l2, 2, rows2, -1, 1},         {"elastic_net", b_elastic, 2, rows2, -1, 1},
    {"norm1", b_norm1, 1, rows2, -1, 1},           {"norm2", b_norm2, 1, rows2, -1, 1},
    {"norm_inf", b_norminf, 1, rows2, -1, 1},      {"clamp", b_clamp, 1, rows2, -1, 1},
    {"grad_clip", b_grad_clip, 1, rows2, -1, 1},   {"shared_input", b_shared, 1, rows2, -1, 1},
    {"matmul_self", b_mm_self, 1, rows2, -1, 1},   {"linear_self", b_linear_self, 1, rows2, -1, 1},
    {"linear_twice", b_linear_twice, 3, lin, -1, 1},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))
static const int64_t sizes[] = {1, 7, 15, 16, 17, 33};
#define N_SIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* loss = sum(op(params) * weights): fixed random weights make every output
 * element's gradient distinct. */
static rg_tensor *weighted_loss(rg_ctx *ctx, void *user) {
  struct fixture *f = user;
  rg_tensor *y = cases[f->kase].build(ctx, f);
  if (!y) return NULL;
  if (rg_tensor_numel(y) == 1) return y;
  rg_tensor *w = rg_tensor_new(ctx, rg_tensor_shape(y), f->weights);
  return rg_sum(ctx, rg_mul(ctx, y, w));
}

static void setup_fixture(rg_ctx *ctx, struct fixture *f, int kase, int64_t n) {
  const struct gcase *c = &cases[kase];
  memset(f, 0, sizeof *f);
  f->kase = kase;
  f->n = n;
  for (int i = 0; i < c->n_params; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    f->p[i] = rg_param_new(ctx, name, c->shape(n, i), NULL);
    cr_assert(f->p[i], "%s", rg_ctx_message(ctx));
    th_fill(rg_tensor_data(f->p[i]), rg_tensor_numel(f->p[i]), 100 + (uint64_t)i, c->lo, c->hi);
  }
  if (c->build == b_bn_train || c->build == b_bn_eval) {
    f->running[0] = rg_buffer_new(ctx, "rmean", rg_shape1(n), NULL);
    f->running[1] = rg_buffer_new(ctx, "rvar", rg_shape1(n), NULL);
    th_fill(rg_tensor_data(f->running[0]), n, 7, -0.5f, 0.5f);
    th_fill(rg_tensor_data(f->running[1]), n, 8, 0.5f, 2.0f);
  }
  th_fill(f->weights, 4096, 99, -1, 1);
  for (int i = 0; i < 64; i++) f->labels[i] = (int32_t)(i * 7 % n);
}

ParameterizedTestParameters(gradcheck, every_op) {
  static int idx[N_CASES * N_SIZES];
  for (int i = 0; i < N_CASES * N_SIZES; i++) idx[i] = i;
  return cr_make_param_array(int, idx, N_CASES * N_SIZES);
}

ParameterizedTest(int *i, gradcheck, every_op) {
  int kase = *i / N_SIZES;
  int64_t n = sizes[*i % N_SIZES];
  rg_ctx *ctx = th_ctx(42);
  static struct fixture f;
  setup_fixture(ctx, &f, kase, n);
  rg_gradcheck_report rep;
  rg_status st = rg_gradcheck(ctx, weighted_loss, &f, f.p, cases[kase].n_params, NULL, &rep);
  cr_assert_eq(st, RG_OK, "%s n=%lld on %s: %s", cases[kase].name, (long long)n, rg_ctx_isa(ctx),
               rg_ctx_message(ctx));
  cr_assert_gt(rep.checked, 0);
  /* Kinks are rare: a large skip count would hide a wrong gradient. */
  cr_assert_leq(rep.skipped_kinks * 10, rep.checked + 10, "%s: %lld skipped of %lld",
                cases[kase].name, (long long)rep.skipped_kinks, (long long)rep.checked);
  rg_ctx_free(ctx);
}

/* Every op of ops.def is recorded by some case: a new op without a
 * gradcheck case fails here. */
Test(gradcheck, every_op_has_a_case) {
  bool seen[RG_OP_COUNT] = {0};
  for (int kase = 0; kase < N_CASES; kase++) {
    rg_ctx *ctx = th_ctx(42);
    static struct fixture f;
    setup_fixture(ctx, &f, kase, 7);
    cr_assert(weighted_loss(ctx, &f), "%s: %s", cases[kase].name, rg_ctx_message(ctx));
    for (const rg_node *node = ctx->tape; node; node = node->prev) seen[node->op] = true;
    rg_ctx_free(ctx);
  }
  for (int op = 0; op < RG_OP_COUNT; op++)
    cr_assert(seen[op], "op %s is recorded by no gradcheck case", rg_op_name((enum rg_op)op));
}

/* The loss, every parameter's gradient and every buffer of case kase at
 * size 17 on isa, end to end into out (floats written). */
static size_t case_bytes(int kase, const char *isa, float *out) {
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 42, .isa = isa});
  cr_assert(ctx && rg_ctx_status(ctx) == RG_OK);
  static struct fixture f;
  setup_fixture(ctx, &f, kase, 17);
  rg_tensor *loss = weighted_loss(ctx, &f);
  cr_assert_eq(rg_backward(ctx, loss), RG_OK, "%s on %s: %s", cases[kase].name, isa,
               rg_ctx_message(ctx));
  size_t at = 0;
  out[at++] = rg_tensor_data(loss)[0];
  int n;
  rg_tensor *const *all = rg_params(ctx, &n);
  for (int i = 0; i < n; i++) {
    const float *v = rg_tensor_is_param(all[i]) ? rg_tensor_grad(all[i]) : rg_tensor_data(all[i]);
    memcpy(out + at, v, (size_t)rg_tensor_numel(all[i]) * sizeof(float));
    at += (size_t)rg_tensor_numel(all[i]);
  }
  rg_ctx_free(ctx);
  return at;
}

/* Op-level bit identity: every case's forward and backward give the same
 * bytes on every ISA this machine runs as on scalar (memcmp; NaN payloads
 * included, none arise here). */
Test(gradcheck, every_case_is_bit_identical_across_isas) {
  static const char *const isas[] = {"avx2", "avx512", "neon"};
  static float want[8192], got[8192];
  int compared = 0;
  for (int kase = 0; kase < N_CASES; kase++) {
    size_t n = case_bytes(kase, "scalar", want);
    for (int i = 0; i < 3; i++) {
      if (!rg_isa_supported(isas[i])) continue;
      cr_assert_eq(case_bytes(kase, isas[i], got), n);
      cr_assert(!memcmp(want, got, n * sizeof(float)), "%s differs on %s from scalar",
                cases[kase].name, isas[i]);
      compared++;
    }
  }
  cr_log_info("bit identity: %d case x ISA comparisons against scalar", compared);
}

static int find_case(const char *name) {
  for (int i = 0; i < N_CASES; i++)
    if (!strcmp(cases[i].name, name)) return i;
  cr_assert_fail("no case %s", name);
  return -1;
}

/* grad_clip's backward is deliberately not the derivative of its forward
 * once the gradient exceeds c: the checker must notice. */
Test(gradcheck, rejects_clipped_gradient) {
  rg_ctx *ctx = th_ctx(1);
  static struct fixture f;
  setup_fixture(ctx, &f, find_case("grad_clip"), 17);
  f.clip = 1e-3f; /* the weights give gradients up to 1 */
  rg_gradcheck_report rep;
  rg_status st = rg_gradcheck(ctx, weighted_loss, &f, f.p, 1, NULL, &rep);
  cr_assert_eq(st, RG_EINVAL, "clipped gradient accepted");
  cr_assert_gt(rep.failed, 10);
  cr_assert(strstr(rg_ctx_message(ctx), "rg_gradcheck") != NULL);
  rg_ctx_free(ctx);
}

/* A deliberately wrong rule: tanh's node differentiated as sigmoid. The same
 * check passes with the real table (control) and fails with the wrong one. */
Test(gradcheck, rejects_wrong_backward_rule) {
  rg_ctx *ctx = th_ctx(1);
  static struct fixture f;
  setup_fixture(ctx, &f, find_case("tanh"), 16);
  cr_assert_eq(rg_gradcheck(ctx, weighted_loss, &f, f.p, 1, NULL, NULL), RG_OK, "%s",
               rg_ctx_message(ctx));
  static rg_backward_fn wrong[RG_OP_COUNT];
  memcpy(wrong, rg_backward_rules, sizeof wrong);
  wrong[RG_OP_TANH] = rg_bwd_SIGMOID;
  ctx->rules = wrong;
  rg_gradcheck_report rep;
  cr_assert_eq(rg_gradcheck(ctx, weighted_loss, &f, f.p, 1, NULL, &rep), RG_EINVAL);
  cr_assert_gt(rep.failed, 0);
  rg_ctx_free(ctx);
}
