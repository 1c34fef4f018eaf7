/* The library's training loop (rg_trainer): a run interrupted anywhere and
 * resumed from its checkpoint ends with the same bytes as an uninterrupted
 * one under every clipping mode and every schedule; early stopping restores
 * the best weights; periodic checkpoints; a divergence saves nothing; bad
 * configurations are refused naming the field; steps allocate nothing. */
#define RG_TEST_MAIN
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define ROWS 200
#define FEATURES 12
#define CLASSES 3

static char dir[64];
static float xs[ROWS * FEATURES];
static int32_t ys[ROWS];

/* Three classes, each a blob around its own centre (learnable, with noise). */
static void make_data(rg_dataset *train, rg_dataset *val) {
  uint64_t seed = 5;
  for (int i = 0; i < ROWS; i++) {
    ys[i] = i % CLASSES;
    for (int j = 0; j < FEATURES; j++)
      xs[i * FEATURES + j] = (j % CLASSES == ys[i] ? 1.0f : 0.0f) +
                             0.8f * ((float)(th_next(&seed) >> 40) * 0x1p-24f - 0.5f);
  }
  *train = (rg_dataset){.n = 150, .features = FEATURES, .rows = 3, .cols = 4, .classes = CLASSES,
                        .x = xs, .y = ys};
  *val = (rg_dataset){.n = 50, .features = FEATURES, .rows = 3, .cols = 4, .classes = CLASSES,
                      .x = xs + 150 * FEATURES, .y = ys + 150};
}

static void setup(void) { th_tempdir(dir, "trainer"); }

static void teardown(void) { th_rmtree(dir); }

/* A model, optimizer and trainer, made in the same order every time. */
typedef struct rig {
  rg_ctx *ctx;
  rg_mlp *mlp;
  rg_optim *opt;
  rg_trainer *t;
  rg_dataset train, val;
} rig;

static int64_t stop_at; /* on_step returns false after this step (-1: never) */
static bool stop_cb(const rg_step_info *s, void *user) {
  (void)user;
  return s->step != stop_at;
}

static void rig_open(rig *r, const rg_trainer_config *cfg, bool batch_norm, float dropout) {
  memset(r, 0, sizeof *r);
  make_data(&r->train, &r->val);
  r->ctx = th_ctx(3);
  rg_mlp_config m = {.in = FEATURES, .out = CLASSES, .hidden = 2, .widths = {16, 16},
                     .activation = RG_TANH, .batch_norm = batch_norm, .dropout = dropout};
  r->mlp = rg_mlp_new(r->ctx, "mlp", &m);
  r->opt = rg_optim_new(r->ctx, &(rg_optim_config){.kind = RG_ADAM, .lr = 0.01f});
  rg_optim_add_all(r->opt);
  rg_trainer_config c = *cfg;
  c.on_step = stop_cb;
  r->t = rg_trainer_new(r->mlp, r->opt, &r->train, &r->val, &c);
  cr_assert(r->t, "%s", rg_ctx_message(r->ctx));
}

static void rig_close(rig *r) {
  rg_trainer_free(r->t);
  rg_optim_free(r->opt);
  rg_mlp_free(r->mlp);
  rg_ctx_free(r->ctx);
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "%s", path);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  rewind(f);
  uint8_t *b = malloc(*n);
  cr_assert(fread(b, 1, *n, f) == *n);
  fclose(f);
  return b;
}

static void same_file(const char *a, const char *b, const char *what) {
  size_t na, nb;
  uint8_t *fa = read_all(a, &na), *fb = read_all(b, &nb);
  cr_assert(na == nb && !memcmp(fa, fb, na), "%s: the resumed run's checkpoint differs", what);
  free(fa);
  free(fb);
}

