/* Bad input to every public function that is not an op (those are in
 * test_bad_input.c): context, tensors, backward, init, optimizers,
 * schedules, clipping, diagnostics, data, checkpoints, the MLP and
 * gradcheck. Each case checks the documented status (returned and sticky),
 * a message naming the function, and a context that still trains a small
 * linear layer afterwards. docs/bad-input.md lists the matrix. */
#define RG_TEST_MAIN
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <unistd.h>

#include "helpers.h"

struct env {
  rg_ctx *ctx, *other;
  rg_tensor *w, *b, *rm, *foreign; /* w [4,3], b [4] params; rm [4] buffer */
  char dir[64];                    /* a fresh directory for files */
  char path[128];
};

static void env_init(struct env *e) {
  e->ctx = th_ctx(3);
  e->other = th_ctx(4);
  e->w = rg_param_new(e->ctx, "w", rg_shape2(4, 3), NULL);
  e->b = rg_param_new(e->ctx, "b", rg_shape1(4), NULL);
  e->rm = rg_buffer_new(e->ctx, "rm", rg_shape1(4), NULL);
  e->foreign = rg_param_new(e->other, "f", rg_shape2(4, 3), NULL);
  rg_init_uniform(e->ctx, e->w, -1, 1);
  cr_assert_eq(rg_ctx_status(e->ctx), RG_OK);
  snprintf(e->dir, sizeof e->dir, "/tmp/rg_bad_api.XXXXXX");
  cr_assert(mkdtemp(e->dir));
  snprintf(e->path, sizeof e->path, "%s/ck", e->dir);
}

static void env_free(struct env *e) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
  cr_assert_eq(system(cmd), 0);
  rg_ctx_free(e->ctx);
  rg_ctx_free(e->other);
}

/* The context clears, and a linear layer trains through it. */
static void still_works(struct env *e, const char *what) {
  rg_ctx_clear_error(e->ctx);
  rg_tape_reset(e->ctx);
  rg_tensor *x = rg_tensor_new(e->ctx, rg_shape2(2, 3), (const float[]){1, 2, 3, 4, 5, 6});
  rg_tensor *loss = rg_sum(e->ctx, rg_linear(e->ctx, x, e->w, e->b));
  cr_assert_eq(rg_backward(e->ctx, loss), RG_OK, "%s: context broken: %s", what,
               rg_ctx_message(e->ctx));
  rg_tape_reset(e->ctx);
}

/* The status of a call that returns an object: RG_OK when it made one. */
#define MADE(ctx, p) ((p) ? RG_OK : rg_ctx_status(ctx))
/* A transient that rg_tape_reset made stale. */
static rg_tensor *stale(rg_ctx *ctx) {
  rg_tensor *t = rg_tensor_new(ctx, rg_shape2(4, 3), NULL);
  rg_tape_reset(ctx);
  return t;
}

/* ---------------------------------------------------------- the cases */

typedef rg_status (*api_call)(struct env *e);
struct api_case {
  const char *what;
  api_call call;
  rg_status want;
  const char *msg; /* "function: ..." expected in the message */
};

#define E e->ctx
static const rg_clip_opts error_policy = {RG_NONFINITE_ERROR, false};
static rg_status ctx_isa_unknown(struct env *e) { return rg_set_isa(E, "mmx"); }
static rg_status ctx_isa_missing(struct env *e) {
  return rg_set_isa(E, rg_isa_supported("neon") ? "avx2" : "neon");
}
static rg_status tensor_rank0(struct env *e) { return MADE(E, rg_tensor_new(E, (rg_shape){0, {1}}, NULL)); }
static rg_status tensor_rank5(struct env *e) { return MADE(E, rg_tensor_new(E, (rg_shape){5, {1, 1, 1, 1}}, NULL)); }
static rg_status tensor_negative(struct env *e) { return MADE(E, rg_tensor_new(E, rg_shape2(2, -3), NULL)); }
static rg_status view_null(struct env *e) { return MADE(E, rg_tensor_view(E, rg_shape1(2), NULL)); }
static rg_status view_rank0(struct env *e) {
  return MADE(E, rg_tensor_view(E, (rg_shape){0, {1}}, (const float[]){1}));
}
static rg_status param_null_name(struct env *e) { return MADE(E, rg_param_new(E, NULL, rg_shape1(2), NULL)); }
static rg_status param_empty_name(struct env *e) { return MADE(E, rg_param_new(E, "", rg_shape1(2), NULL)); }
static rg_status param_taken(struct env *e) { return MADE(E, rg_param_new(E, "w", rg_shape1(2), NULL)); }
static rg_status buffer_taken(struct env *e) { return MADE(E, rg_buffer_new(E, "b", rg_shape1(2), NULL)); }
static rg_status buffer_overflow(struct env *e) {
  return MADE(E, rg_buffer_new(E, "big", rg_shape3(1ll << 40, 1ll << 40, 1ll << 40), NULL));
}
static rg_status op_foreign(struct env *e) { return MADE(E, rg_add(E, e->w, e->foreign)); }
static rg_status backward_null(struct env *e) { return rg_backward(E, NULL); }
static rg_status backward_not_scalar(struct env *e) { return rg_backward(E, rg_relu(E, e->w)); }
static rg_status backward_unrecorded(struct env *e) {
  return rg_backward(E, rg_sum(E, rg_tensor_new(E, rg_shape1(3), NULL)));
}
static rg_status backward_twice(struct env *e) {
  rg_tensor *loss = rg_sum(E, e->w);
  rg_backward(E, loss);
  return rg_backward(E, loss);
}
static rg_status backward_stale(struct env *e) {
  rg_tensor *loss = rg_sum(E, e->w);
  rg_tape_reset(E);
  return rg_backward(E, loss);
}
static rg_status init_zeros_null(struct env *e) { return rg_init_zeros(E, NULL); }
static rg_status init_constant_nan(struct env *e) { return rg_init_constant(E, e->w, NAN); }
static rg_status init_uniform_order(struct env *e) { return rg_init_uniform(E, e->w, 1, -1); }
static rg_status init_uniform_inf(struct env *e) { return rg_init_uniform(E, e->w, 0, INFINITY); }
static rg_status init_normal_std(struct env *e) { return rg_init_normal(E, e->w, 0, -1); }
static rg_status init_normal_nan(struct env *e) { return rg_init_normal(E, e->w, NAN, 1); }
static rg_status init_trunc_tail(struct env *e) { return rg_init_trunc_normal(E, e->w, 0, 1, 3.9f, 3.9001f); }
static rg_status init_trunc_empty(struct env *e) { return rg_init_trunc_normal(E, e->w, 0, 1, 1, -1); }
static rg_status init_xavier_nan(struct env *e) { return rg_init_xavier_uniform(E, e->w, NAN); }
static rg_status init_xavier_stale(struct env *e) { return rg_init_xavier_normal(E, stale(E), 1); }
static rg_status init_kaiming_a(struct env *e) {
  return rg_init_kaiming_uniform(E, e->w, INFINITY, RG_FAN_IN, RG_LEAKY_RELU);
}
static rg_status init_kaiming_mode(struct env *e) {
  return rg_init_kaiming_normal(E, e->w, 0, (rg_fan_mode)7, RG_RELU);
}
static rg_status init_orthogonal_rank(struct env *e) { return rg_init_orthogonal(E, e->b, 1); }
static rg_status init_foreign(struct env *e) { return rg_init_zeros(E, e->foreign); }
static rg_optim *sgd(struct env *e) { return rg_optim_new(E, &(rg_optim_config){.lr = 0.1f}); }
static rg_status optim_new_null(struct env *e) { return MADE(E, rg_optim_new(E, NULL)); }
/* rg_optim_add(list, n, group) on a new optimizer (Adam when adam) that
 * already holds first, when not NULL. */
