/* Initialization, optimizers, schedules, clipping, diagnostics and anomaly
 * mode against hand-computed values and PyTorch semantics. */
#define RG_TEST_MAIN
#include <math.h>

#include "helpers.h"

#define NEAR(a, b, tol, ...) cr_assert(fabs((double)(a) - (double)(b)) <= (tol), __VA_ARGS__)

static rg_tensor *param(rg_ctx *ctx, const char *name, rg_shape s, const float *v) {
  rg_tensor *t = rg_param_new(ctx, name, s, v);
  cr_assert(t, "%s", rg_ctx_message(ctx));
  return t;
}

static void moments(const float *x, int64_t n, double *mean, double *sd) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < n; i++) s += x[i];
  *mean = s / n;
  for (int64_t i = 0; i < n; i++) q += (x[i] - *mean) * (x[i] - *mean);
  *sd = sqrt(q / n);
}

Test(init, gains_and_fans_match_pytorch) {
  NEAR(rg_calculate_gain(RG_LINEAR, 0), 1.0, 1e-7, "linear");
  NEAR(rg_calculate_gain(RG_SIGMOID, 0), 1.0, 1e-7, "sigmoid");
  NEAR(rg_calculate_gain(RG_RELU, 0), sqrt(2.0), 1e-6, "relu");
  NEAR(rg_calculate_gain(RG_TANH, 0), 5.0 / 3.0, 1e-6, "tanh");
  NEAR(rg_calculate_gain(RG_LEAKY_RELU, 0.2f), sqrt(2.0 / 1.04), 1e-6, "leaky");
  rg_ctx *ctx = th_ctx(1);
  int64_t in, out;
  rg_fans(param(ctx, "w", rg_shape2(30, 70), NULL), &in, &out);
  cr_assert(in == 70 && out == 30);
  rg_fans(param(ctx, "c", rg_shape4(8, 3, 5, 5), NULL), &in, &out);
  cr_assert(in == 75 && out == 200);
  rg_ctx_free(ctx);
}

Test(init, distributions_have_the_documented_moments) {
  rg_ctx *ctx = th_ctx(7);
  rg_tensor *w = param(ctx, "w", rg_shape2(400, 500), NULL);
  float *d = rg_tensor_data(w);
  double mean, sd;
  cr_assert_eq(rg_init_kaiming_normal(ctx, w, 0, RG_FAN_IN, RG_RELU), RG_OK);
  moments(d, 200000, &mean, &sd);
  NEAR(mean, 0, 0.002, "mean %g", mean);
  NEAR(sd, sqrt(2.0 / 500), 0.01 * sqrt(2.0 / 500), "kaiming sd %g", sd);
  cr_assert_eq(rg_init_xavier_uniform(ctx, w, 1.0f), RG_OK);
  double bound = sqrt(6.0 / 900);
  moments(d, 200000, &mean, &sd);
  NEAR(sd, bound / sqrt(3.0), 0.01 * bound, "xavier sd %g", sd);
  for (int i = 0; i < 200000; i++) cr_assert(fabs(d[i]) <= bound);
  cr_assert_eq(rg_init_trunc_normal(ctx, w, 0.0f, 1.0f, -0.5f, 0.5f), RG_OK);
  for (int i = 0; i < 200000; i++) cr_assert(d[i] >= -0.5f && d[i] <= 0.5f, "%g", d[i]);
  cr_assert_eq(rg_init_uniform(ctx, w, 2.0f, 1.0f), RG_EINVAL);
  rg_ctx_free(ctx);
}

Test(init, orthogonal_rows_are_orthonormal) {
  rg_ctx *ctx = th_ctx(3);
  rg_tensor *w = param(ctx, "w", rg_shape2(20, 50), NULL);
  cr_assert_eq(rg_init_orthogonal(ctx, w, 2.0f), RG_OK);
  const float *d = rg_tensor_data(w);
  for (int i = 0; i < 20; i++)
    for (int j = 0; j < 20; j++) {
      double dot = 0;
      for (int e = 0; e < 50; e++) dot += (double)d[i * 50 + e] * d[j * 50 + e];
      NEAR(dot, i == j ? 4.0 : 0.0, 1e-4, "row %d . row %d = %g", i, j, dot);
    }
  rg_ctx_free(ctx);
}

/* The MLP of the init tests, 500 -> 400 -> 300: weights large enough for
 * moments, and a classifier whose fans differ from the hidden layer's. */
#define INIT_SEED 21
static rg_mlp *init_mlp(rg_ctx *ctx, rg_nonlinearity act, float slope) {
  rg_mlp_config c = {.in = 500, .out = 300, .hidden = 1, .widths = {400}, .activation = act,
                     .leaky_slope = slope};
  rg_mlp *m = rg_mlp_new(ctx, "m", &c);
  cr_assert(m, "%s", rg_ctx_message(ctx));
  return m;
}

/* The expected weight of a layer: a tensor initializer on a parameter of the
 * same name, shape and seed, which draws the same Philox stream. */
enum expect { XAVIER_U, XAVIER_N, KAIMING_U, KAIMING_N, ORTHO, KAIMING_U1, KAIMING_N1 };
static void expected(enum expect e, const char *name, rg_shape s, float gain, rg_nonlinearity nl,
                     float slope, float *out) {
  rg_ctx *ctx = th_ctx(INIT_SEED);
  rg_tensor *w = param(ctx, name, s, NULL);
  rg_status st = e == XAVIER_U ? rg_init_xavier_uniform(ctx, w, gain)
               : e == XAVIER_N ? rg_init_xavier_normal(ctx, w, gain)
               : e == KAIMING_U ? rg_init_kaiming_uniform(ctx, w, slope, RG_FAN_IN, nl)
               : e == KAIMING_N ? rg_init_kaiming_normal(ctx, w, slope, RG_FAN_IN, nl)
               : e == KAIMING_U1 ? rg_init_kaiming_uniform(ctx, w, 0, RG_FAN_IN, RG_LINEAR)
               : e == KAIMING_N1 ? rg_init_kaiming_normal(ctx, w, 0, RG_FAN_IN, RG_LINEAR)
                                 : rg_init_orthogonal(ctx, w, gain);
  cr_assert_eq(st, RG_OK, "%s", rg_ctx_message(ctx));
  memcpy(out, rg_tensor_data(w), (size_t)rg_tensor_numel(w) * sizeof *out);
  rg_ctx_free(ctx);
}

/* Default gains (gain 0): Xavier and orthogonal 1 whatever the activation,
 * as Glorot and torch.nn.init; Kaiming the activation's calculate_gain on
 * the hidden layer and 1 (linear) on the classifier. Bit for bit against
 * the tensor initializers given those gains. */
