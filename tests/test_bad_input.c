/* Bad input to every op: each call returns NULL with the documented status,
 * a message naming the function, and a context that works once the error is
 * cleared. Also: a NULL input after a failure adds no second message. */
#define RG_TEST_MAIN
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>

#include "helpers.h"

struct env {
  rg_ctx *ctx;
  rg_tensor *a34, *b45, *v4, *v5, *r1, *rm4, *rv4;
  int32_t labels[3];
};

typedef rg_tensor *(*bad_call)(struct env *e);

struct bad_case {
  const char *what;
  bad_call call;
  rg_status want;
  const char *fn; /* must appear in the message */
};

#define E e->ctx
static rg_tensor *matmul_null(struct env *e) { return rg_matmul(E, NULL, e->b45, false, false); }
static rg_tensor *matmul_inner(struct env *e) { return rg_matmul(E, e->a34, e->a34, false, false); }
static rg_tensor *matmul_rank(struct env *e) { return rg_matmul(E, e->v4, e->b45, false, false); }
static rg_tensor *linear_w(struct env *e) { return rg_linear(E, e->a34, e->b45, NULL); }
static rg_tensor *linear_b(struct env *e) { return rg_linear(E, e->a34, e->a34, e->v5); }
static rg_tensor *add_shape(struct env *e) { return rg_add(E, e->a34, e->b45); }
static rg_tensor *sub_null(struct env *e) { return rg_sub(E, e->a34, NULL); }
static rg_tensor *mul_row(struct env *e) { return rg_mul(E, e->a34, e->v5); }
static rg_tensor *scale_nan(struct env *e) { return rg_scale(E, e->a34, NAN); }
static rg_tensor *sum_null(struct env *e) { return rg_sum(E, NULL); }
static rg_tensor *mean_null(struct env *e) { return rg_mean(E, NULL); }
static rg_tensor *relu_null(struct env *e) { return rg_relu(E, NULL); }
static rg_tensor *leaky_alpha(struct env *e) { return rg_leaky_relu(E, e->a34, INFINITY); }
static rg_tensor *sigmoid_null(struct env *e) { return rg_sigmoid(E, NULL); }
static rg_tensor *tanh_null(struct env *e) { return rg_tanh(E, NULL); }
static rg_tensor *gelu_null(struct env *e) { return rg_gelu(E, NULL); }
static rg_tensor *exp_null(struct env *e) { return rg_exp(E, NULL); }
static rg_tensor *log_null(struct env *e) { return rg_log(E, NULL); }
static rg_tensor *softmax_rank(struct env *e) { return rg_softmax(E, e->v4); }
static rg_tensor *log_softmax_rank(struct env *e) { return rg_log_softmax(E, e->v4); }
static rg_tensor *xent_label(struct env *e) {
  e->labels[1] = 4;
  return rg_cross_entropy(E, e->a34, e->labels, 0);
}
static rg_tensor *xent_negative_label(struct env *e) {
  e->labels[2] = -1;
  return rg_cross_entropy(E, e->a34, e->labels, 0);
}
static rg_tensor *xent_null_labels(struct env *e) { return rg_cross_entropy(E, e->a34, NULL, 0); }
static rg_tensor *xent_smoothing(struct env *e) { return rg_cross_entropy(E, e->a34, e->labels, 1.0f); }
static rg_tensor *xent_rank(struct env *e) { return rg_cross_entropy(E, e->v4, e->labels, 0); }
static rg_tensor *bce_shape(struct env *e) { return rg_bce_with_logits(E, e->a34, e->b45); }
static rg_tensor *bce_target(struct env *e) {
  rg_tensor *t = rg_tensor_new(E, rg_shape1(4), (float[]){0, 1, 1.5f, 0});
  return rg_bce_with_logits(E, e->v4, t);
}
static rg_tensor *mse_shape(struct env *e) { return rg_mse(E, e->v4, e->v5); }
static rg_tensor *dropout_one(struct env *e) { return rg_dropout(E, e->a34, 1.0f); }
static rg_tensor *dropout_negative(struct env *e) { return rg_dropout(E, e->a34, -0.1f); }
static rg_tensor *dropout_nan(struct env *e) { return rg_dropout(E, e->a34, NAN); }
static rg_tensor *bn_gamma(struct env *e) {
  return rg_batch_norm(E, e->a34, e->v5, e->v4, e->rm4, e->rv4, 0.1f, 1e-5f);
}
static rg_tensor *bn_one_row(struct env *e) {
  rg_tensor *x = rg_tensor_new(E, rg_shape2(1, 4), NULL);
  return rg_batch_norm(E, x, e->v4, e->v4, e->rm4, e->rv4, 0.1f, 1e-5f);
}
static rg_tensor *bn_eps(struct env *e) {
  return rg_batch_norm(E, e->a34, e->v4, e->v4, e->rm4, e->rv4, 0.1f, 0.0f);
}
static rg_tensor *l1_empty(struct env *e) { return rg_l1_penalty(E, &e->a34, 0, 0.1f); }
static rg_tensor *l2_lambda(struct env *e) { return rg_l2_penalty(E, &e->a34, 1, -1.0f); }
static rg_tensor *elastic_ratio(struct env *e) { return rg_elastic_net_penalty(E, &e->a34, 1, 0.1f, 2.0f); }
static rg_tensor *l2_null_item(struct env *e) {
  rg_tensor *list[2] = {e->a34, NULL};
  return rg_l2_penalty(E, list, 2, 0.1f);
}
static rg_tensor *norm_ord(struct env *e) { return rg_norm(E, e->a34, 3.0f); }
static rg_tensor *clamp_order(struct env *e) { return rg_clamp(E, e->a34, 1.0f, -1.0f); }
static rg_tensor *grad_clip_zero(struct env *e) { return rg_grad_clip(E, e->a34, 0.0f); }
static rg_tensor *tensor_zero_size(struct env *e) { return rg_tensor_new(E, rg_shape2(0, 3), NULL); }
static rg_tensor *tensor_overflow(struct env *e) {
  return rg_tensor_new(E, rg_shape4(1ll << 20, 1ll << 20, 1ll << 20, 4), NULL);
}