static rg_status add_to(struct env *e, bool adam, rg_tensor *first, rg_tensor *const *list, int n,
                        const rg_param_group *group) {
  rg_optim *o = rg_optim_new(E, &(rg_optim_config){.kind = adam ? RG_ADAM : RG_SGD, .lr = 0.1f});
  if (first) rg_optim_add(o, &first, 1, NULL);
  rg_status s = rg_optim_add(o, list, n, group);
  rg_optim_free(o);
  return s;
}
static rg_status optim_add_buffer(struct env *e) { return add_to(e, false, NULL, &e->rm, 1, NULL); }
static rg_status optim_add_twice(struct env *e) {
  return add_to(e, true, NULL, (rg_tensor *[]){e->w, e->b, e->w}, 3, NULL);
}
static rg_status optim_add_again(struct env *e) {
  return add_to(e, false, e->w, &e->w, 1, &(rg_param_group){0, 0, 0});
}
static rg_status optim_add_negative(struct env *e) { return add_to(e, false, NULL, &e->w, -1, NULL); }
static rg_status optim_add_group(struct env *e) {
  return add_to(e, false, NULL, &e->w, 1, &(rg_param_group){-1, 0, 0});
}
static rg_status optim_add_foreign(struct env *e) { return add_to(e, false, NULL, &e->foreign, 1, NULL); }
static rg_status optim_step_lr(struct env *e) {
  rg_optim *o = sgd(e);
  rg_status s = rg_optim_step(o, NAN, 1);
  rg_optim_free(o);
  return s;
}
static rg_status optim_step_scale(struct env *e) {
  rg_optim *o = sgd(e);
  rg_status s = rg_optim_step(o, 0.1f, -1);
  rg_optim_free(o);
  return s;
}
static rg_status clip_norm_negative(struct env *e) {
  return rg_clip_grad_norm(E, &e->w, 1, -1, 2, NULL, NULL);
}
static rg_status clip_norm_nan(struct env *e) { return rg_clip_grad_norm(E, &e->w, 1, NAN, 2, NULL, NULL); }
static rg_status clip_norm_type(struct env *e) { return rg_clip_grad_norm(E, &e->w, 1, 1, 3, NULL, NULL); }
static rg_status clip_norm_empty(struct env *e) { return rg_clip_grad_norm(E, NULL, 0, 1, 2, NULL, NULL); }
static rg_status clip_norm_buffer(struct env *e) {
  return rg_clip_grad_norm(E, (rg_tensor *[]){e->w, e->rm}, 2, 1, 2, NULL, NULL);
}
static rg_status clip_norm_nonfinite(struct env *e) {
  rg_tensor_grad(e->w)[5] = INFINITY;
  return rg_clip_grad_norm(E, &e->w, 1, 1, 2, &error_policy, NULL);
}
static rg_status clip_norm_stale(struct env *e) {
  rg_tensor *t = stale(E);
  return rg_clip_grad_norm(E, &t, 1, 1, 2, NULL, NULL);
}
static rg_status clip_value_zero(struct env *e) { return rg_clip_grad_value(E, &e->w, 1, 0, NULL, NULL); }
static rg_status clip_per_tensor(struct env *e) {
  return rg_clip_grad_norm_per_tensor(E, &e->w, 1, -2, NULL, NULL);
}
static rg_status clip_agc_lambda(struct env *e) { return rg_clip_agc(E, &e->w, 1, INFINITY, NULL, NULL, NULL); }
static rg_status clip_foreign(struct env *e) { return rg_clip_agc(E, &e->foreign, 1, 0.1f, NULL, NULL, NULL); }
static rg_status ema_null(struct env *e) { return MADE(E, rg_ema_clipper_new(E, NULL)); }
static rg_status ema_beta(struct env *e) {
  return MADE(E, rg_ema_clipper_new(E, &(rg_ema_clip_config){.factor = 2, .beta = 1}));
}
static rg_status report_zero(struct env *e) { return MADE(E, rg_grad_report_new(E, 0)); }
static rg_status report_too_small(struct env *e) {
  rg_grad_report *r = rg_grad_report_new(E, 1);
  rg_status s = rg_grad_measure(E, (rg_tensor *[]){e->w, e->b}, 2, r);
  rg_grad_report_free(r);
  return s;
}
static rg_status diag_threshold(struct env *e) { return MADE(E, rg_diag_new(E, -1, 0)); }
static rg_status diag_out_of_order(struct env *e) {
  rg_diag *d = rg_diag_new(E, 0, 0);
  rg_status s = rg_diag_after_step(d);
  rg_diag_free(d);
  return s;
}
static rg_status idx_missing(struct env *e) { return MADE(E, rg_dataset_load_idx(E, e->path, e->path)); }
static rg_status idx_directory(struct env *e) { return MADE(E, rg_dataset_load_idx(E, e->dir, e->dir)); }
static rg_status mnist_missing(struct env *e) { return MADE(E, rg_dataset_load_mnist(E, e->dir, false)); }