Test(init, mlp_default_gains_per_scheme_and_activation) {
  static float want[200000];
  const rg_nonlinearity acts[] = {RG_RELU, RG_LEAKY_RELU, RG_TANH, RG_SIGMOID};
  const struct { rg_init_scheme scheme; enum expect e; } schemes[] = {
      {RG_INIT_XAVIER_UNIFORM, XAVIER_U}, {RG_INIT_XAVIER_NORMAL, XAVIER_N},
      {RG_INIT_KAIMING_UNIFORM, KAIMING_U}, {RG_INIT_KAIMING_NORMAL, KAIMING_N},
      {RG_INIT_ORTHOGONAL, ORTHO}};
  const float slope = 0.2f;
  for (int a = 0; a < 4; a++)
    for (int k = 0; k < 5; k++) {
      rg_ctx *ctx = th_ctx(INIT_SEED);
      rg_mlp *m = init_mlp(ctx, acts[a], slope);
      cr_assert_eq(rg_mlp_init(m, schemes[k].scheme, 0), RG_OK, "%s", rg_ctx_message(ctx));
      for (int layer = 0; layer < 2; layer++) {
        rg_tensor *w = rg_mlp_weight(m, layer);
        rg_nonlinearity nl = layer == 0 ? acts[a] : RG_LINEAR;
        expected(schemes[k].e, layer ? "m.1.w" : "m.0.w", rg_tensor_shape(w), 1.0f, nl, slope,
                 want);
        cr_assert(memcmp(rg_tensor_data(w), want, (size_t)rg_tensor_numel(w) * sizeof *want) == 0,
                  "scheme %d, activation %d, layer %d: not the default gain", schemes[k].scheme,
                  acts[a], layer);
      }
      rg_mlp_free(m);
      rg_ctx_free(ctx);
    }
}

/* Xavier with tanh: std sqrt(2 / (fan_in + fan_out)), not 5/3 of it (the
 * gain it took before); Kaiming with tanh: 5/3 / sqrt(fan_in). */
Test(init, mlp_xavier_tanh_has_glorots_std) {
  rg_ctx *ctx = th_ctx(INIT_SEED);
  rg_mlp *m = init_mlp(ctx, RG_TANH, 0);
  double mean, sd;
  cr_assert_eq(rg_mlp_init(m, RG_INIT_XAVIER_NORMAL, 0), RG_OK);
  moments(rg_tensor_data(rg_mlp_weight(m, 0)), 200000, &mean, &sd);
  NEAR(sd, sqrt(2.0 / 900), 0.01 * sqrt(2.0 / 900), "xavier-normal tanh sd %g", sd);
  cr_assert_eq(rg_mlp_init(m, RG_INIT_KAIMING_NORMAL, 0), RG_OK);
  moments(rg_tensor_data(rg_mlp_weight(m, 0)), 200000, &mean, &sd);
  NEAR(sd, 5.0 / 3.0 / sqrt(500.0), 0.01 * 5.0 / 3.0 / sqrt(500.0), "kaiming tanh sd %g", sd);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
}

/* An explicit gain G replaces the default on every layer, the classifier
 * included: Xavier and orthogonal exactly the tensor initializer with G;
 * Kaiming G times the gain-1 (linear) weights, to float rounding. */
Test(init, mlp_explicit_gain_scales_every_layer) {
  static float want[200000];
  const float gain = 1.5f;
  const struct { rg_init_scheme scheme; enum expect e; } exact[] = {
      {RG_INIT_XAVIER_UNIFORM, XAVIER_U}, {RG_INIT_XAVIER_NORMAL, XAVIER_N},
      {RG_INIT_ORTHOGONAL, ORTHO}};
  const struct { rg_init_scheme scheme; enum expect e; float bound; } he[] = {
      {RG_INIT_KAIMING_UNIFORM, KAIMING_U1, 1.7320508f}, {RG_INIT_KAIMING_NORMAL, KAIMING_N1, 6}};
  rg_ctx *ctx = th_ctx(INIT_SEED);
  rg_mlp *m = init_mlp(ctx, RG_RELU, 0);
  for (int layer = 0; layer < 2; layer++) {
    rg_tensor *w = rg_mlp_weight(m, layer);
    const char *name = layer ? "m.1.w" : "m.0.w";
    int64_t n = rg_tensor_numel(w), fan_in = rg_tensor_shape(w).dim[1];
    const float *d = rg_tensor_data(w);
    for (int k = 0; k < 3; k++) {
      cr_assert_eq(rg_mlp_init_gain(m, exact[k].scheme, 0, gain), RG_OK, "%s", rg_ctx_message(ctx));
      expected(exact[k].e, name, rg_tensor_shape(w), gain, RG_RELU, 0, want);
      cr_assert(memcmp(d, want, (size_t)n * sizeof *want) == 0, "scheme %d layer %d",
                exact[k].scheme, layer);
    }
    for (int k = 0; k < 2; k++) {
      cr_assert_eq(rg_mlp_init_gain(m, he[k].scheme, 0, gain), RG_OK, "%s", rg_ctx_message(ctx));
      expected(he[k].e, name, rg_tensor_shape(w), 1, RG_LINEAR, 0, want);
      /* |error| within a few ulps of the largest value (the uniform draw
       * is lo + (hi - lo) u, so small values carry the bound's rounding) */
      double tol = 4e-7 * gain * he[k].bound / sqrt((double)fan_in);
      for (int64_t i = 0; i < n; i++)
        NEAR(d[i], (double)gain * want[i], tol, "scheme %d layer %d [%lld]: %g vs %g x %g",
             he[k].scheme, layer, (long long)i, d[i], gain, want[i]);
    }
  }
  double mean, sd;
  moments(rg_tensor_data(rg_mlp_weight(m, 0)), 200000, &mean, &sd);
  NEAR(sd, gain / sqrt(500.0), 0.01 * gain / sqrt(500.0), "kaiming-normal gain 1.5 sd %g", sd);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
}

/* Standard init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on each layer, as
 * nn.Linear: inside the bound, reaching it, sd bound / sqrt 3, mean 0, and
 * independent of the activation and of scale. */
Test(init, mlp_standard_is_uniform_one_over_sqrt_fan_in) {
  rg_ctx *ctx = th_ctx(INIT_SEED);
  rg_mlp *m = init_mlp(ctx, RG_TANH, 0);
  cr_assert_eq(rg_mlp_init(m, RG_INIT_STANDARD, 123.0f), RG_OK, "%s", rg_ctx_message(ctx));
  for (int layer = 0; layer < 2; layer++) {
    rg_tensor *w = rg_mlp_weight(m, layer);
    int64_t n = rg_tensor_numel(w);
    const float *d = rg_tensor_data(w);
    double bound = 1.0 / sqrt((double)rg_tensor_shape(w).dim[1]), top = 0, mean, sd;
    for (int64_t i = 0; i < n; i++) {
      cr_assert(fabs(d[i]) <= bound * (1 + 1e-6), "layer %d [%lld] = %g, bound %g", layer,
                (long long)i, d[i], bound);
      top = fmax(top, fabs(d[i]));
    }
    cr_assert(top > 0.999 * bound, "layer %d reaches %g of %g", layer, top, bound);
    moments(d, n, &mean, &sd);
    NEAR(mean, 0, 0.01 * bound, "layer %d mean %g", layer, mean);
    NEAR(sd, bound / sqrt(3.0), 0.01 * bound, "layer %d sd %g", layer, sd);
    for (int i = 0; i < rg_tensor_numel(rg_mlp_bias(m, layer)); i++)
      cr_assert(rg_tensor_data(rg_mlp_bias(m, layer))[i] == 0.0f);
  }
  rg_mlp_free(m);
  rg_ctx_free(ctx);
}