static rg_tensor *stale_input(struct env *e) {
  rg_tensor *t = rg_tensor_new(E, rg_shape2(3, 4), NULL);
  rg_tape_reset(E);
  return rg_relu(E, t);
}
static rg_tensor *foreign_input(struct env *e) {
  rg_ctx *other = th_ctx(6);
  rg_tensor *y = rg_mul(E, rg_tensor_new(other, rg_shape2(3, 4), NULL), e->a34);
  rg_ctx_free(other);
  return y;
}
static rg_tensor *bn_momentum_nan(struct env *e) {
  return rg_batch_norm(E, e->a34, e->v4, e->v4, e->rm4, e->rv4, NAN, 1e-5f);
}
static rg_tensor *xent_smoothing_nan(struct env *e) { return rg_cross_entropy(E, e->a34, e->labels, NAN); }
static rg_tensor *l1_lambda_inf(struct env *e) { return rg_l1_penalty(E, &e->a34, 1, INFINITY); }
static rg_tensor *elastic_ratio_nan(struct env *e) { return rg_elastic_net_penalty(E, &e->a34, 1, 0.1f, NAN); }
static rg_tensor *clamp_nan(struct env *e) { return rg_clamp(E, e->a34, NAN, 1.0f); }
static rg_tensor *grad_clip_inf(struct env *e) { return rg_grad_clip(E, e->a34, INFINITY); }
static rg_tensor *norm_nan(struct env *e) { return rg_norm(E, e->a34, NAN); }
static rg_tensor *bce_target_nan(struct env *e) {
  rg_tensor *t = rg_tensor_new(E, rg_shape1(4), (float[]){0, NAN, 1, 0});
  return rg_bce_with_logits(E, e->v4, t);
}

static rg_tensor *linear_act_kind(struct env *e) {
  return rg_linear_act(E, e->a34, e->a34, NULL, (rg_nonlinearity)9, 0);
}
static rg_tensor *linear_act_shape(struct env *e) {
  return rg_linear_act(E, e->a34, e->b45, NULL, RG_RELU, 0);
}