/* A 4-row dataset with 2 features, classes 2. */
static rg_dataset *tiny(void) {
  static float x[8];
  static int32_t y[4] = {0, 1, 0, 1};
  static rg_dataset ds = {4, 2, 1, 2, 2, x, y};
  return &ds;
}
static rg_status subset_negative(struct env *e) { return MADE(E, rg_dataset_subset(E, tiny(), NULL, -1)); }
static rg_status subset_rows_null(struct env *e) { return MADE(E, rg_dataset_subset(E, tiny(), NULL, 2)); }
static rg_status split_fraction(struct env *e) {
  rg_dataset *t, *v;
  return rg_dataset_split(E, tiny(), 1.0, 1, &t, &v);
}
static rg_status split_nan(struct env *e) {
  rg_dataset *t, *v;
  return rg_dataset_split(E, tiny(), NAN, 1, &t, &v);
}
static rg_status split_output(struct env *e) {
  rg_dataset *t;
  return rg_dataset_split(E, tiny(), 0.5, 1, &t, NULL);
}
static rg_status standardize_std(struct env *e) {
  rg_dataset ds = *tiny();
  rg_standardizer_apply(E, &(rg_standardizer){0, 0}, &ds);
  return rg_ctx_status(E);
}
static rg_status standardize_tiny_std(struct env *e) {
  rg_dataset ds = *tiny();
  rg_standardizer_apply(E, &(rg_standardizer){0, 1e-45f}, &ds);
  return rg_ctx_status(E);
}
static rg_status standardize_null(struct env *e) {
  rg_dataset ds = *tiny();
  rg_standardizer_apply(E, NULL, &ds);
  return rg_ctx_status(E);
}
static int64_t rows_a[8], rows_b[8], n_a, n_b;
static rg_status kfold_one(struct env *e) { return rg_kfold(E, 8, 1, 0, 1, rows_a, &n_a, rows_b, &n_b); }
static rg_status kfold_k(struct env *e) { return rg_kfold(E, 8, 4, 4, 1, rows_a, &n_a, rows_b, &n_b); }
static rg_status kfold_small(struct env *e) { return rg_kfold(E, 3, 4, 0, 1, rows_a, &n_a, rows_b, &n_b); }
static rg_status kfold_null(struct env *e) { return rg_kfold(E, 8, 4, 0, 1, NULL, &n_a, rows_b, &n_b); }
static rg_status batcher_zero(struct env *e) { return MADE(E, rg_batcher_new(E, tiny(), 0, false, 1)); }
static rg_status batcher_next_null(struct env *e) {
  rg_batcher *b = rg_batcher_new(E, tiny(), 2, false, 1);
  int64_t got = rg_batcher_next(b, NULL, NULL);
  rg_batcher_free(b);
  return got == -1 ? rg_ctx_status(E) : RG_OK;
}
static rg_status save_null(struct env *e) { return rg_checkpoint_save(E, NULL, NULL); }
static rg_status save_empty(struct env *e) { return rg_checkpoint_save(E, "", NULL); }
static rg_status save_no_dir(struct env *e) {
  strcat(e->path, "/no/such/dir");
  return rg_checkpoint_save(E, e->path, NULL);
}
static rg_status load_null(struct env *e) { return rg_checkpoint_load(E, NULL, NULL); }
static rg_status load_missing(struct env *e) { return rg_checkpoint_load(E, e->path, NULL); }
static rg_status load_directory(struct env *e) { return rg_checkpoint_load(E, e->dir, NULL); }
static rg_status load_garbage(struct env *e) {
  FILE *f = fopen(e->path, "wb");
  fputs("not a checkpoint at all", f);
  fclose(f);
  return rg_checkpoint_load(E, e->path, NULL);
}
static rg_status load_other_model(struct env *e) {
  cr_assert_eq(rg_checkpoint_save(e->other, e->path, NULL), RG_OK);
  return rg_checkpoint_load(E, e->path, NULL);
}
static rg_mlp_config mlp_cfg(void) {
  return (rg_mlp_config){.in = 3, .out = 2, .hidden = 1, .widths = {4}, .activation = RG_RELU};
}
static rg_status mlp_null_cfg(struct env *e) { return MADE(E, rg_mlp_new(E, "m", NULL)); }
static rg_status mlp_prefix(struct env *e) {
  char prefix[300];
  memset(prefix, 'p', sizeof prefix - 1);
  prefix[sizeof prefix - 1] = '\0';
  return MADE(E, rg_mlp_new(E, prefix, &(rg_mlp_config){0}));
}
static rg_status mlp_same_prefix(struct env *e) {
  rg_mlp_config c = mlp_cfg();
  rg_mlp *first = rg_mlp_new(E, "m", &c);
  rg_mlp *second = rg_mlp_new(E, "m", &c);
  rg_mlp_free(first);
  rg_mlp_free(second);
  return MADE(E, second);
}
static rg_status mlp_scheme(struct env *e) {
  rg_mlp_config c = mlp_cfg();
  rg_mlp *m = rg_mlp_new(E, "m", &c);
  rg_status s = rg_mlp_init(m, (rg_init_scheme)99, 1);
  rg_mlp_free(m);
  return s;
}
static rg_status mlp_scale(struct env *e) {
  rg_mlp_config c = mlp_cfg();
  rg_mlp *m = rg_mlp_new(E, "m", &c);
  rg_status s = rg_mlp_init(m, RG_INIT_NORMAL, NAN);
  rg_mlp_free(m);
  return s;
}
/* rg_mlp_init_gain with a gain the scheme refuses. */
static rg_status mlp_gain(struct env *e, rg_init_scheme scheme, float gain) {
  rg_mlp_config c = mlp_cfg();
  rg_mlp *m = rg_mlp_new(E, "m", &c);
  rg_status s = rg_mlp_init_gain(m, scheme, 1, gain);
  rg_mlp_free(m);
  return s;
}
static rg_status mlp_gain_nan(struct env *e) { return mlp_gain(e, RG_INIT_XAVIER_NORMAL, NAN); }
static rg_status mlp_gain_inf(struct env *e) { return mlp_gain(e, RG_INIT_KAIMING_UNIFORM, INFINITY); }
static rg_status mlp_gain_negative(struct env *e) { return mlp_gain(e, RG_INIT_ORTHOGONAL, -1); }
static rg_status mlp_gain_normal(struct env *e) { return mlp_gain(e, RG_INIT_NORMAL, 2); }
static rg_status mlp_gain_standard(struct env *e) { return mlp_gain(e, RG_INIT_STANDARD, 0.5f); }
static rg_status mlp_forward_shape(struct env *e) {
  rg_mlp_config c = mlp_cfg();
  rg_mlp *m = rg_mlp_new(E, "m", &c);
  rg_tensor *y = rg_mlp_forward(m, rg_tensor_new(E, rg_shape2(2, 5), NULL));
  rg_mlp_free(m);
  return MADE(E, y);
}
static rg_status mlp_forward_null(struct env *e) {
  rg_mlp_config c = mlp_cfg();
  rg_mlp *m = rg_mlp_new(E, "m", &c);
  rg_tensor *y = rg_mlp_forward(m, NULL);
  rg_mlp_free(m);
  return MADE(E, y);
}
static rg_status predict_with(struct env *e, bool null_x, int64_t rows) {
  rg_mlp_config c = mlp_cfg();
  rg_mlp *m = rg_mlp_new(E, "m", &c);
  rg_predictor *p = rg_predictor_new(m);
  float x[2 * 3] = {0}, out[2 * 2];
  rg_status st = rg_predict(p, null_x ? NULL : x, rows, out);
  rg_predictor_free(p);
  rg_mlp_free(m);
  return st;
}
static rg_status predict_rows(struct env *e) { return predict_with(e, false, 0); }
static rg_status predict_null(struct env *e) { return predict_with(e, true, 2); }
static rg_status linear_act_alpha(struct env *e) {
  rg_tensor *x = rg_tensor_new(E, rg_shape2(2, 3), NULL);
  return MADE(E, rg_linear_act(E, x, e->w, e->b, RG_LEAKY_RELU, -0.5f));
}
static rg_status linear_act_kind(struct env *e) {
  rg_tensor *x = rg_tensor_new(E, rg_shape2(2, 3), NULL);
  return MADE(E, rg_linear_act(E, x, e->w, e->b, (rg_nonlinearity)9, 0));
}
static rg_status linear_act_shape(struct env *e) {
  rg_tensor *x = rg_tensor_new(E, rg_shape2(2, 5), NULL);
  return MADE(E, rg_linear_act(E, x, e->w, e->b, RG_RELU, 0));
}
static rg_tensor *loss_of_w(rg_ctx *ctx, void *user) { return rg_sum(ctx, rg_tanh(ctx, user)); }
static rg_tensor *loss_null(rg_ctx *ctx, void *user) { return (void)ctx, (void)user, NULL; }
static rg_tensor *loss_inf(rg_ctx *ctx, void *user) {
  return rg_sum(ctx, rg_scale(ctx, rg_exp(ctx, user), 1e38f));
}
static rg_tensor *loss_vector(rg_ctx *ctx, void *user) { return rg_tanh(ctx, user); }
static rg_status gradcheck_fn(struct env *e) { return rg_gradcheck(E, NULL, NULL, &e->w, 1, NULL, NULL); }
static rg_status gradcheck_buffer(struct env *e) {
  return rg_gradcheck(E, loss_of_w, e->w, &e->rm, 1, NULL, NULL);
}
static rg_status gradcheck_empty(struct env *e) { return rg_gradcheck(E, loss_of_w, e->w, &e->w, 0, NULL, NULL); }
static rg_status gradcheck_null_loss(struct env *e) {
  return rg_gradcheck(E, loss_null, e->w, &e->w, 1, NULL, NULL);
}
static rg_status gradcheck_inf(struct env *e) {
  rg_init_constant(E, e->w, 80);
  return rg_gradcheck(E, loss_inf, e->w, &e->w, 1, NULL, NULL);
}
static rg_status gradcheck_vector(struct env *e) {
  return rg_gradcheck(E, loss_vector, e->w, &e->w, 1, NULL, NULL);
}