/* Same seed and name: same values, on any ISA and in any creation order. */
Test(init, deterministic_by_name_across_isas) {
  static float a[3000], b[3000];
  const char *isas[2] = {"scalar", NULL};
  float *out[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    rg_config cfg = {.seed = 11, .isa = isas[k]};
    rg_ctx *ctx = rg_ctx_new(&cfg);
    if (k == 1) param(ctx, "other", rg_shape1(5), NULL);
    rg_tensor *w = param(ctx, "layer.w", rg_shape2(60, 50), NULL);
    rg_init_normal(ctx, w, 0.0f, 1.0f);
    memcpy(out[k], rg_tensor_data(w), sizeof a);
    rg_ctx_free(ctx);
  }
  cr_assert(memcmp(a, b, sizeof a) == 0);
}

static rg_optim *optim(rg_ctx *ctx, rg_optim_config c, rg_tensor *w) {
  rg_optim *o = rg_optim_new(ctx, &c);
  cr_assert(o, "%s", rg_ctx_message(ctx));
  cr_assert_eq(rg_optim_add(o, &w, 1, NULL), RG_OK, "%s", rg_ctx_message(ctx));
  return o;
}

Test(optim, sgd_momentum_and_coupled_decay_by_hand) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(1), (float[]){1.0f});
  rg_optim *o = optim(ctx, (rg_optim_config){.kind = RG_SGD, .lr = 0.1f, .momentum = 0.9f,
                                              .weight_decay = 0.01f}, w);
  rg_tensor_grad(w)[0] = 0.5f;
  rg_optim_step(o, 0.1f, 1.0f);
  NEAR(rg_tensor_data(w)[0], 0.949, 1e-6, "step 1: %g", rg_tensor_data(w)[0]);
  rg_optim_step(o, 0.1f, 1.0f);
  /* g = 0.5 + 0.01 * 0.949; buf = 0.9 * 0.51 + g; w -= 0.1 buf */
  NEAR(rg_tensor_data(w)[0], 0.949 - 0.1 * (0.9 * 0.51 + 0.50949), 1e-6, "step 2: %g",
       rg_tensor_data(w)[0]);
  cr_assert(rg_param_find(ctx, "w.momentum"), "momentum state is a checkpointed buffer");
  cr_assert_eq(rg_optim_steps(o), 2);
  rg_optim_free(o);
  rg_ctx_free(ctx);
}

Test(optim, nesterov_and_grad_scale) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(1), (float[]){0.0f});
  rg_optim *o = optim(ctx, (rg_optim_config){.kind = RG_SGD, .lr = 1.0f, .momentum = 0.5f,
                                              .nesterov = true}, w);
  rg_tensor_grad(w)[0] = 4.0f;
  rg_optim_step(o, 1.0f, 0.5f); /* g = 2, buf = 2, update g + 0.5 buf = 3 */
  NEAR(rg_tensor_data(w)[0], -3.0, 1e-6, "%g", rg_tensor_data(w)[0]);
  rg_optim_free(o);
  rg_ctx_free(ctx);
}

Test(optim, adam_first_step_is_lr_times_sign) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(3), (float[]){1.0f, 1.0f, 1.0f});
  rg_optim *o = optim(ctx, (rg_optim_config){.kind = RG_ADAM, .lr = 0.01f}, w);
  memcpy(rg_tensor_grad(w), (float[]){0.3f, -2.0f, 1e-3f}, 3 * sizeof(float));
  rg_optim_step(o, 0.01f, 1.0f);
  NEAR(rg_tensor_data(w)[0], 0.99, 1e-6, "%g", rg_tensor_data(w)[0]);
  NEAR(rg_tensor_data(w)[1], 1.01, 1e-6, "%g", rg_tensor_data(w)[1]);
  NEAR(rg_tensor_data(w)[2], 0.99, 1e-5, "%g", rg_tensor_data(w)[2]);
  rg_optim_free(o);
  rg_ctx_free(ctx);
}

/* Each Adam constant defaults on its own: eps alone set keeps betas 0.9 and
 * 0.999. Two steps with g = 1 then 0.5 from w = 0 at lr 0.01 give -0.019322
 * in PyTorch (betas (0.9, 0.999)); betas 0 would give -0.0200. */
Test(optim, adam_constants_default_one_by_one) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(1), NULL);
  rg_optim *o = optim(ctx, (rg_optim_config){.kind = RG_ADAM, .lr = 0.01f, .eps = 1e-6f}, w);
  rg_tensor_grad(w)[0] = 1.0f;
  rg_optim_step(o, 0.01f, 1.0f);
  rg_tensor_grad(w)[0] = 0.5f;
  rg_optim_step(o, 0.01f, 1.0f);
  NEAR(rg_tensor_data(w)[0], -0.019322, 2e-6, "%g", rg_tensor_data(w)[0]);
  rg_optim_free(o);
  rg_ctx_free(ctx);
}

/* RG_ADAM with decoupled decay is AdamW, bit for bit; coupled differs. */
Test(optim, adam_decoupled_is_adamw) {
  rg_ctx *ctx = th_ctx(0);
  float start[4] = {1.0f, -2.0f, 0.5f, 3.0f}, grads[4] = {0.3f, -0.1f, 0.0f, 2.0f};
  rg_tensor *a = param(ctx, "a", rg_shape1(4), start), *b = param(ctx, "b", rg_shape1(4), start);
  rg_tensor *c = param(ctx, "c", rg_shape1(4), start);
  rg_optim_config cfg = {.kind = RG_ADAM, .lr = 0.1f, .weight_decay = 0.2f, .decoupled = true};
  rg_optim *oa = optim(ctx, cfg, a);
  cfg.kind = RG_ADAMW;
  rg_optim *ob = optim(ctx, cfg, b);
  cfg.kind = RG_ADAM;
  cfg.decoupled = false;
  rg_optim *oc = optim(ctx, cfg, c);
  for (int step = 0; step < 3; step++) {
    memcpy(rg_tensor_grad(a), grads, sizeof grads);
    memcpy(rg_tensor_grad(b), grads, sizeof grads);
    memcpy(rg_tensor_grad(c), grads, sizeof grads);
    rg_optim_step(oa, 0.1f, 1.0f);
    rg_optim_step(ob, 0.1f, 1.0f);
    rg_optim_step(oc, 0.1f, 1.0f);
  }
  cr_assert(!memcmp(rg_tensor_data(a), rg_tensor_data(b), sizeof start), "adam+decoupled != adamw");
  cr_assert(memcmp(rg_tensor_data(a), rg_tensor_data(c), sizeof start), "decoupled had no effect");
  rg_optim_free(oa);
  rg_optim_free(ob);
  rg_optim_free(oc);
  rg_ctx_free(ctx);
}

