/* The trainer's per-layer statistics (rg_step_info.layer_stats): on a tiny
 * MLP every field equals an independent computation in double (the forward,
 * softmax cross-entropy and the back-propagated gradients written out by
 * hand); they come on the steps layer_stats_every asks for and on no
 * other; they are the same bytes on every ISA and thread count; and steps
 * that report them still allocate nothing after the first. */
#define RG_TEST_MAIN
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <string.h>

#include "helpers.h"

#define ROWS 8
#define IN 4
#define HID 6
#define OUT 3

static float xs[ROWS * IN];
static int32_t ys[ROWS];

static rg_dataset dataset(void) {
  th_fill(xs, ROWS * IN, 11, -2.0f, 2.0f);
  for (int i = 0; i < ROWS; i++) ys[i] = i % OUT;
  return (rg_dataset){.n = ROWS, .features = IN, .rows = 2, .cols = 2, .classes = OUT, .x = xs,
                      .y = ys};
}

#define MAX_SEEN 64
static rg_layer_stats seen[MAX_SEEN][8];
static int64_t seen_step[MAX_SEEN];
static int n_seen, n_steps;

static bool keep(const rg_step_info *s, void *user) {
  (void)user;
  n_steps++;
  if (!s->layer_stats) return true;
  cr_assert_lt(n_seen, MAX_SEEN);
  cr_assert_leq(s->layers, 8);
  memcpy(seen[n_seen], s->layer_stats, (size_t)s->layers * sizeof *s->layer_stats);
  seen_step[n_seen++] = s->step;
  return true;
}

static double act(rg_nonlinearity a, float slope, double x) {
  switch (a) {
    case RG_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case RG_TANH: return tanh(x);
    case RG_LEAKY_RELU: return x > 0 ? x : slope * x;
    default: return x > 0 ? x : 0.0;
  }
}

static double act_grad(rg_nonlinearity a, float slope, double x, double y) {
  switch (a) {
    case RG_SIGMOID: return y * (1.0 - y);
    case RG_TANH: return 1.0 - y * y;
    case RG_LEAKY_RELU: return x > 0 ? 1.0 : slope;
    default: return x > 0 ? 1.0 : 0.0;
  }
}

static bool sat(rg_nonlinearity a, double y) {
  switch (a) {
    case RG_SIGMOID: return y < 0.02 || y > 0.98;
    case RG_TANH: return fabs(y) > 0.98;
    case RG_LEAKY_RELU: return y < 0.0;
    default: return y == 0.0;
  }
}

static void near(double got, double want, const char *what, int layer) {
  cr_assert(fabs(got - want) <= 1e-5 * fabs(want) + 1e-7, "layer %d %s: %.9g, expected %.9g",
            layer, what, got, want);
}

static double norm(const double *v, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += v[i] * v[i];
  return sqrt(s);
}

typedef struct act_case {
  rg_nonlinearity a;
  float slope;
} act_case;

ParameterizedTestParameters(layer_stats, match_a_hand_computation) {
  static act_case cases[] = {{RG_SIGMOID, 0}, {RG_TANH, 0}, {RG_RELU, 0}, {RG_LEAKY_RELU, 0.1f}};
  return cr_make_param_array(act_case, cases, sizeof cases / sizeof cases[0]);
}

/* One step of SGD (lr 0.1, no momentum) on one batch of all 8 rows: the
 * statistics of both layers against the same step computed in double. The
 * batcher shuffles the rows, which none of the statistics depends on. */