/* Option structs: every field validated (issue 16: a NaN atol crashed,
 * a negative one passed having checked nothing). */
static rg_status gradcheck_opts_nan(struct env *e) {
  rg_gradcheck_opts o = {.eps = 1e-2, .atol = NAN, .rtol = 1e-2};
  return rg_gradcheck(E, loss_of_w, e->w, &e->w, 1, &o, NULL);
}
static rg_status gradcheck_opts_negative(struct env *e) {
  rg_gradcheck_opts o = {.eps = 1e-2, .atol = -1, .rtol = 1e-2};
  return rg_gradcheck(E, loss_of_w, e->w, &e->w, 1, &o, NULL);
}
static rg_status gradcheck_opts_eps(struct env *e) {
  rg_gradcheck_opts o = {.eps = -1e-3, .atol = 1e-3, .rtol = 1e-2};
  return rg_gradcheck(E, loss_of_w, e->w, &e->w, 1, &o, NULL);
}
static rg_status clip_opts_policy(struct env *e) {
  rg_clip_opts o = {.nonfinite = (rg_nonfinite)42};
  return rg_clip_grad_norm(E, &e->w, 1, 1.0f, 2.0f, &o, NULL);
}
static rg_status diag_threshold_nan(struct env *e) {
  return rg_diag_new(E, NAN, 1.0f) ? RG_OK : rg_ctx_status(E);
}
static rg_status init_uniform_overflow(struct env *e) {
  return rg_init_uniform(E, e->w, -3e38f, 3e38f);
}
static rg_status init_normal_overflow(struct env *e) {
  return rg_init_normal(E, e->w, 0.0f, 1e38f);
}
static rg_status optim_set_steps_huge(struct env *e) {
  rg_optim *o = rg_optim_new(E, &(rg_optim_config){.kind = RG_ADAM, .lr = 0.1f});
  rg_status st = rg_optim_set_steps(o, INT64_MAX);
  rg_optim_free(o);
  return st;
}