static const rg_clip_config clips[] = {
    {.mode = RG_CLIP_NONE},
    {.mode = RG_CLIP_VALUE, .value = 0.05f},
    {.mode = RG_CLIP_NORM, .max_norm = 0.5f},
    {.mode = RG_CLIP_PER_TENSOR, .max_norm = 0.2f},
    {.mode = RG_CLIP_AGC, .agc_lambda = 0.01f},
    {.mode = RG_CLIP_EMA, .ema = {.factor = 1.2f, .beta = 0.9f, .warmup = 3, .z_threshold = 2}},
};
#define N_CLIPS (int)(sizeof clips / sizeof clips[0])
static const rg_schedule schedules[] = {
    {.kind = RG_SCHED_CONSTANT, .lr0 = 0.01f},
    {.kind = RG_SCHED_STEP, .lr0 = 0.01f, .step_size = 7, .gamma = 0.5f},
    {.kind = RG_SCHED_MULTISTEP, .lr0 = 0.01f, .gamma = 0.5f, .milestones = {5, 20}, .n_milestones = 2},
    {.kind = RG_SCHED_EXPONENTIAL, .lr0 = 0.01f, .gamma = 0.97f},
    {.kind = RG_SCHED_POLYNOMIAL, .lr0 = 0.01f, .power = 2, .total_steps = 40},
    {.kind = RG_SCHED_INVERSE_TIME, .lr0 = 0.01f, .k = 0.1f},
    {.kind = RG_SCHED_COSINE, .lr0 = 0.01f, .warmup_steps = 5, .warmup_start = 0.1f},
};
#define N_SCHEDULES (int)(sizeof schedules / sizeof schedules[0])

ParameterizedTestParameters(trainer, resume_is_bit_identical) {
  static int idx[N_CLIPS * N_SCHEDULES];
  for (int i = 0; i < N_CLIPS * N_SCHEDULES; i++) idx[i] = i;
  return cr_make_param_array(int, idx, N_CLIPS * N_SCHEDULES);
}

/* 3 epochs of 10 steps (batch 16 over 150 rows); stopped after step 13
 * (mid-epoch) and resumed from the checkpoint it saved. Batch norm and
 * dropout put the running statistics and the dropout stream in play. */
ParameterizedTest(int *i, trainer, resume_is_bit_identical, .init = setup, .fini = teardown) {
  const rg_clip_config *clip = &clips[*i / N_SCHEDULES];
  char straight[128], cut[128];
  snprintf(straight, sizeof straight, "%s/straight.ckpt", dir);
  snprintf(cut, sizeof cut, "%s/cut.ckpt", dir);
  rg_trainer_config c = {.batch = 16, .epochs = 3, .seed = 9, .schedule = schedules[*i % N_SCHEDULES],
                         .clip = *clip, .penalty = RG_PENALTY_L2, .penalty_lambda = 1e-3f,
                         .early_stop = 5};
  c.clip.nonfinite = RG_NONFINITE_SKIP;
  rig a, b;
  stop_at = -1;
  c.save_path = straight;
  rig_open(&a, &c, true, 0.1f);
  rg_train_report ra;
  cr_assert_eq(rg_trainer_run(a.t, &ra), RG_OK, "%s", rg_ctx_message(a.ctx));
  cr_assert_eq(ra.steps, 30);
  rig_close(&a);

  stop_at = 13;
  c.save_path = cut;
  rig_open(&b, &c, true, 0.1f);
  rg_train_report rb;
  cr_assert_eq(rg_trainer_run(b.t, &rb), RG_OK, "%s", rg_ctx_message(b.ctx));
  cr_assert(rb.stopped_by_callback && rb.steps == 14, "stopped after %lld steps", (long long)rb.steps);
  rig_close(&b);
  stop_at = -1;
  rig_open(&b, &c, true, 0.1f);
  cr_assert_eq(rg_checkpoint_load(b.ctx, cut, NULL), RG_OK, "%s", rg_ctx_message(b.ctx));
  cr_assert_eq(rg_trainer_steps(b.t), 14);
  cr_assert_eq(rg_trainer_run(b.t, &rb), RG_OK, "%s", rg_ctx_message(b.ctx));
  cr_assert_eq(rb.steps, 30);
  rig_close(&b);
  same_file(straight, cut, "resume");
}