ParameterizedTest(act_case *c, layer_stats, match_a_hand_computation) {
  rg_dataset train = dataset();
  rg_ctx *ctx = th_ctx(7);
  rg_mlp *m = rg_mlp_new(ctx, "m", &(rg_mlp_config){.in = IN, .out = OUT, .hidden = 1,
                                                    .widths = {HID}, .activation = c->a,
                                                    .leaky_slope = c->slope});
  cr_assert(m, "%s", rg_ctx_message(ctx));
  float w0[HID * IN], b0[HID], w1[OUT * HID], b1[OUT];
  th_fill(w0, HID * IN, 13, -2.0f, 2.0f); /* large: some units saturate */
  th_fill(b0, HID, 4, -1.0f, 1.0f);
  th_fill(w1, OUT * HID, 5, -1.0f, 1.0f);
  th_fill(b1, OUT, 6, -0.5f, 0.5f);
  memcpy(rg_tensor_data(rg_mlp_weight(m, 0)), w0, sizeof w0);
  memcpy(rg_tensor_data(rg_mlp_bias(m, 0)), b0, sizeof b0);
  memcpy(rg_tensor_data(rg_mlp_weight(m, 1)), w1, sizeof w1);
  memcpy(rg_tensor_data(rg_mlp_bias(m, 1)), b1, sizeof b1);
  rg_optim *o = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.1f});
  rg_optim_add_all(o);
  rg_trainer_config tc = {.batch = ROWS, .epochs = 1, .max_steps = 1, .schedule = {.lr0 = 0.1f},
                          .layer_stats_every = 1, .on_step = keep};
  rg_trainer *t = rg_trainer_new(m, o, &train, NULL, &tc);
  cr_assert(t, "%s", rg_ctx_message(ctx));
  n_seen = n_steps = 0;
  cr_assert_eq(rg_trainer_run(t, NULL), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_eq(n_seen, 1);

  /* The step by hand. */
  double a[ROWS][HID], h[ROWS][HID], dz[ROWS][OUT], dh[ROWS][HID];
  double dw0[HID * IN] = {0}, dw1[OUT * HID] = {0};
  double sum = 0, sumsq = 0;
  int saturated = 0;
  for (int r = 0; r < ROWS; r++) {
    for (int j = 0; j < HID; j++) {
      double s = b0[j];
      for (int k = 0; k < IN; k++) s += (double)xs[r * IN + k] * w0[j * IN + k];
      a[r][j] = s;
      h[r][j] = act(c->a, c->slope, s);
      cr_assert(c->a != RG_SIGMOID || (fabs(h[r][j] - 0.02) > 1e-6 && fabs(h[r][j] - 0.98) > 1e-6),
                "%.9g is at a threshold", h[r][j]);
      cr_assert(c->a != RG_TANH || fabs(fabs(h[r][j]) - 0.98) > 1e-6);
      sum += h[r][j];
      saturated += sat(c->a, h[r][j]);
    }
    double z[OUT], zmax = -INFINITY, e = 0;
    for (int o2 = 0; o2 < OUT; o2++) {
      z[o2] = b1[o2];
      for (int j = 0; j < HID; j++) z[o2] += h[r][j] * w1[o2 * HID + j];
      zmax = fmax(zmax, z[o2]);
    }
    for (int o2 = 0; o2 < OUT; o2++) e += exp(z[o2] - zmax);
    for (int o2 = 0; o2 < OUT; o2++)
      dz[r][o2] = (exp(z[o2] - zmax) / e - (o2 == ys[r])) / ROWS;
    for (int j = 0; j < HID; j++) {
      dh[r][j] = 0;
      for (int o2 = 0; o2 < OUT; o2++) {
        dh[r][j] += dz[r][o2] * w1[o2 * HID + j];
        dw1[o2 * HID + j] += dz[r][o2] * h[r][j];
      }
      double da = dh[r][j] * act_grad(c->a, c->slope, a[r][j], h[r][j]);
      for (int k = 0; k < IN; k++) dw0[j * IN + k] += da * xs[r * IN + k];
    }
  }
  double mean = sum / (ROWS * HID);
  for (int r = 0; r < ROWS; r++)
    for (int j = 0; j < HID; j++) sumsq += (h[r][j] - mean) * (h[r][j] - mean);
  const rg_layer_stats *s = seen[0];
  near(s[0].act_mean, mean, "act_mean", 0);
  near(s[0].act_std, sqrt(sumsq / (ROWS * HID)), "act_std", 0);
  cr_assert_eq(s[0].saturation, (float)saturated / (ROWS * HID), "saturation %g, expected %d/%d",
               (double)s[0].saturation, saturated, ROWS * HID);
  if (c->a != RG_SIGMOID) cr_assert_gt(saturated, 0, "the case exercises saturation");
  near(s[0].dldh_norm, norm(&dh[0][0], ROWS * HID), "dldh_norm", 0);
  near(s[1].dldh_norm, norm(&dz[0][0], ROWS * OUT), "dldh_norm (logits)", 1);
  cr_assert(isnan(s[1].saturation), "the classifier has no saturation");
  double n0 = norm(dw0, HID * IN), n1 = norm(dw1, OUT * HID);
  near(s[0].dw_norm, n0, "dw_norm", 0);
  near(s[1].dw_norm, n1, "dw_norm", 1);
  near(s[0].dw_rms, n0 / sqrt(HID * IN), "dw_rms", 0);
  near(s[1].dw_rms, n1 / sqrt(OUT * HID), "dw_rms", 1);
  double v0[HID * IN], v1[OUT * HID];
  /* rg_diag's ratio: the update over the weight after it. */
  for (int i = 0; i < HID * IN; i++) v0[i] = w0[i] - 0.1 * dw0[i];
  for (int i = 0; i < OUT * HID; i++) v1[i] = w1[i] - 0.1 * dw1[i];
  near(s[0].update_ratio, 0.1 * n0 / norm(v0, HID * IN), "update_ratio", 0);
  near(s[1].update_ratio, 0.1 * n1 / norm(v1, OUT * HID), "update_ratio", 1);
  rg_trainer_free(t);
  rg_optim_free(o);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
}