static const struct api_case cases[] = {
    {"gradcheck atol NaN", gradcheck_opts_nan, RG_EINVAL, "rg_gradcheck: opts: eps 0.01, atol nan"},
    {"gradcheck atol < 0", gradcheck_opts_negative, RG_EINVAL, "rg_gradcheck: opts: eps 0.01, atol -1"},
    {"gradcheck eps < 0", gradcheck_opts_eps, RG_EINVAL, "rg_gradcheck: opts: eps -0.001"},
    {"clip opts policy", clip_opts_policy, RG_EINVAL, "rg_clip_grad_norm: opts->nonfinite is 42"},
    {"diag threshold NaN", diag_threshold_nan, RG_EINVAL, "rg_diag_new: thresholds nan"},
    {"init_uniform overflow", init_uniform_overflow, RG_EINVAL, "rg_init_uniform: lo is -3e+38 and hi 3e+38"},
    {"init_normal overflow", init_normal_overflow, RG_EINVAL, "rg_init_normal: std is 1e+38"},
    {"optim steps INT64_MAX", optim_set_steps_huge, RG_EINVAL, "rg_optim_set_steps: steps is 9223372036854775807"},
    {"set_isa unknown", ctx_isa_unknown, RG_EINVAL, "rg_set_isa: unknown ISA \"mmx\""},
    {"set_isa missing", ctx_isa_missing, RG_EUNSUPPORTED, "rg_set_isa: ISA"},
    {"tensor rank 0", tensor_rank0, RG_EINVAL, "rg_tensor_new: shape has rank 0"},
    {"tensor rank 5", tensor_rank5, RG_EINVAL, "rg_tensor_new: shape has rank 5"},
    {"tensor negative", tensor_negative, RG_EINVAL, "rg_tensor_new: shape dimension 1 is -3"},
    {"view NULL data", view_null, RG_EINVAL, "rg_tensor_view: data is NULL"},
    {"view rank 0", view_rank0, RG_EINVAL, "rg_tensor_view: shape has rank 0"},
    {"param NULL name", param_null_name, RG_EINVAL, "rg_param_new: name is NULL"},
    {"param empty name", param_empty_name, RG_EINVAL, "rg_param_new: name is empty"},
    {"param name taken", param_taken, RG_EINVAL, "rg_param_new: name \"w\" is already taken"},
    {"buffer name taken", buffer_taken, RG_EINVAL, "rg_buffer_new: name \"b\""},
    {"buffer overflow", buffer_overflow, RG_EOVERFLOW, "rg_buffer_new: shape"},
    {"op foreign tensor", op_foreign, RG_EINVAL, "rg_add: b belongs to another context"},
    {"backward NULL", backward_null, RG_EINVAL, "rg_backward: loss is NULL"},
    {"backward not scalar", backward_not_scalar, RG_ESHAPE, "rg_backward: loss is [4,3]"},
    {"backward unrecorded", backward_unrecorded, RG_ESTATE, "rg_backward: loss was not recorded"},
    {"backward twice", backward_twice, RG_ESTATE, "rg_backward: backward already ran"},
    {"backward stale", backward_stale, RG_ESTATE, "rg_backward: loss is a stale tensor"},
    {"init_zeros NULL", init_zeros_null, RG_EINVAL, "rg_init_zeros: t is NULL"},
    {"init_constant NaN", init_constant_nan, RG_EINVAL, "rg_init_constant: value is nan"},
    {"init_uniform order", init_uniform_order, RG_EINVAL, "rg_init_uniform: lo is 1 and hi -1"},
    {"init_uniform Inf", init_uniform_inf, RG_EINVAL, "rg_init_uniform: hi is inf"},
    {"init_normal std", init_normal_std, RG_EINVAL, "rg_init_normal: std is -1"},
    {"init_normal NaN", init_normal_nan, RG_EINVAL, "rg_init_normal: mean is nan"},
    {"init_trunc tail", init_trunc_tail, RG_EINVAL, "rg_init_trunc_normal: [lo, hi] = [3.9"},
    {"init_trunc empty", init_trunc_empty, RG_EINVAL, "rg_init_trunc_normal"},
    {"xavier NaN gain", init_xavier_nan, RG_EINVAL, "rg_init_xavier_uniform: gain is nan"},
    {"xavier stale", init_xavier_stale, RG_ESTATE, "rg_init_xavier_normal: t is a stale"},
    {"kaiming Inf a", init_kaiming_a, RG_EINVAL, "rg_init_kaiming_uniform: a is inf"},
    {"kaiming mode", init_kaiming_mode, RG_EINVAL, "rg_init_kaiming_normal: mode is 7"},
    {"orthogonal rank 1", init_orthogonal_rank, RG_ESHAPE, "rg_init_orthogonal: t is [4]"},
    {"init foreign", init_foreign, RG_EINVAL, "rg_init_zeros: t belongs to another context"},
    {"optim_new NULL", optim_new_null, RG_EINVAL, "rg_optim_new: cfg is NULL"},
    {"optim_add buffer", optim_add_buffer, RG_EINVAL, "rg_optim_add: params[0] (\"rm\") is not a parameter"},
    {"optim_add twice in list", optim_add_twice, RG_EINVAL, "rg_optim_add: params[2] (\"w\")"},
    {"optim_add two groups", optim_add_again, RG_EINVAL, "rg_optim_add: params[0] (\"w\") is already"},
    {"optim_add n < 0", optim_add_negative, RG_EINVAL, "rg_optim_add: n is -1"},
    {"optim_add group", optim_add_group, RG_EINVAL, "rg_optim_add: group decay -1"},
    {"optim_add foreign", optim_add_foreign, RG_EINVAL, "rg_optim_add: params[i] belongs to another"},
    {"optim_step lr NaN", optim_step_lr, RG_EINVAL, "rg_optim_step: lr is nan"},
    {"optim_step scale", optim_step_scale, RG_EINVAL, "rg_optim_step: lr is 0.1 and grad_scale -1"},
    {"clip_norm negative", clip_norm_negative, RG_EINVAL, "rg_clip_grad_norm: max_norm is -1"},
    {"clip_norm NaN", clip_norm_nan, RG_EINVAL, "rg_clip_grad_norm: max_norm is nan"},
    {"clip_norm type", clip_norm_type, RG_EINVAL, "rg_clip_grad_norm: norm_type is 3"},
    {"clip_norm empty", clip_norm_empty, RG_EINVAL, "rg_clip_grad_norm: params is NULL with n = 0"},
    {"clip_norm buffer", clip_norm_buffer, RG_EINVAL, "rg_clip_grad_norm: params[1] (\"rm\") has no gradient"},
    {"clip_norm Inf grad", clip_norm_nonfinite, RG_ENONFINITE, "rg_clip_grad_norm: the gradient of \"w\""},
    {"clip_norm stale", clip_norm_stale, RG_ESTATE, "rg_clip_grad_norm: params[i] is a stale"},
    {"clip_value zero", clip_value_zero, RG_EINVAL, "rg_clip_grad_value: clip is 0"},
    {"clip_per_tensor", clip_per_tensor, RG_EINVAL, "rg_clip_grad_norm_per_tensor: max_norm is -2"},
    {"clip_agc Inf", clip_agc_lambda, RG_EINVAL, "rg_clip_agc: lambda is inf"},
    {"clip foreign", clip_foreign, RG_EINVAL, "rg_clip_agc: params[i] belongs to another context"},
    {"ema_clipper NULL", ema_null, RG_EINVAL, "rg_ema_clipper_new"},
    {"ema_clipper beta", ema_beta, RG_EINVAL, "rg_ema_clipper_new: factor 2, beta 1"},
    {"grad_report n 0", report_zero, RG_EINVAL, "rg_grad_report_new: n is 0"},
    {"grad_measure short", report_too_small, RG_EINVAL, "rg_grad_measure: report holds 1 tensors, need 2"},
    {"diag threshold", diag_threshold, RG_EINVAL, "rg_diag_new: thresholds -1"},
    {"diag out of order", diag_out_of_order, RG_ESTATE, "rg_diag_after_step: call rg_diag_before_step first"},
    {"idx missing", idx_missing, RG_EIO, "rg_dataset_load_idx:"},
    {"idx directory", idx_directory, RG_EIO, "rg_dataset_load_idx:"},
    {"mnist missing", mnist_missing, RG_EIO, "rg_dataset_load_mnist:"},
    {"subset n < 0", subset_negative, RG_EINVAL, "rg_dataset_subset: n is -1"},
    {"subset rows NULL", subset_rows_null, RG_EINVAL, "rg_dataset_subset: n is 2 and rows NULL"},
    {"split fraction 1", split_fraction, RG_EINVAL, "rg_dataset_split: val_fraction is 1"},
    {"split fraction NaN", split_nan, RG_EINVAL, "rg_dataset_split: val_fraction is nan"},
    {"split output NULL", split_output, RG_EINVAL, "rg_dataset_split: val is NULL"},
    {"standardize std 0", standardize_std, RG_EINVAL, "rg_standardizer_apply: st is set (mean 0, std 0)"},
    {"standardize std 1e-45", standardize_tiny_std, RG_EINVAL, "rg_standardizer_apply: st is set (mean 0, std 1.4013e-45)"},
    {"standardize NULL", standardize_null, RG_EINVAL, "rg_standardizer_apply: st is NULL"},
    {"kfold folds 1", kfold_one, RG_EINVAL, "rg_kfold: n is 8, folds 1"},
    {"kfold k = folds", kfold_k, RG_EINVAL, "rg_kfold: n is 8, folds 4 and k 4"},
    {"kfold n < folds", kfold_small, RG_EINVAL, "rg_kfold: n is 3"},
    {"kfold output NULL", kfold_null, RG_EINVAL, "rg_kfold: an output"},
    {"batcher batch 0", batcher_zero, RG_EINVAL, "rg_batcher_new: batch is 0"},
    {"batcher_next NULL", batcher_next_null, RG_EINVAL, "rg_batcher_next: x is NULL"},
    {"save NULL path", save_null, RG_EINVAL, "rg_checkpoint_save: path is NULL"},
    {"save empty path", save_empty, RG_EINVAL, "rg_checkpoint_save: path is empty"},
    {"save missing dir", save_no_dir, RG_EIO, "rg_checkpoint_save: cannot create the temporary file"},
    {"load NULL path", load_null, RG_EINVAL, "rg_checkpoint_load: path is NULL"},
    {"load missing", load_missing, RG_EIO, "rg_checkpoint_load: cannot open"},
    {"load directory", load_directory, RG_EIO, "is a directory, expected a regular file"},
    {"load garbage", load_garbage, RG_EFORMAT, "rg_checkpoint_load:"},
    {"load other model", load_other_model, RG_ESHAPE, "rg_checkpoint_load:"},
    {"mlp NULL cfg", mlp_null_cfg, RG_EINVAL, "rg_mlp_new: prefix and cfg are required"},
    {"mlp long prefix", mlp_prefix, RG_EINVAL, "rg_mlp_new: prefix is 299 bytes long"},
    {"mlp same prefix", mlp_same_prefix, RG_EINVAL, "rg_mlp_new: name \"m.0.w\" is already taken"},
    {"mlp_init scheme", mlp_scheme, RG_EINVAL, "rg_mlp_init: scheme is 99"},
    {"mlp_init scale", mlp_scale, RG_EINVAL, "rg_mlp_init: scale is nan"},
    {"mlp_init_gain NaN", mlp_gain_nan, RG_EINVAL, "rg_mlp_init_gain: gain is nan, expected 0"},
    {"mlp_init_gain inf", mlp_gain_inf, RG_EINVAL, "rg_mlp_init_gain: gain is inf, expected 0"},
    {"mlp_init_gain < 0", mlp_gain_negative, RG_EINVAL, "rg_mlp_init_gain: gain is -1, expected 0"},
    {"mlp_init_gain normal", mlp_gain_normal, RG_EINVAL,
     "rg_mlp_init_gain: gain is 2, but scheme RG_INIT_NORMAL has no gain"},
    {"mlp_init_gain standard", mlp_gain_standard, RG_EINVAL,
     "rg_mlp_init_gain: gain is 0.5, but scheme RG_INIT_STANDARD has no gain"},
    {"mlp_forward shape", mlp_forward_shape, RG_ESHAPE, "rg_mlp_forward: x is [2,5], expected [batch,3]"},
    {"mlp_forward NULL", mlp_forward_null, RG_EINVAL, "rg_mlp_forward: x is NULL"},
    {"linear_act alpha", linear_act_alpha, RG_EINVAL, "rg_linear_act: act is 2 and alpha -0.5"},
    {"linear_act kind", linear_act_kind, RG_EINVAL, "rg_linear_act: act is 9"},
    {"linear_act shape", linear_act_shape, RG_ESHAPE, "rg_linear_act: x is [2,5] but w is [4,3]"},
    {"predict rows 0", predict_rows, RG_EINVAL, "rg_predict: rows is 0, expected >= 1"},
    {"predict x NULL", predict_null, RG_EINVAL, "rg_predict: x is NULL and logits set"},
    {"gradcheck fn NULL", gradcheck_fn, RG_EINVAL, "rg_gradcheck: fn, params and n >= 1"},
    {"gradcheck buffer", gradcheck_buffer, RG_EINVAL, "rg_gradcheck: params[0] is not a parameter"},
    {"gradcheck n 0", gradcheck_empty, RG_EINVAL, "rg_gradcheck: fn, params and n >= 1 are required (n is 0)"},
    {"gradcheck NULL loss", gradcheck_null_loss, RG_EINVAL, "rg_gradcheck: fn returned NULL"},
    {"gradcheck Inf loss", gradcheck_inf, RG_ENONFINITE, "rg_gradcheck: the loss is not finite"},
    {"gradcheck vector loss", gradcheck_vector, RG_ESHAPE, "rg_gradcheck: fn returned a [4,3] loss"},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

ParameterizedTestParameters(bad_api, every_function) {
  static int idx[N_CASES];
  for (int i = 0; i < N_CASES; i++) idx[i] = i;
  return cr_make_param_array(int, idx, N_CASES);
}

ParameterizedTest(int *i, bad_api, every_function) {
  const struct api_case *c = &cases[*i];
  struct env e;
  env_init(&e);
  rg_status got = c->call(&e);
  cr_assert_eq(got, c->want, "%s: returned %s, message \"%s\"", c->what, rg_status_name(got),
               rg_ctx_message(e.ctx));
  cr_assert_eq(rg_ctx_status(e.ctx), c->want, "%s: sticky status %s", c->what,
               rg_status_name(rg_ctx_status(e.ctx)));
  cr_assert(strstr(rg_ctx_message(e.ctx), c->msg), "%s: message \"%s\" lacks \"%s\"", c->what,
            rg_ctx_message(e.ctx), c->msg);
  still_works(&e, c->what);
  env_free(&e);
}

/* ------------------------------------------------- configuration tables */

/* Each bad configuration is rejected with RG_EINVAL naming the field. */
struct optim_case {
  rg_optim_config cfg;
  const char *msg;
};
static const struct optim_case optim_cases[] = {
    {{.kind = (rg_optim_kind)9, .lr = 0.1f}, "rg_optim_new: kind is 9"},
    {{.lr = -1}, "rg_optim_new: lr is -1"},
    {{.lr = NAN}, "rg_optim_new: lr is nan"},
    {{.lr = INFINITY}, "rg_optim_new: lr is inf"},
    {{.lr = 0.1f, .momentum = 1.5f}, "rg_optim_new: momentum is 1.5"},
    {{.lr = 0.1f, .dampening = -1}, "rg_optim_new: dampening is -1"},
    {{.kind = RG_ADAM, .lr = 0.1f, .beta1 = 1, .beta2 = 0.9f, .eps = 1e-8f}, "rg_optim_new: beta1 is 1"},
    {{.kind = RG_ADAM, .lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.9f, .eps = -1e-8f}, "rg_optim_new: eps is -1e-08"},
    {{.lr = 0.1f, .nesterov = true}, "rg_optim_new: nesterov needs momentum"},
    {{.lr = 0.1f, .weight_decay = INFINITY}, "rg_optim_new: weight_decay is inf"},
    {{.kind = RG_ADAMW, .lr = 0.1f, .prox_l1 = NAN}, "rg_optim_new: prox_l1 is nan"},
};

struct schedule_case {
  rg_schedule s;
  const char *msg;
};
static const struct schedule_case schedule_cases[] = {
    {{.kind = (rg_sched_kind)99, .lr0 = 1}, "kind is unknown"},
    {{.lr0 = NAN}, "lr0 must be finite"},
    {{.lr0 = -1}, "lr0 must be finite and >= 0"},
    {{.kind = RG_SCHED_STEP, .lr0 = 1, .gamma = 0.5f}, "step_size must be >= 1"},
    {{.kind = RG_SCHED_STEP, .lr0 = 1, .step_size = 2, .gamma = 1.5f}, "gamma must be in (0, 1]"},
    {{.kind = RG_SCHED_EXPONENTIAL, .lr0 = 1}, "gamma must be in (0, 1]"},
    {{.kind = RG_SCHED_MULTISTEP, .lr0 = 1, .gamma = 0.5f}, "n_milestones must be 1 to 8"},
    {{.kind = RG_SCHED_MULTISTEP, .lr0 = 1, .gamma = 0.5f, .n_milestones = 9}, "n_milestones"},
    {{.kind = RG_SCHED_MULTISTEP, .lr0 = 1, .gamma = 0.5f, .milestones = {5, 5}, .n_milestones = 2},
     "milestones must increase"},
    {{.kind = RG_SCHED_COSINE, .lr0 = 1}, "total_steps must be >= 1"},
    {{.kind = RG_SCHED_POLYNOMIAL, .lr0 = 1, .total_steps = 10}, "power must be finite and > 0"},
    {{.kind = RG_SCHED_INVERSE_TIME, .lr0 = 1, .k = -1}, "k must be finite and >= 0"},
    {{.kind = RG_SCHED_INVERSE_TIME, .lr0 = 1, .k = INFINITY}, "k must be finite and >= 0"},
    {{.lr0 = 1, .lr_min = 2}, "lr_min must be in [0, lr0]"},
    {{.lr0 = 1, .warmup_steps = -1}, "warmup_steps must be >= 0"},
    {{.lr0 = 1, .warmup_start = 2}, "warmup_start in [0, 1]"},
};

struct mlp_case {
  rg_mlp_config cfg;
  const char *msg;
};
static const struct mlp_case mlp_cases[] = {
    {{.in = 0, .out = 2, .activation = RG_RELU}, "in and out must be >= 1"},
    {{.in = 3, .out = 2, .hidden = -1, .activation = RG_RELU}, "hidden must be 0 to 64"},
    {{.in = 3, .out = 2, .hidden = 65, .activation = RG_RELU}, "hidden must be 0 to 64"},
    {{.in = 3, .out = 2, .hidden = 2, .widths = {4, 0}, .activation = RG_RELU}, "every hidden width"},
    {{.in = 3, .out = 2, .activation = RG_RELU, .dropout = 1}, "dropout must be in [0, 1)"},
    {{.in = 3, .out = 2, .activation = RG_LINEAR}, "activation must be"},
    {{.in = 3, .out = 2, .activation = (rg_nonlinearity)42}, "activation must be"},
    {{.in = 3, .out = 2, .activation = RG_LEAKY_RELU, .leaky_slope = NAN}, "leaky_slope must be finite"},
};

/* Expects call() to have failed with RG_EINVAL and msg, then a working
 * context. */
static void expect_rejected(struct env *e, bool failed, const char *fn, const char *msg, int i) {
  cr_assert(failed, "%s case %d was accepted", fn, i);
  cr_assert_eq(rg_ctx_status(e->ctx), RG_EINVAL, "%s case %d: %s", fn, i, rg_ctx_message(e->ctx));
  cr_assert(strstr(rg_ctx_message(e->ctx), fn) && strstr(rg_ctx_message(e->ctx), msg),
            "%s case %d: message \"%s\" lacks \"%s\"", fn, i, rg_ctx_message(e->ctx), msg);
  still_works(e, fn);
}

Test(bad_api, optimizer_configs) {
  struct env e;
  env_init(&e);
  for (int i = 0; i < (int)(sizeof optim_cases / sizeof optim_cases[0]); i++)
    expect_rejected(&e, !rg_optim_new(e.ctx, &optim_cases[i].cfg), "rg_optim_new",
                    optim_cases[i].msg, i);
  env_free(&e);
}

Test(bad_api, schedule_configs) {
  struct env e;
  env_init(&e);
  for (int i = 0; i < (int)(sizeof schedule_cases / sizeof schedule_cases[0]); i++) {
    const rg_schedule *s = &schedule_cases[i].s;
    cr_assert(isnan(rg_schedule_lr(s, 3)), "case %d: an invalid schedule gives NaN", i);
    expect_rejected(&e, rg_schedule_check(e.ctx, s) != RG_OK, "rg_schedule_check",
                    schedule_cases[i].msg, i);
  }
  expect_rejected(&e, rg_schedule_check(e.ctx, NULL) != RG_OK, "rg_schedule_check",
                  "schedule is NULL", -1);
  env_free(&e);
}

Test(bad_api, mlp_configs) {
  struct env e;
  env_init(&e);
  for (int i = 0; i < (int)(sizeof mlp_cases / sizeof mlp_cases[0]); i++)
    expect_rejected(&e, !rg_mlp_new(e.ctx, "m", &mlp_cases[i].cfg), "rg_mlp_new",
                    mlp_cases[i].msg, i);
  env_free(&e);
}

Test(bad_api, context_configs) {
  static const rg_config bad[] = {{.threads = -1}, {.threads = 1000}, {.isa = "mmx"}};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    rg_ctx *ctx = rg_ctx_new(&bad[i]);
    cr_assert(ctx);
    cr_assert_eq(rg_ctx_status(ctx), RG_EINVAL, "config %u: %s", i, rg_ctx_message(ctx));
    cr_assert(strstr(rg_ctx_message(ctx), "rg_ctx_new: "), "%s", rg_ctx_message(ctx));
    cr_assert_null(rg_tensor_new(ctx, rg_shape1(1), NULL), "a failed context runs nothing");
    rg_ctx_free(ctx);
  }
}