Test(optim, adamw_decay_is_decoupled_and_schedule_scaled) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(1), (float[]){2.0f});
  rg_tensor *v = param(ctx, "v", rg_shape1(1), (float[]){2.0f});
  rg_optim_config c = {.kind = RG_ADAMW, .lr = 0.1f, .weight_decay = 0.5f};
  rg_optim *o1 = optim(ctx, c, w);
  c.decay_schedule_only = true;
  rg_optim *o2 = optim(ctx, c, v);
  /* Zero gradient: Adam's update is 0, only decay moves the weight. */
  rg_optim_step(o1, 0.05f, 1.0f); /* w -= 0.05 * 0.5 * w */
  rg_optim_step(o2, 0.05f, 1.0f); /* v -= (0.05 / 0.1) * 0.5 * v */
  NEAR(rg_tensor_data(w)[0], 2.0 * (1 - 0.025), 1e-6, "%g", rg_tensor_data(w)[0]);
  NEAR(rg_tensor_data(v)[0], 2.0 * (1 - 0.25), 1e-6, "%g", rg_tensor_data(v)[0]);
  rg_optim_free(o1);
  rg_optim_free(o2);
  rg_ctx_free(ctx);
}

Test(optim, proximal_l1_gives_exact_zeros_and_groups_skip_decay) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape2(1, 4), (float[]){0.05f, -0.02f, 1.0f, -1.0f});
  rg_tensor *b = param(ctx, "b", rg_shape1(2), (float[]){1.0f, 1.0f});
  rg_optim *o = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 1.0f,
                                                     .weight_decay = 0.1f, .prox_l1 = 0.1f});
  cr_assert_eq(rg_optim_add_all(o), RG_OK);
  rg_optim_step(o, 1.0f, 1.0f); /* w -= 0.1 w, then soft threshold at 0.1 */
  const float *d = rg_tensor_data(w);
  cr_assert(d[0] == 0.0f && d[1] == 0.0f, "%g %g", d[0], d[1]);
  NEAR(d[2], 0.8, 1e-6, "%g", d[2]);
  NEAR(d[3], -0.8, 1e-6, "%g", d[3]);
  cr_assert(rg_tensor_data(b)[0] == 1.0f, "the rank-1 group has no decay and no proximal step");
  cr_assert_eq(rg_optim_add(o, &w, 1, NULL), RG_EINVAL, "a parameter joins one group only");
  rg_optim_free(o);
  rg_ctx_free(ctx);
}

/* zero_grad leaves zeros and changes no bit against rg_zero_grad after the
 * step: w [3, 4103] (pieces of the update at other offsets: 4096 elements
 * each) with zero_grad against its three rows as parameters of their own
 * without, for SGD with decay and both proximal steps, and for Adam. */
Test(optim, zero_grad_in_the_step_matches_a_separate_pass) {
  enum { ROWS = 3, COLS = 4103, N = ROWS * COLS };
  const rg_optim_config configs[] = {
      {.kind = RG_SGD, .lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f, .prox_l1 = 0.01f,
       .prox_l2 = 0.1f},
      {.kind = RG_ADAM, .lr = 0.01f, .weight_decay = 0.01f}};
  static float init[N], grad[N];
  th_fill(init, N, 5, -1.0f, 1.0f);
  for (int cfg = 0; cfg < 2; cfg++) {
    rg_ctx *whole = th_ctx(0), *split = th_ctx(0);
    rg_optim_config c = configs[cfg];
    rg_tensor *w = param(whole, "w", rg_shape2(ROWS, COLS), init), *rows[ROWS];
    c.zero_grad = true;
    rg_optim *ow = optim(whole, c, w);
    c.zero_grad = false;
    rg_optim *os = rg_optim_new(split, &c);
    for (int r = 0; r < ROWS; r++) {
      char name[8];
      snprintf(name, sizeof name, "r%d", r);
      rows[r] = param(split, name, rg_shape2(1, COLS), init + r * COLS);
      cr_assert_eq(rg_optim_add(os, &rows[r], 1, NULL), RG_OK, "%s", rg_ctx_message(split));
    }
    const char *state = cfg ? "exp_avg_sq" : "momentum";
    char wname[32];
    snprintf(wname, sizeof wname, "w.%s", state);
    for (int step = 0; step < 3; step++) {
      th_fill(grad, N, 10 + (uint64_t)step, -2.0f, 2.0f);
      memcpy(rg_tensor_grad(w), grad, sizeof grad);
      for (int r = 0; r < ROWS; r++)
        memcpy(rg_tensor_grad(rows[r]), grad + r * COLS, COLS * sizeof(float));
      rg_optim_step(ow, 0.05f, 0.7f);
      rg_optim_step(os, 0.05f, 0.7f);
      rg_zero_grad(split);
      for (int64_t i = 0; i < N; i++)
        cr_assert(rg_tensor_grad(w)[i] == 0.0f, "config %d step %d: grad[%lld] = %g", cfg, step,
                  (long long)i, rg_tensor_grad(w)[i]);
      const float *ws = rg_tensor_data(rg_param_find(whole, wname));
      for (int r = 0; r < ROWS; r++) {
        char rname[32];
        snprintf(rname, sizeof rname, "r%d.%s", r, state);
        const float *rs = rg_tensor_data(rg_param_find(split, rname));
        cr_assert(memcmp(rg_tensor_data(w) + r * COLS, rg_tensor_data(rows[r]),
                         COLS * sizeof(float)) == 0 &&
                      memcmp(ws + r * COLS, rs, COLS * sizeof(float)) == 0,
                  "config %d step %d: row %d of the parameter or its %s differs", cfg, step, r,
                  state);
      }
    }
    rg_optim_free(ow);
    rg_optim_free(os);
    rg_ctx_free(whole);
    rg_ctx_free(split);
  }
}

Test(optim, bad_config_is_rejected) {
  rg_ctx *ctx = th_ctx(0);
  cr_assert_null(rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = -1.0f}));
  cr_assert(strstr(rg_ctx_message(ctx), "rg_optim_new: lr is -1"), "%s", rg_ctx_message(ctx));
  rg_ctx_free(ctx);
}

static float lr_at(rg_schedule s, int64_t t) {
  rg_ctx *ctx = th_ctx(0);
  cr_assert_eq(rg_schedule_check(ctx, &s), RG_OK, "%s", rg_ctx_message(ctx));
  rg_ctx_free(ctx);
  return rg_schedule_lr(&s, t);
}