/* A 3-hidden-layer tanh MLP trained for 7 steps with layer_stats_every 3
 * on the given ISA and thread count; the statistics land in seen. */
static void run(const char *isa, int threads, int64_t every, bool diagnostics,
                int64_t *step_allocs) {
  static float big_x[64 * 32];
  static int32_t big_y[64];
  th_fill(big_x, 64 * 32, 21, -1.0f, 1.0f);
  for (int i = 0; i < 64; i++) big_y[i] = i % 5;
  rg_dataset train = {.n = 64, .features = 32, .rows = 4, .cols = 8, .classes = 5, .x = big_x,
                      .y = big_y};
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 9, .threads = threads, .isa = isa});
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  rg_mlp *m = rg_mlp_new(ctx, "m", &(rg_mlp_config){.in = 32, .out = 5, .hidden = 3,
                                                    .widths = {48, 48, 48},
                                                    .activation = RG_TANH, .dropout = 0.1f});
  rg_optim *o = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_ADAM, .lr = 0.01f});
  rg_optim_add_all(o);
  rg_trainer_config tc = {.batch = 16, .epochs = 10, .max_steps = 7, .schedule = {.lr0 = 0.01f},
                          .layer_stats_every = every, .diagnostics = diagnostics,
                          .on_step = keep};
  rg_trainer *t = rg_trainer_new(m, o, &train, NULL, &tc);
  cr_assert(t, "%s", rg_ctx_message(ctx));
  n_seen = n_steps = 0;
  memset(seen, 0, sizeof seen);
  rg_train_report rep;
  cr_assert_eq(rg_trainer_run(t, &rep), RG_OK, "%s", rg_ctx_message(ctx));
  if (step_allocs) *step_allocs = rep.step_heap_allocs;
  rg_trainer_free(t);
  rg_optim_free(o);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
}

Test(layer_stats, only_on_the_steps_asked_for) {
  run(NULL, 1, 3, false, NULL);
  cr_assert_eq(n_steps, 7);
  const int64_t want[] = {0, 3, 6};
  cr_assert_eq(n_seen, 3);
  for (int i = 0; i < 3; i++) cr_assert_eq(seen_step[i], want[i]);
  run(NULL, 1, 4, false, NULL); /* and the last step, 6 */
  cr_assert_eq(n_seen, 3);
  cr_assert_eq(seen_step[2], 6);
  for (int l = 0; l < 4; l++) {
    cr_assert(seen[0][l].dldh_norm > 0.0f && seen[0][l].dw_rms > 0.0f, "layer %d", l);
    cr_assert(seen[0][l].update_ratio > 0.0f, "layer %d", l);
  }
  run(NULL, 1, 0, false, NULL);
  cr_assert_eq(n_seen, 0);
}

Test(layer_stats, identical_on_every_isa_and_thread_count, .timeout = 300) {
  static rg_layer_stats ref[MAX_SEEN][8];
  run("scalar", 1, 2, false, NULL);
  int n_ref = n_seen;
  cr_assert_eq(n_ref, 4);
  memcpy(ref, seen, sizeof ref);
  static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
  for (unsigned i = 0; i < sizeof isas / sizeof isas[0]; i++) {
    if (!rg_isa_supported(isas[i])) {
      cr_log_info("%s: skipped, not available here", isas[i]);
      continue;
    }
    for (int threads = 1; threads <= 2; threads++) {
      run(isas[i], threads, 2, threads == 2, NULL);
      cr_assert_eq(n_seen, n_ref);
      cr_assert(memcmp(seen, ref, sizeof ref) == 0, "%s with %d threads differs from scalar",
                isas[i], threads);
    }
  }
}

Test(layer_stats, steps_after_the_first_allocate_nothing) {
  int64_t allocs = -1;
  run(NULL, 1, 2, false, &allocs);
  cr_assert_eq(allocs, 0);
}