/* Functions without a context to report to: NULL handles and invalid
 * arguments give a defined value and never crash. */
Test(bad_api, null_handles_are_harmless) {
  int n = 7;
  int64_t fin = 1, fout = 1;
  cr_assert_str_eq(rg_ctx_message(NULL), "rg_ctx_message: ctx is NULL");
  cr_assert_str_eq(rg_status_name((rg_status)99), "RG_E?");
  cr_assert_eq(rg_ctx_stats(NULL).heap_allocs, 0);
  cr_assert_str_eq(rg_ctx_isa(NULL), "none");
  cr_assert(!rg_isa_supported(NULL) && !rg_isa_supported("mmx"));
  cr_assert(!rg_is_training(NULL) && !rg_set_grad_enabled(NULL, true));
  cr_assert_eq(rg_set_isa(NULL, "scalar"), RG_EINVAL);
  rg_set_training(NULL, true);
  rg_set_anomaly_mode(NULL, true);
  rg_ctx_clear_error(NULL);
  rg_zero_grad(NULL);
  cr_assert_null(rg_params(NULL, &n));
  cr_assert_eq(n, 0);
  cr_assert_null(rg_param_find(NULL, "w"));
  cr_assert(!rg_tensor_data(NULL) && !rg_tensor_grad(NULL) && !rg_tensor_name(NULL));
  cr_assert_null(rg_tensor_view(NULL, rg_shape1(1), (const float[]){1}));
  cr_assert(rg_tensor_shape(NULL).rank == 0 && rg_tensor_numel(NULL) == 0);
  cr_assert(!rg_tensor_is_param(NULL));
  rg_fans(NULL, &fin, &fout);
  cr_assert(fin == 0 && fout == 0);
  cr_assert(isnan(rg_schedule_lr(NULL, 0)));
  cr_assert_eq(rg_optim_add(NULL, NULL, 0, NULL), RG_EINVAL);
  cr_assert_eq(rg_optim_add_all(NULL), RG_EINVAL);
  cr_assert_eq(rg_optim_step(NULL, 0.1f, 1), RG_EINVAL);
  cr_assert_eq(rg_optim_steps(NULL), 0);
  rg_optim_set_steps(NULL, 3);
  cr_assert_eq(rg_ema_clip(NULL, NULL, 0, NULL, NULL), RG_EINVAL);
  cr_assert(rg_diag_before_step(NULL) == RG_EINVAL && rg_diag_after_step(NULL) == RG_EINVAL);
  cr_assert_null(rg_diag_params(NULL, &n));
  cr_assert_eq(rg_diag_alerts(NULL, NULL, NULL), 0);
  cr_assert_eq(rg_diag_write_csv(NULL, stdout, 0), -1);
  cr_assert_eq(rg_mlp_init(NULL, RG_INIT_NORMAL, 1), RG_EINVAL);
  cr_assert_eq(rg_mlp_init_gain(NULL, RG_INIT_XAVIER_NORMAL, 0, 1), RG_EINVAL);
  cr_assert_null(rg_mlp_forward(NULL, NULL));
  cr_assert(rg_mlp_depth(NULL) == 0 && !rg_mlp_weight(NULL, 0) && !rg_mlp_bias(NULL, 0));
  cr_assert_null(rg_predictor_new(NULL));
  cr_assert_eq(rg_predictor_refresh(NULL), RG_EINVAL);
  cr_assert_eq(rg_predict(NULL, NULL, 1, NULL), RG_EINVAL);
  rg_predictor_free(NULL);
  cr_assert_eq(rg_batcher_epoch(NULL), 0);
  cr_assert_eq(rg_checkpoint_save(NULL, "x", NULL), RG_EINVAL);
  cr_assert_eq(rg_checkpoint_load(NULL, "x", NULL), RG_EINVAL);
  cr_assert_eq(rg_gradcheck(NULL, NULL, NULL, NULL, 0, NULL, NULL), RG_EINVAL);
  cr_assert_null(rg_optim_new(NULL, NULL));
  cr_assert_null(rg_mlp_new(NULL, "m", NULL));
  cr_assert_null(rg_diag_new(NULL, 0, 0));
  cr_assert_null(rg_grad_report_new(NULL, 1));
  rg_optim_free(NULL);
  rg_mlp_free(NULL);
  rg_diag_free(NULL);
  rg_grad_report_free(NULL);
  rg_ema_clipper_free(NULL);
}