Test(schedule, values_at_known_steps) {
  rg_schedule st = {.kind = RG_SCHED_STEP, .lr0 = 1, .step_size = 10, .gamma = 0.5f};
  NEAR(lr_at(st, 9), 1.0, 1e-7, "step");
  NEAR(lr_at(st, 10), 0.5, 1e-7, "step");
  NEAR(lr_at(st, 25), 0.25, 1e-7, "step");
  rg_schedule ms = {.kind = RG_SCHED_MULTISTEP, .lr0 = 1, .gamma = 0.1f, .milestones = {5, 8},
                    .n_milestones = 2};
  NEAR(lr_at(ms, 4), 1.0, 1e-7, "multistep");
  NEAR(lr_at(ms, 5), 0.1, 1e-7, "multistep");
  NEAR(lr_at(ms, 8), 0.01, 1e-7, "multistep");
  NEAR(lr_at((rg_schedule){.kind = RG_SCHED_EXPONENTIAL, .lr0 = 2, .gamma = 0.9f}, 3),
       2 * 0.9 * 0.9 * 0.9, 1e-6, "exponential");
  NEAR(lr_at((rg_schedule){.kind = RG_SCHED_POLYNOMIAL, .lr0 = 1, .power = 2, .total_steps = 10}, 5),
       0.25, 1e-7, "polynomial");
  NEAR(lr_at((rg_schedule){.kind = RG_SCHED_INVERSE_TIME, .lr0 = 1, .k = 0.5f}, 2), 0.5, 1e-7,
       "inverse time");
  rg_schedule cs = {.kind = RG_SCHED_COSINE, .lr0 = 1, .lr_min = 0.1f, .total_steps = 10};
  NEAR(lr_at(cs, 0), 1.0, 1e-7, "cosine");
  NEAR(lr_at(cs, 5), 0.55, 1e-6, "cosine");
  NEAR(lr_at(cs, 10), 0.1, 1e-7, "cosine");
  NEAR(lr_at(cs, 20), 0.1, 1e-7, "cosine floor");
  cs.warmup_steps = 4, cs.warmup_start = 0.25f;
  NEAR(lr_at(cs, 0), 0.25, 1e-7, "warmup");
  NEAR(lr_at(cs, 2), 0.625, 1e-7, "warmup");
  NEAR(lr_at(cs, 4), 1.0, 1e-7, "after warmup");
  NEAR(lr_at(cs, 9), 0.55, 1e-6, "after warmup");
  rg_ctx *ctx = th_ctx(0);
  cr_assert_eq(rg_schedule_check(ctx, &(rg_schedule){.kind = RG_SCHED_STEP, .lr0 = 1}), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(ctx), "step_size"));
  rg_ctx_free(ctx);
}

/* Two parameters with gradients [3, 4] and [0]: global L2 norm 5. */
static rg_tensor **two(rg_ctx *ctx, float g0, float g1) {
  static rg_tensor *p[2];
  p[0] = param(ctx, "a", rg_shape1(2), (float[]){1, 1});
  p[1] = param(ctx, "b", rg_shape1(1), (float[]){1});
  rg_tensor_grad(p[0])[0] = g0, rg_tensor_grad(p[0])[1] = g1;
  return p;
}

Test(clip, global_norm_has_pytorch_semantics) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor **p = two(ctx, 3, 4);
  rg_clip_result r;
  cr_assert_eq(rg_clip_grad_norm(ctx, p, 2, 1.0f, 2.0f, NULL, &r), RG_OK);
  NEAR(r.norm, 5.0, 1e-6, "returns the pre-clip norm");
  NEAR(r.scale, 1.0 / (5.0 + 1e-6), 1e-7, "coefficient");
  NEAR(rg_tensor_grad(p[0])[0], 0.6, 1e-6, "%g", rg_tensor_grad(p[0])[0]);
  cr_assert_eq(rg_clip_grad_norm(ctx, p, 2, 10.0f, 1.0f, NULL, &r), RG_OK);
  NEAR(r.norm, 1.4, 1e-6, "L1 norm %g", r.norm);
  cr_assert_eq(r.scale, 1.0f, "coefficient clamped to 1");
  cr_assert_eq(rg_clip_grad_norm(ctx, p, 2, 0.0f, INFINITY, NULL, &r), RG_OK);
  NEAR(r.norm, 0.8, 1e-6, "L-inf norm");
  cr_assert_eq(rg_tensor_grad(p[0])[1], 0.0f, "max_norm 0 zeroes the gradients");
  cr_assert_eq(rg_clip_grad_norm(ctx, p, 2, 1.0f, 2.0f, NULL, &r), RG_OK);
  cr_assert(r.norm == 0.0f && r.scale == 1.0f, "zero norm leaves gradients alone");
  cr_assert_eq(rg_clip_grad_norm(ctx, p, 2, -1.0f, 2.0f, NULL, &r), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(ctx), "max_norm is -1"));
  rg_ctx_free(ctx);
}

Test(clip, deferred_scale_leaves_gradients) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor **p = two(ctx, 3, 4);
  rg_clip_result r;
  rg_clip_grad_norm(ctx, p, 2, 1.0f, 2.0f, &(rg_clip_opts){.defer_scale = true}, &r);
  cr_assert(rg_tensor_grad(p[0])[0] == 3.0f && r.scale < 0.21f);
  rg_ctx_free(ctx);
}

Test(clip, non_finite_policies) {
  rg_nonfinite pol[4] = {RG_NONFINITE_ERROR, RG_NONFINITE_SKIP, RG_NONFINITE_ZERO,
                         RG_NONFINITE_PROPAGATE};
  for (int i = 0; i < 4; i++) {
    rg_ctx *ctx = th_ctx(0);
    rg_tensor **p = two(ctx, INFINITY, 1);
    rg_clip_result r;
    rg_status st = rg_clip_grad_norm(ctx, p, 2, 1.0f, 2.0f, &(rg_clip_opts){pol[i], false}, &r);
    float g1 = rg_tensor_grad(p[0])[1];
    cr_assert(!r.finite);
    switch (pol[i]) {
      case RG_NONFINITE_ERROR:
        cr_assert_eq(st, RG_ENONFINITE);
        cr_assert(strstr(rg_ctx_message(ctx), "\"a\""), "%s", rg_ctx_message(ctx));
        cr_assert_eq(g1, 1.0f, "untouched");
        break;
      case RG_NONFINITE_SKIP: cr_assert(st == RG_OK && r.skip && g1 == 1.0f); break;
      case RG_NONFINITE_ZERO:
        cr_assert(st == RG_OK && rg_tensor_grad(p[0])[0] == 0.0f && g1 == 0.0f);
        break;
      default: /* like PyTorch: inf norm, coefficient 0, inf * 0 = NaN */
        cr_assert(st == RG_OK && isinf(r.norm) && isnan(rg_tensor_grad(p[0])[0]));
    }
    rg_ctx_free(ctx);
  }
}

/* What propagate does in each mode (docs/clipping.md): a = [x, 1] with x
 * inf or NaN, b = [3]; value 0.5, max norm 1, AGC lambda 0.1 (w = 1). */
static void propagated(int mode, float x, float out_a[2], float *out_b) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor **p = two(ctx, x, 1);
  rg_tensor_grad(p[1])[0] = 3.0f;
  rg_init_constant(ctx, p[0], 1.0f);
  rg_init_constant(ctx, p[1], 1.0f);
  rg_clip_opts o = {RG_NONFINITE_PROPAGATE, false};
  rg_clip_result r;
  rg_ema_clipper *e = rg_ema_clipper_new(ctx, &(rg_ema_clip_config){1.5f, 0.9f, 0, 0, 0});
  rg_status st = mode == 0   ? rg_clip_grad_value(ctx, p, 2, 0.5f, &o, &r)
                 : mode == 1 ? rg_clip_grad_norm(ctx, p, 2, 1.0f, 2.0f, &o, &r)
                 : mode == 2 ? rg_clip_grad_norm_per_tensor(ctx, p, 2, 1.0f, &o, &r)
                 : mode == 3 ? rg_clip_agc(ctx, p, 2, 0.1f, NULL, &o, &r)
                             : rg_ema_clip(e, p, 2, &o, &r);
  cr_assert_eq(st, RG_OK, "%s", rg_ctx_message(ctx));
  memcpy(out_a, rg_tensor_grad(p[0]), 2 * sizeof(float));
  *out_b = rg_tensor_grad(p[1])[0];
  if (mode == 4) { /* the statistics were left alone: a finite norm now starts them */
    rg_tensor_grad(p[0])[0] = 0.0f;
    rg_tensor_grad(p[0])[1] = 0.0f;
    rg_tensor_grad(p[1])[0] = 2.0f;
    rg_ema_clip(e, p, 2, &o, &r);
    rg_tensor_grad(p[1])[0] = 4.0f;
    rg_ema_clip(e, p, 2, &o, &r);
    cr_assert(r.clipped == 1 && fabsf(r.scale - 0.75f) < 1e-5f, "scale %g", (double)r.scale);
  }
  rg_ema_clipper_free(e);
  rg_ctx_free(ctx);
}