Test(trainer, early_stopping_restores_the_best_weights, .init = setup, .fini = teardown) {
  /* A rate this high overfits and wanders: validation stops improving. */
  rg_trainer_config c = {.batch = 8, .epochs = 200, .seed = 1,
                         .schedule = {.kind = RG_SCHED_CONSTANT, .lr0 = 0.2f}, .early_stop = 2};
  rig r;
  stop_at = -1;
  rig_open(&r, &c, false, 0.0f);
  rg_train_report rep;
  cr_assert_eq(rg_trainer_run(r.t, &rep), RG_OK, "%s", rg_ctx_message(r.ctx));
  cr_assert(rep.stopped_early, "ran all %lld epochs", (long long)rep.epochs);
  cr_assert_eq(rep.epochs, rep.best_epoch + 1 + 2, "stopped 2 epochs after the best");
  double loss;
  rg_mlp_evaluate(r.mlp, &r.val, 0, &loss, NULL);
  cr_assert_eq((float)loss, rep.best_val_loss, "the weights are the best epoch's: %g vs %g", loss,
               (double)rep.best_val_loss);
  cr_assert_eq(rep.val_loss, rep.best_val_loss);
  rig_close(&r);
}

Test(trainer, periodic_checkpoints_keep_the_last_k, .init = setup, .fini = teardown) {
  char path[128], kept[160];
  snprintf(path, sizeof path, "%s/p.ckpt", dir);
  rg_trainer_config c = {.batch = 16, .epochs = 5, .seed = 1,
                         .schedule = {.kind = RG_SCHED_CONSTANT, .lr0 = 0.01f},
                         .save_path = path, .save_every = 4, .keep = 2};
  rig r;
  stop_at = -1;
  rig_open(&r, &c, false, 0.0f);
  cr_assert_eq(rg_trainer_run(r.t, NULL), RG_OK, "%s", rg_ctx_message(r.ctx));
  struct stat sb;
  for (int step = 4; step <= 48; step += 4) {
    snprintf(kept, sizeof kept, "%s.step-%d", path, step);
    cr_assert_eq(stat(kept, &sb) == 0, step >= 44, "step %d kept: %d", step, step >= 44);
  }
  cr_assert(stat(path, &sb) == 0);
  rig_close(&r);
}

/* A divergence under the error policy stops before the update and saves
 * nothing: the checkpoint on disk is the last epoch's, and it resumes. */
static int64_t poison_at;
static bool poison(const rg_step_info *s, void *user) {
  rig *r = user;
  if (s->step + 1 == poison_at) rg_tensor_data(rg_mlp_weight(r->mlp, 0))[0] = NAN;
  return true;
}

Test(trainer, divergence_saves_nothing, .init = setup, .fini = teardown) {
  char path[128];
  snprintf(path, sizeof path, "%s/d.ckpt", dir);
  rig r;
  rg_trainer_config c = {.batch = 16, .epochs = 3, .seed = 1,
                         .schedule = {.kind = RG_SCHED_CONSTANT, .lr0 = 0.01f}, .save_path = path};
  stop_at = -1;
  rig_open(&r, &c, false, 0.0f);
  rg_trainer_free(r.t);
  c.on_step = poison;
  c.user = &r;
  poison_at = 19; /* the last step of epoch 2 */
  r.t = rg_trainer_new(r.mlp, r.opt, &r.train, &r.val, &c);
  rg_train_report rep;
  cr_assert_eq(rg_trainer_run(r.t, &rep), RG_OK, "%s", rg_ctx_message(r.ctx));
  cr_assert_eq(rep.diverged_step, 19, "%s", rep.message);
  cr_assert(strstr(rep.message, "step 19: the loss is nan"), "%s", rep.message);
  rig_close(&r);
  rig s;
  c.on_step = NULL;
  rig_open(&s, &c, false, 0.0f);
  cr_assert_eq(rg_checkpoint_load(s.ctx, path, NULL), RG_OK, "%s", rg_ctx_message(s.ctx));
  cr_assert_eq(rg_trainer_epochs(s.t), 1, "epoch 2 was not saved as complete");
  cr_assert_eq(rg_trainer_steps(s.t), 10);
  rig_close(&s);
}