/* A pending error makes every function fail with it, touching nothing. */
Test(bad_api, pending_error_blocks_every_function) {
  struct env e;
  env_init(&e);
  rg_clip_result r;
  rg_init_zeros(e.ctx, NULL);
  const float w0 = rg_tensor_data(e.w)[0];
  cr_assert_null(rg_optim_new(e.ctx, &(rg_optim_config){.lr = 0.1f}));
  cr_assert_eq(rg_init_constant(e.ctx, e.w, 5), RG_EINVAL);
  cr_assert_eq(rg_clip_grad_norm(e.ctx, &e.w, 1, 1, 2, NULL, &r), RG_EINVAL);
  cr_assert_eq(rg_checkpoint_save(e.ctx, e.path, NULL), RG_EINVAL);
  cr_assert_eq(access(e.path, F_OK), -1, "no file written");
  cr_assert_null(rg_mlp_new(e.ctx, "m", &(rg_mlp_config){.in = 1, .out = 1, .activation = RG_RELU}));
  cr_assert_null(rg_dataset_subset(e.ctx, tiny(), (const int64_t[]){0}, 1));
  cr_assert_eq(rg_tensor_data(e.w)[0], w0);
  cr_assert_str_eq(rg_ctx_message(e.ctx), "rg_init_zeros: t is NULL");
  still_works(&e, "pending");
  env_free(&e);
}