Test(clip, propagate_in_every_mode) {
  float a[2], b;
  propagated(0, INFINITY, a, &b); /* value: infinities clamped, NaN kept */
  cr_assert(a[0] == 0.5f && a[1] == 0.5f && b == 0.5f);
  propagated(0, NAN, a, &b);
  cr_assert(isnan(a[0]) && a[1] == 0.5f && b == 0.5f);
  propagated(1, INFINITY, a, &b); /* global norm: coefficient 0, inf * 0 = NaN */
  cr_assert(isnan(a[0]) && a[1] == 0.0f && b == 0.0f);
  propagated(1, NAN, a, &b); /* NaN norm: every gradient NaN */
  cr_assert(isnan(a[0]) && isnan(a[1]) && isnan(b));
  propagated(2, INFINITY, a, &b); /* per tensor: only the non-finite tensor */
  cr_assert(isnan(a[0]) && a[1] == 0.0f && fabsf(b - 1.0f) < 1e-6f);
  propagated(2, NAN, a, &b);
  cr_assert(isnan(a[0]) && a[1] == 1.0f && fabsf(b - 1.0f) < 1e-6f);
  propagated(3, INFINITY, a, &b); /* AGC: the row with inf goes to NaN and 0 */
  cr_assert(isnan(a[0]) && a[1] == 0.0f && fabsf(b - 0.1f) < 1e-6f);
  propagated(3, NAN, a, &b); /* a NaN row is left as it is */
  cr_assert(isnan(a[0]) && a[1] == 1.0f && fabsf(b - 0.1f) < 1e-6f);
  propagated(4, INFINITY, a, &b); /* EMA: untouched, statistics unchanged */
  cr_assert(isinf(a[0]) && a[1] == 1.0f && b == 3.0f);
}

Test(clip, by_value_and_per_tensor) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor **p = two(ctx, 3, -0.5f);
  rg_tensor_grad(p[1])[0] = 10;
  rg_clip_result r;
  cr_assert_eq(rg_clip_grad_value(ctx, p, 2, 1.0f, NULL, &r), RG_OK);
  cr_assert(rg_tensor_grad(p[0])[0] == 1.0f && rg_tensor_grad(p[0])[1] == -0.5f &&
            rg_tensor_grad(p[1])[0] == 1.0f && r.clipped == 2 && r.norm == 10.0f);
  rg_tensor_grad(p[0])[0] = 3, rg_tensor_grad(p[0])[1] = 4, rg_tensor_grad(p[1])[0] = 0.5f;
  cr_assert_eq(rg_clip_grad_norm_per_tensor(ctx, p, 2, 1.0f, NULL, &r), RG_OK);
  NEAR(rg_tensor_grad(p[0])[1], 0.8, 1e-6, "clipped tensor");
  cr_assert(rg_tensor_grad(p[1])[0] == 0.5f && r.clipped == 1);
  rg_ctx_free(ctx);
}

Test(clip, agc_limits_each_row_and_honours_exemptions) {
  rg_ctx *ctx = th_ctx(0);
  /* Rows: w = [3, 4] (norm 5) and [0, 0] (norm floored at 1e-3). */
  rg_tensor *w = param(ctx, "w", rg_shape2(2, 2), (float[]){3, 4, 0, 0});
  rg_tensor *v = param(ctx, "v", rg_shape2(1, 2), (float[]){1, 0});
  memcpy(rg_tensor_grad(w), (float[]){6, 8, 1, 0}, 4 * sizeof(float));
  memcpy(rg_tensor_grad(v), (float[]){100, 0}, 2 * sizeof(float));
  rg_tensor *p[2] = {w, v};
  bool exempt[2] = {false, true};
  rg_clip_result r;
  cr_assert_eq(rg_clip_agc(ctx, p, 2, 0.1f, exempt, NULL, &r), RG_OK);
  const float *g = rg_tensor_grad(w);
  NEAR(g[0], 0.3, 1e-6, "row 0 norm 10 clipped to 0.1 * 5: %g", g[0]);
  NEAR(g[1], 0.4, 1e-6, "%g", g[1]);
  NEAR(g[2], 1e-4, 1e-9, "row 1 clipped to 0.1 * 1e-3: %g", g[2]);
  cr_assert(rg_tensor_grad(v)[0] == 100.0f && r.clipped == 2);
  rg_ctx_free(ctx);
}

Test(clip, ema_clips_to_history_and_skips_spikes) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(1), NULL);
  rg_ema_clipper *c = rg_ema_clipper_new(ctx, &(rg_ema_clip_config){2.0f, 0.9f, 5, 0.0f, 0});
  rg_ema_clipper *z = rg_ema_clipper_new(ctx, &(rg_ema_clip_config){2.0f, 0.9f, 5, 4.0f, 0});
  rg_clip_result r;
  for (int i = 0; i < 10; i++) {
    rg_tensor_grad(w)[0] = (i % 2) ? 1.1f : 0.9f;
    rg_ema_clip(c, &w, 1, NULL, &r);
    cr_assert(r.scale == 1.0f && !r.skip);
    rg_ema_clip(z, &w, 1, NULL, &r);
  }
  rg_tensor_grad(w)[0] = 100.0f;
  rg_ema_clip(z, &w, 1, NULL, &r);
  cr_assert(r.skip, "z-score spike skipped");
  cr_assert_eq(rg_tensor_grad(w)[0], 100.0f);
  rg_ema_clip(c, &w, 1, NULL, &r);
  cr_assert(!r.skip && r.clipped == 1);
  NEAR(rg_tensor_grad(w)[0], 2.0, 0.1, "clipped to 2 x EMA (about 1): %g", rg_tensor_grad(w)[0]);
  rg_ema_clipper_free(c);
  rg_ema_clipper_free(z);
  rg_ctx_free(ctx);
}

/* The z-score skip: a lone spike is skipped and forgotten; a sustained rise
 * to 1.5x is skipped max_skips times, then absorbed as the new level (issue
 * 15: it used to lock out every later step). */