static const struct bad_case cases[] = {
    {"linear_act kind", linear_act_kind, RG_EINVAL, "rg_linear_act: act is 9"},
    {"linear_act shape", linear_act_shape, RG_ESHAPE, "rg_linear_act: x is [3,4] but w is [4,5]"},
    {"stale input", stale_input, RG_ESTATE, "rg_relu: x is a stale tensor"},
    {"foreign input", foreign_input, RG_EINVAL, "rg_mul: a belongs to another context"},
    {"batch_norm momentum NaN", bn_momentum_nan, RG_EINVAL, "rg_batch_norm: momentum is nan"},
    {"cross_entropy smoothing NaN", xent_smoothing_nan, RG_EINVAL, "rg_cross_entropy: smoothing is nan"},
    {"l1 lambda Inf", l1_lambda_inf, RG_EINVAL, "rg_l1_penalty: lambda is inf"},
    {"elastic ratio NaN", elastic_ratio_nan, RG_EINVAL, "rg_elastic_net_penalty: l1_ratio is nan"},
    {"clamp NaN", clamp_nan, RG_EINVAL, "rg_clamp: lo is nan"},
    {"grad_clip Inf", grad_clip_inf, RG_EINVAL, "rg_grad_clip: c is inf"},
    {"norm NaN ord", norm_nan, RG_EINVAL, "rg_norm: ord is nan"},
    {"bce target NaN", bce_target_nan, RG_ERANGE, "rg_bce_with_logits: targets[1] is nan"},
    {"matmul NULL", matmul_null, RG_EINVAL, "rg_matmul: a is NULL"},
    {"matmul inner", matmul_inner, RG_ESHAPE, "rg_matmul: inner dimensions differ"},
    {"matmul rank", matmul_rank, RG_ESHAPE, "rg_matmul"},
    {"linear w", linear_w, RG_ESHAPE, "rg_linear"},
    {"linear b", linear_b, RG_ESHAPE, "rg_linear: b is [5]"},
    {"add shape", add_shape, RG_ESHAPE, "rg_add: shapes differ"},
    {"sub NULL", sub_null, RG_EINVAL, "rg_sub: b is NULL"},
    {"mul row", mul_row, RG_ESHAPE, "rg_mul"},
    {"scale NaN", scale_nan, RG_EINVAL, "rg_scale: s is nan"},
    {"sum NULL", sum_null, RG_EINVAL, "rg_sum"},
    {"mean NULL", mean_null, RG_EINVAL, "rg_mean"},
    {"relu NULL", relu_null, RG_EINVAL, "rg_relu: x is NULL"},
    {"leaky alpha", leaky_alpha, RG_EINVAL, "rg_leaky_relu: alpha"},
    {"sigmoid NULL", sigmoid_null, RG_EINVAL, "rg_sigmoid"},
    {"tanh NULL", tanh_null, RG_EINVAL, "rg_tanh"},
    {"gelu NULL", gelu_null, RG_EINVAL, "rg_gelu"},
    {"exp NULL", exp_null, RG_EINVAL, "rg_exp"},
    {"log NULL", log_null, RG_EINVAL, "rg_log"},
    {"softmax rank", softmax_rank, RG_ESHAPE, "rg_softmax"},
    {"log_softmax rank", log_softmax_rank, RG_ESHAPE, "rg_log_softmax"},
    {"cross_entropy label", xent_label, RG_ERANGE, "rg_cross_entropy: labels[1] is 4, expected 0 to 3"},
    {"cross_entropy negative", xent_negative_label, RG_ERANGE, "labels[2] is -1"},
    {"cross_entropy labels NULL", xent_null_labels, RG_EINVAL, "rg_cross_entropy: labels is NULL"},
    {"cross_entropy smoothing", xent_smoothing, RG_EINVAL, "rg_cross_entropy: smoothing is 1"},
    {"cross_entropy rank", xent_rank, RG_ESHAPE, "rg_cross_entropy"},
    {"bce shape", bce_shape, RG_ESHAPE, "rg_bce_with_logits"},
    {"bce target", bce_target, RG_ERANGE, "targets[2] is 1.5"},
    {"mse shape", mse_shape, RG_ESHAPE, "rg_mse"},
    {"dropout p=1", dropout_one, RG_EINVAL, "rg_dropout: p is 1"},
    {"dropout p<0", dropout_negative, RG_EINVAL, "rg_dropout: p is -0.1"},
    {"dropout NaN", dropout_nan, RG_EINVAL, "rg_dropout: p is nan"},
    {"batch_norm gamma", bn_gamma, RG_ESHAPE, "rg_batch_norm: gamma is [5]"},
    {"batch_norm one row", bn_one_row, RG_ESHAPE, "at least 2 rows"},
    {"batch_norm eps", bn_eps, RG_EINVAL, "rg_batch_norm"},
    {"l1 empty", l1_empty, RG_EINVAL, "rg_l1_penalty"},
    {"l2 lambda", l2_lambda, RG_EINVAL, "rg_l2_penalty: lambda is -1"},
    {"elastic ratio", elastic_ratio, RG_EINVAL, "rg_elastic_net_penalty: l1_ratio is 2"},
    {"l2 NULL item", l2_null_item, RG_EINVAL, "rg_l2_penalty: params[1] is NULL"},
    {"norm ord", norm_ord, RG_EINVAL, "rg_norm: ord is 3"},
    {"clamp order", clamp_order, RG_EINVAL, "rg_clamp"},
    {"grad_clip c", grad_clip_zero, RG_EINVAL, "rg_grad_clip: c is 0"},
    {"zero-size tensor", tensor_zero_size, RG_EINVAL, "rg_tensor_new: shape dimension 0 is 0"},
    {"size overflow", tensor_overflow, RG_EOVERFLOW, "rg_tensor_new"},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void env_init(struct env *e) {
  e->ctx = th_ctx(5);
  e->a34 = rg_param_new(e->ctx, "a34", rg_shape2(3, 4), NULL);
  e->b45 = rg_param_new(e->ctx, "b45", rg_shape2(4, 5), NULL);
  e->v4 = rg_param_new(e->ctx, "v4", rg_shape1(4), NULL);
  e->v5 = rg_param_new(e->ctx, "v5", rg_shape1(5), NULL);
  e->rm4 = rg_buffer_new(e->ctx, "rm4", rg_shape1(4), NULL);
  e->rv4 = rg_buffer_new(e->ctx, "rv4", rg_shape1(4), NULL);
  for (int i = 0; i < 3; i++) e->labels[i] = i;
}

ParameterizedTestParameters(bad_input, every_op) {
  static int idx[N_CASES];
  for (int i = 0; i < N_CASES; i++) idx[i] = i;
  return cr_make_param_array(int, idx, N_CASES);
}

ParameterizedTest(int *i, bad_input, every_op) {
  const struct bad_case *c = &cases[*i];
  struct env e;
  env_init(&e);
  cr_assert_null(c->call(&e), "%s: returned a tensor", c->what);
  cr_assert_eq(rg_ctx_status(e.ctx), c->want, "%s: status %s, message \"%s\"", c->what,
               rg_status_name(rg_ctx_status(e.ctx)), rg_ctx_message(e.ctx));
  cr_assert(strstr(rg_ctx_message(e.ctx), c->fn), "%s: message \"%s\" lacks \"%s\"", c->what,
            rg_ctx_message(e.ctx), c->fn);
  rg_ctx_clear_error(e.ctx);
  rg_tensor *loss = rg_sum(e.ctx, rg_matmul(e.ctx, e.a34, e.b45, false, false));
  cr_assert_eq(rg_backward(e.ctx, loss), RG_OK, "%s: context broken: %s", c->what,
               rg_ctx_message(e.ctx));
  rg_ctx_free(e.ctx);
}

/* Every op of ops.def has a row here: its function ("rg_<op name>"; the
 * penalty op serves three functions) appears in some case's message. A new
 * op without bad-input cases fails this test. */
Test(bad_input, every_op_has_a_row) {
  static const char *const ops[] = {
#define RG_OP(id, name) name,
#include "ops/ops.def"
#undef RG_OP
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    char fn[64];
    snprintf(fn, sizeof fn, "rg_%s", strcmp(ops[i], "penalty") ? ops[i] : "l2_penalty");
    bool found = false;
    for (int c = 0; c < N_CASES && !found; c++)
      found = strncmp(cases[c].fn, fn, strlen(fn)) == 0 &&
              (cases[c].fn[strlen(fn)] == ':' || cases[c].fn[strlen(fn)] == '\0');
    cr_assert(found, "op %s has no bad-input case (none names %s)", ops[i], fn);
  }
}

/* A forward pass written without checks reports only its first error. */
Test(bad_input, null_propagates_without_a_second_message) {
  struct env e;
  env_init(&e);
  rg_tensor *h = rg_matmul(e.ctx, e.a34, e.a34, false, false); /* fails */
  rg_tensor *y = rg_sum(e.ctx, rg_relu(e.ctx, rg_linear(e.ctx, h, e.b45, NULL)));
  cr_assert_null(y);
  cr_assert_eq(rg_ctx_status(e.ctx), RG_ESHAPE);
  cr_assert(strstr(rg_ctx_message(e.ctx), "rg_matmul: inner dimensions differ"), "%s",
            rg_ctx_message(e.ctx));
  cr_assert_eq(rg_backward(e.ctx, y), RG_ESHAPE, "backward of NULL keeps the first error");
  rg_ctx_free(e.ctx);
}

Test(bad_input, null_context_is_harmless) {
  cr_assert_null(rg_relu(NULL, NULL));
  cr_assert_null(rg_tensor_new(NULL, rg_shape1(1), NULL));
  cr_assert_eq(rg_ctx_status(NULL), RG_EINVAL);
  cr_assert_eq(rg_backward(NULL, NULL), RG_EINVAL);
  rg_tape_reset(NULL);
  rg_ctx_free(NULL);
}