Test(trainer, nan_weights_are_refused_before_training) {
  rig r;
  rg_trainer_config c = {.batch = 16, .epochs = 1, .schedule = {.lr0 = 0.01f}};
  stop_at = -1;
  rig_open(&r, &c, false, 0.0f);
  rg_tensor_data(rg_mlp_weight(r.mlp, 1))[3] = NAN;
  cr_assert_eq(rg_trainer_run(r.t, NULL), RG_ENONFINITE);
  cr_assert(strstr(rg_ctx_message(r.ctx), "\"mlp.1.w\" holds NaN"), "%s", rg_ctx_message(r.ctx));
  rig_close(&r);
}

Test(trainer, steps_after_the_first_allocate_nothing) {
  rig r;
  rg_trainer_config c = {.batch = 16, .epochs = 2, .schedule = {.lr0 = 0.01f}, .diagnostics = true,
                         .clip = {.mode = RG_CLIP_EMA, .ema = {.factor = 2, .beta = 0.9f}}};
  stop_at = -1;
  rig_open(&r, &c, true, 0.2f);
  rg_train_report rep;
  cr_assert_eq(rg_trainer_run(r.t, &rep), RG_OK, "%s", rg_ctx_message(r.ctx));
  cr_assert_eq(rep.step_heap_allocs, 0);
  rig_close(&r);
}

Test(trainer, bad_configurations_name_the_field) {
  rg_dataset train, val;
  make_data(&train, &val);
  rg_ctx *ctx = th_ctx(1);
  rg_mlp *m = rg_mlp_new(ctx, "m", &(rg_mlp_config){.in = FEATURES, .out = CLASSES,
                                                    .activation = RG_RELU});
  rg_optim *o = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.1f});
  const rg_trainer_config ok = {.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}};
  const struct {
    rg_trainer_config c;
    const char *needle;
  } cases[] = {
      {{.batch = 0, .epochs = 1, .schedule = {.lr0 = 0.1f}}, "batch must be"},
      {{.batch = 8, .epochs = 0, .schedule = {.lr0 = 0.1f}}, "epochs must be"},
      {{.batch = 8, .epochs = 1, .max_steps = -1, .schedule = {.lr0 = 0.1f}}, "max_steps"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = NAN}}, "cfg->schedule"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f, .warmup_steps = INT64_MIN}},
       "warmup_steps is -9223372036854775808"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .clip = {.mode = 9}}, "clip.mode"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .clip = {.max_norm = NAN}}, "clip.max_norm"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .clip = {.norm_type = 3}}, "norm_type"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .clip = {.nonfinite = 7}}, "nonfinite"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .label_smoothing = 1}, "label_smoothing"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .penalty_lambda = -1}, "penalty_lambda"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .save_every = 5}, "save_every needs"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .early_stop = -1}, "early_stop"},
      {{.batch = 8, .epochs = 1, .schedule = {.lr0 = 0.1f}, .diag_vanish = NAN}, "diag_vanish"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_null(rg_trainer_new(m, o, &train, &val, &cases[i].c), "case %zu accepted", i);
    cr_assert(strstr(rg_ctx_message(ctx), "rg_trainer_new") &&
                  strstr(rg_ctx_message(ctx), cases[i].needle),
              "case %zu: %s", i, rg_ctx_message(ctx));
    rg_ctx_clear_error(ctx);
  }
  /* Early stopping needs a validation set; data must fit the model. */
  rg_trainer_config es = ok;
  es.early_stop = 1;
  cr_assert_null(rg_trainer_new(m, o, &train, NULL, &es));
  cr_assert(strstr(rg_ctx_message(ctx), "early_stop needs a validation set"), "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  rg_dataset narrow = train;
  narrow.features = 5;
  cr_assert_null(rg_trainer_new(m, o, &narrow, NULL, &ok));
  cr_assert_eq(rg_ctx_status(ctx), RG_ESHAPE, "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  /* A good configuration still works after the refusals, and leaves
   * nothing behind when freed. */
  rg_stats before = rg_ctx_stats(ctx);
  rg_trainer *t = rg_trainer_new(m, o, &train, &val, &ok);
  cr_assert(t, "%s", rg_ctx_message(ctx));
  rg_trainer_free(t);
  cr_assert_eq(rg_ctx_stats(ctx).heap_bytes, before.heap_bytes);
  rg_optim_free(o);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
}