static int ema_feed(rg_ema_clipper *c, rg_tensor *w, float norm, int steps, int *first_taken) {
  int skipped = 0;
  *first_taken = -1;
  for (int i = 0; i < steps; i++) {
    rg_clip_result r;
    rg_tensor_grad(w)[0] = norm * (i % 2 ? 1.02f : 0.98f);
    cr_assert_eq(rg_ema_clip(c, &w, 1, &(rg_clip_opts){.defer_scale = true}, &r), RG_OK);
    skipped += r.skip;
    if (!r.skip && *first_taken < 0) *first_taken = i;
  }
  return skipped;
}

Test(clip, ema_skips_a_spike_and_absorbs_a_level_shift) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(1), NULL);
  rg_ema_clipper *c = rg_ema_clipper_new(ctx, &(rg_ema_clip_config){2.0f, 0.99f, 20, 3.0f, 4});
  int first;
  cr_assert_eq(ema_feed(c, w, 1.0f, 200, &first), 0);
  cr_assert_eq(ema_feed(c, w, 1.5f, 1, &first), 1, "a lone 1.5x spike is skipped");
  cr_assert_eq(ema_feed(c, w, 1.0f, 50, &first), 0, "and forgotten");
  int skipped = ema_feed(c, w, 1.5f, 980, &first);
  cr_assert_eq(skipped, 4, "a sustained shift costs max_skips = 4 steps, not %d", skipped);
  cr_assert_eq(first, 4, "the fifth step at the new level is taken");
  /* Default max_skips is 5. */
  rg_ema_clipper *d = rg_ema_clipper_new(ctx, &(rg_ema_clip_config){2.0f, 0.99f, 20, 3.0f, 0});
  ema_feed(d, w, 1.0f, 200, &first);
  cr_assert_eq(ema_feed(d, w, 1.5f, 100, &first), 5);
  /* Bad configurations, NaN included, are refused. */
  const rg_ema_clip_config bad[] = {{NAN, 0.9f, 0, 0, 0},      {2, 1.0f, 0, 0, 0},
                                    {2, 0.9f, -1, 0, 0},       {2, 0.9f, 0, NAN, 0},
                                    {2, 0.9f, 0, INFINITY, 0}, {2, 0.9f, 0, 0, -1},
                                    {INFINITY, 0.9f, 0, 0, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_null(rg_ema_clipper_new(ctx, &bad[i]), "case %zu", i);
    cr_assert_eq(rg_ctx_status(ctx), RG_EINVAL);
    cr_assert(strstr(rg_ctx_message(ctx), "rg_ema_clipper_new: factor"), "%s", rg_ctx_message(ctx));
    rg_ctx_clear_error(ctx);
  }
  rg_ema_clipper_free(c);
  rg_ema_clipper_free(d);
  rg_ctx_free(ctx);
}

Test(diag, update_ratio_and_alerts) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape1(2), (float[]){3, 4});
  rg_tensor *u = param(ctx, "u", rg_shape1(1), (float[]){1});
  rg_optim *o = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.5f});
  rg_optim_add_all(o);
  rg_diag *d = rg_diag_new(ctx, 1e-6f, 50.0f);
  memcpy(rg_tensor_grad(w), (float[]){6, 8}, 2 * sizeof(float));
  rg_tensor_grad(u)[0] = 1e-9f;
  rg_diag_before_step(d);
  rg_optim_step(o, 0.5f, 1.0f);
  rg_diag_after_step(d);
  int n, v, e;
  const rg_param_diag *rows = rg_diag_params(d, &n);
  cr_assert_eq(n, 2);
  NEAR(rows[0].grad_norm, 10.0, 1e-5, "|g|");
  cr_assert_eq(rows[0].weight_norm, 0.0f, "w - 0.5 g = 0");
  cr_assert(isinf(rows[0].update_ratio));
  cr_assert_eq(rg_diag_alerts(d, &v, &e), 1);
  cr_assert(v == 1 && e == 0 && rows[1].vanishing, "u's gradient vanishes");
  FILE *f = tmpfile();
  rg_diag_write_csv(d, f, 7);
  rewind(f);
  char line[256];
  cr_assert(fgets(line, sizeof line, f) && strncmp(line, "7,w,10,", 7) == 0, "%s", line);
  fclose(f);
  rg_diag_free(d);
  rg_optim_free(o);
  rg_ctx_free(ctx);
}

Test(diag, anomaly_mode_names_the_op) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = param(ctx, "w", rg_shape2(2, 3), (float[]){1, 2, 3, -1, 5, 6});
  rg_tensor *y = rg_log(ctx, w);
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "off by default");
  rg_set_anomaly_mode(ctx, true);
  y = rg_log(ctx, rg_relu(ctx, w));
  (void)y;
  cr_assert_eq(rg_ctx_status(ctx), RG_ENONFINITE);
  cr_assert(strstr(rg_ctx_message(ctx), "forward of log at tape position 2"), "%s",
            rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  rg_tape_reset(ctx);
  /* Backward: clamp hides log(0) = -inf in forward, but log's backward then
   * divides 0 by 0. */
  rg_set_anomaly_mode(ctx, false);
  rg_tensor *z = param(ctx, "z", rg_shape1(2), (float[]){0, 1});
  rg_tensor *loss = rg_sum(ctx, rg_clamp(ctx, rg_log(ctx, z), -10, 10));
  cr_assert_eq(rg_ctx_status(ctx), RG_OK);
  rg_set_anomaly_mode(ctx, true);
  cr_assert_eq(rg_backward(ctx, loss), RG_ENONFINITE);
  cr_assert(strstr(rg_ctx_message(ctx), "backward of log at tape position 0"), "%s",
            rg_ctx_message(ctx));
  rg_ctx_free(ctx);
}

/* ----------------------------------------------------------- predictor */

#define P_IN 37
#define P_OUT 5
#define P_ROWS 40

/* An MLP trained for three steps (so batch norm's running statistics and the
 * weights are no longer their initial values), then in evaluation mode. */
static rg_mlp *trained_mlp(rg_ctx *ctx, rg_nonlinearity act, bool bn) {
  rg_mlp_config mc = {.in = P_IN, .out = P_OUT, .hidden = 2, .widths = {70, 19},
                      .activation = act, .leaky_slope = 0.1f, .batch_norm = bn, .dropout = 0.2f};
  rg_mlp *m = rg_mlp_new(ctx, "m", &mc);
  rg_optim *o = rg_optim_new(ctx, &(rg_optim_config){.lr = 0.1f, .momentum = 0.9f});
  cr_assert(m && o && rg_optim_add_all(o) == RG_OK, "%s", rg_ctx_message(ctx));
  static float x[16 * P_IN];
  int32_t y[16];
  for (int step = 0; step < 3; step++) {
    th_fill(x, 16 * P_IN, 100 + step, -2, 2);
    for (int i = 0; i < 16; i++) y[i] = (i * 7 + step) % P_OUT;
    rg_zero_grad(ctx);
    rg_tensor *logits = rg_mlp_forward(m, rg_tensor_new(ctx, rg_shape2(16, P_IN), x));
    rg_backward(ctx, rg_cross_entropy(ctx, logits, y, 0.0f));
    rg_optim_step(o, 0.1f, 1.0f);
    rg_tape_reset(ctx);
  }
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  rg_optim_free(o);
  rg_set_training(ctx, false);
  return m;
}