/* ------------------------------------------------------------ IDX files */

static void write_file(const char *path, const uint8_t *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert(f && fwrite(bytes, 1, len, f) == len);
  fclose(f);
}

/* Plain IDX files cut at every byte give RG_EFORMAT naming the file (the gzip
 * side and header flips are in test_data.c); a flipped payload bit gives a
 * consistent dataset, as IDX has no checksum. */
Test(bad_api, idx_truncation_and_payload_flips) {
  struct env e;
  env_init(&e);
  uint8_t img[16 + 24] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 3};
  uint8_t lab[8 + 4] = {0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 2, 1};
  for (int i = 16; i < 40; i++) img[i] = (uint8_t)(i * 37);
  char ip[160], lp[160];
  snprintf(ip, sizeof ip, "%s/img", e.dir);
  snprintf(lp, sizeof lp, "%s/lab", e.dir);
  for (int file = 0; file < 2; file++) {
    uint8_t *bytes = file ? lab : img;
    size_t len = file ? sizeof lab : sizeof img;
    for (size_t cut = 0; cut < len; cut++) {
      write_file(ip, img, file ? sizeof img : cut);
      write_file(lp, lab, file ? cut : sizeof lab);
      cr_assert_null(rg_dataset_load_idx(e.ctx, ip, lp), "file %d cut at %zu", file, cut);
      cr_assert_eq(rg_ctx_status(e.ctx), RG_EFORMAT, "%s", rg_ctx_message(e.ctx));
      cr_assert(strstr(rg_ctx_message(e.ctx), file ? lp : ip), "%s", rg_ctx_message(e.ctx));
      rg_ctx_clear_error(e.ctx);
    }
    for (size_t bit = (file ? 8 : 16) * 8; bit < len * 8; bit++) {
      bytes[bit / 8] ^= (uint8_t)(1u << bit % 8);
      write_file(ip, img, sizeof img);
      write_file(lp, lab, sizeof lab);
      bytes[bit / 8] ^= (uint8_t)(1u << bit % 8);
      rg_dataset *ds = rg_dataset_load_idx(e.ctx, ip, lp);
      cr_assert(ds && ds->n == 4 && ds->features == 6, "bit %zu: %s", bit, rg_ctx_message(e.ctx));
      for (int i = 0; i < 24; i++) cr_assert(ds->x[i] >= 0 && ds->x[i] <= 1);
      for (int i = 0; i < 4; i++) cr_assert(ds->y[i] >= 0 && ds->y[i] < ds->classes);
      rg_dataset_free(ds);
    }
  }
  still_works(&e, "idx");
  env_free(&e);
}