/* rows rows of rg_mlp_forward in evaluation mode into out. */
static void eval_forward(rg_ctx *ctx, rg_mlp *m, const float *x, int64_t rows, float *out) {
  rg_tensor *y = rg_mlp_forward(m, rg_tensor_new(ctx, rg_shape2(rows, P_IN), x));
  cr_assert(y, "%s", rg_ctx_message(ctx));
  memcpy(out, rg_tensor_data(y), (size_t)(rows * P_OUT) * sizeof(float));
  rg_tape_reset(ctx);
}

Test(predict, logits_are_bit_identical_to_eval_forward) {
  static const rg_nonlinearity acts[] = {RG_RELU, RG_TANH, RG_SIGMOID, RG_LEAKY_RELU};
  static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
  static const int64_t rows[] = {1, 2, 3, 4, 5, 16, 17, P_ROWS};
  static float x[P_ROWS * P_IN], want[P_ROWS * P_OUT], got[P_ROWS * P_OUT];
  th_fill(x, P_ROWS * P_IN, 7, -3, 3);
  x[3] = -0.0f;
  int checked = 0;
  for (int a = 0; a < 4; a++)
    for (int threads = 1; threads <= 2; threads++) {
      rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 5, .threads = threads});
      rg_mlp *m = trained_mlp(ctx, acts[a], a % 2 == 0);
      rg_predictor *p = rg_predictor_new(m);
      cr_assert(p, "%s", rg_ctx_message(ctx));
      for (int i = 0; i < 4; i++) {
        if (!rg_isa_supported(isas[i])) continue;
        cr_assert_eq(rg_set_isa(ctx, isas[i]), RG_OK);
        for (int r = 0; r < 8; r++) {
          eval_forward(ctx, m, x, rows[r], want);
          memset(got, 0xFF, sizeof got);
          cr_assert_eq(rg_predict(p, x, rows[r], got), RG_OK, "%s", rg_ctx_message(ctx));
          cr_assert(memcmp(got, want, (size_t)(rows[r] * P_OUT) * sizeof(float)) == 0,
                    "activation %d, %s, %d threads, %lld rows: logits differ (%g vs %g)", a,
                    isas[i], threads, (long long)rows[r], (double)got[0], (double)want[0]);
          checked++;
        }
      }
      rg_predictor_free(p);
      rg_mlp_free(m);
      rg_ctx_free(ctx);
    }
  cr_assert_geq(checked, 4 * 2 * 8 * 2, "scalar and at least one vector ISA");
}

Test(predict, snapshot_follows_the_mlp_only_on_refresh) {
  rg_ctx *ctx = th_ctx(5);
  rg_mlp *m = trained_mlp(ctx, RG_RELU, true);
  rg_predictor *p = rg_predictor_new(m);
  static float x[4 * P_IN], want[4 * P_OUT], got[4 * P_OUT];
  th_fill(x, 4 * P_IN, 8, -1, 1);
  cr_assert_eq(rg_init_constant(ctx, rg_mlp_bias(m, 2), 3.0f), RG_OK);
  eval_forward(ctx, m, x, 4, want);
  cr_assert_eq(rg_predict(p, x, 4, got), RG_OK);
  cr_assert(memcmp(got, want, sizeof got) != 0, "a snapshot does not see later changes");
  uint64_t allocs = rg_ctx_stats(ctx).heap_allocs;
  cr_assert_eq(rg_predictor_refresh(p), RG_OK);
  cr_assert_eq(rg_predict(p, x, 4, got), RG_OK);
  cr_assert(memcmp(got, want, sizeof got) == 0, "refresh takes the new parameters");
  cr_assert_eq(rg_ctx_stats(ctx).heap_allocs, allocs, "refresh and predict allocate nothing");
  rg_predictor_free(p);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
}

/* ------------------------------------------------- fused linear + act */

#define F_B 96
#define F_IN 200
#define F_OUT 160

struct fused_run {
  float y[F_B * F_OUT], dx[F_B * F_IN], dw[F_OUT * F_IN], db[F_OUT];
};

/* loss = sum(act(x W^T + b) * r) fused or as two ops; outputs and gradients. */
static void fused_run(const char *isa, int threads, rg_nonlinearity act, bool fused,
                      struct fused_run *out) {
  static float x[F_B * F_IN], w[F_OUT * F_IN], b[F_OUT], r[F_B * F_OUT];
  th_fill(x, F_B * F_IN, 1, -1, 1);
  th_fill(w, F_OUT * F_IN, 2, -0.1f, 0.1f);
  th_fill(b, F_OUT, 3, -0.5f, 0.5f);
  th_fill(r, F_B * F_OUT, 4, -1, 1);
  x[0] = -0.0f, b[1] = -0.0f;
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 1, .threads = threads, .isa = isa});
  rg_tensor *tx = rg_param_new(ctx, "x", rg_shape2(F_B, F_IN), x);
  rg_tensor *tw = rg_param_new(ctx, "w", rg_shape2(F_OUT, F_IN), w);
  rg_tensor *tb = rg_param_new(ctx, "b", rg_shape1(F_OUT), b);
  float alpha = 0.05f;
  rg_tensor *y;
  if (fused) {
    y = rg_linear_act(ctx, tx, tw, tb, act, alpha);
  } else {
    y = rg_linear(ctx, tx, tw, tb);
    if (act == RG_RELU) y = rg_relu(ctx, y);
    if (act == RG_LEAKY_RELU) y = rg_leaky_relu(ctx, y, alpha);
    if (act == RG_TANH) y = rg_tanh(ctx, y);
    if (act == RG_SIGMOID) y = rg_sigmoid(ctx, y);
  }
  rg_tensor *loss = rg_sum(ctx, rg_mul(ctx, y, rg_tensor_new(ctx, rg_shape2(F_B, F_OUT), r)));
  cr_assert_eq(rg_backward(ctx, loss), RG_OK, "%s", rg_ctx_message(ctx));
  memcpy(out->y, rg_tensor_data(y), sizeof out->y);
  memcpy(out->dx, rg_tensor_grad(tx), sizeof out->dx);
  memcpy(out->dw, rg_tensor_grad(tw), sizeof out->dw);
  memcpy(out->db, rg_tensor_grad(tb), sizeof out->db);
  rg_ctx_free(ctx);
}

Test(fusion, linear_act_matches_linear_then_activation_bit_for_bit) {
  static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
  static const rg_nonlinearity acts[] = {RG_LINEAR, RG_RELU, RG_LEAKY_RELU, RG_TANH, RG_SIGMOID};
  static struct fused_run want, got;
  for (int i = 0; i < 4; i++) {
    if (!rg_isa_supported(isas[i])) continue;
    for (int a = 0; a < 5; a++)
      for (int threads = 1; threads <= 2; threads++) {
        fused_run(isas[i], threads, acts[a], false, &want);
        fused_run(isas[i], threads, acts[a], true, &got);
        cr_assert(memcmp(&got, &want, sizeof got) == 0, "%s, activation %d, %d threads: %s differ",
                  isas[i], a, threads,
                  memcmp(got.y, want.y, sizeof got.y) ? "outputs" : "gradients");
      }
  }
}
