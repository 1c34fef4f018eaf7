/* A training run of the `regrad` command (trainer.h): data and session,
 * the library's trainer, and the command's reporting around its callbacks. */
#include "trainer.h"

#include <math.h>
#include <string.h>

#include "interrupt.h"
#include "progress.h"
#include "session.h"
#include "train_data.h"
#include "train_log.h"

#define TRAIN_EVAL_ROWS 10000
#define ALERT_EVERY 100 /* steps between alert lines */

void train_config_defaults(train_config *c) {
  memset(c, 0, sizeof *c);
  c->val_fraction = 1.0 / 12.0;
  c->model = (rg_mlp_config){.hidden = 2, .widths = {256, 256}, .activation = RG_RELU,
                             .leaky_slope = 0.01f};
  c->init = RG_INIT_KAIMING_UNIFORM;
  c->init_scale = 0.05f;
  c->optim = (rg_optim_config){.kind = RG_SGD, .lr = 0.05f, .momentum = 0.9f};
  c->run = (rg_trainer_config){
      .batch = 128, .epochs = 5, .l1_ratio = 0.5f,
      .schedule = {.kind = RG_SCHED_CONSTANT, .lr0 = 0.05f, .step_size = 1000, .gamma = 0.1f,
                   .power = 1.0f, .k = 1e-3f},
      .clip = {.value = 1.0f, .max_norm = 1.0f, .norm_type = 2.0f, .agc_lambda = 0.01f,
               .ema = {.factor = 2.0f, .beta = 0.99f, .warmup = 5}}};
  c->seed = 1;
  c->alerts = true;
  c->vanish = 1e-7f;
  c->explode = 1e3f;
}

/* Everything a run holds. */
typedef struct run {
  const train_config *c;
  train_result *r;
  session s;
  train_data d;
  rg_trainer *tr;
  rg_dist *dist;
  progress *bar;
  train_log log;
  train_alerts alerts;
  rg_step_fn user_step;
  void *user;
  int64_t steps_per_epoch, epoch_done;
} run;

static bool on_step(const rg_step_info *s, void *user) {
  run *R = user;
  R->epoch_done++;
  progress_update(R->bar, R->epoch_done, "epoch %lld/%d  loss %.4f", (long long)s->epoch + 1,
                  R->c->run.epochs, (double)s->loss);
  if (s->diag) train_log_step(&R->log, s);
  char line[256];
  if (R->c->alerts && R->bar && train_alerts_step(&R->alerts, s, line, sizeof line))
    progress_line(R->bar, "%s", line);
  if (R->user_step && !R->user_step(s, R->user)) return false;
  return !interrupt_requested();
}

static bool on_epoch(const rg_epoch_info *e, void *user) {
  run *R = user;
  char val[64] = "", skipped[32] = "";
  if (!isnan(e->val_acc))
    snprintf(val, sizeof val, "  val loss %.4f acc %.4f%s", (double)e->val_loss,
             (double)e->val_acc, e->best ? " (best)" : "");
  if (e->skipped) snprintf(skipped, sizeof skipped, "  skipped %lld", (long long)e->skipped);
  progress_line(R->bar, "epoch %lld/%d  loss %.4f  train acc %.4f%s%s  %.1f s",
                (long long)e->epoch + 1, R->c->run.epochs, (double)e->train_loss,
                (double)e->train_acc, val, skipped, e->seconds);
  R->epoch_done = 0;
  progress_start(R->bar, R->steps_per_epoch);
  return true;
}

static bool root(const run *R) { return !R->dist || rg_dist_rank(R->dist) == 0; }

static void describe(run *R) {
  const rg_dataset *train = R->d.train;
  char shape[512];
  int used = snprintf(shape, sizeof shape, "%d", R->d.features);
  for (int i = 0; i < rg_mlp_depth(R->s.mlp) && used > 0 && (size_t)used < sizeof shape; i++)
    used += snprintf(shape + used, sizeof shape - (size_t)used, "-%lld",
                     (long long)rg_tensor_shape(rg_mlp_weight(R->s.mlp, i)).dim[0]);
  int n;
  int64_t params = 0;
  rg_tensor *const *all = rg_params(R->s.ctx, &n);
  for (int i = 0; i < n; i++) params += rg_tensor_is_param(all[i]) ? rg_tensor_numel(all[i]) : 0;
  progress_line(R->bar, "model %s (%lld parameters); %lld training, %lld validation, %lld test "
                "rows; isa %s", shape, (long long)params, (long long)train->n,
                (long long)R->d.val->n, (long long)R->d.test->n, rg_ctx_isa(R->s.ctx));
}

/* The trainer over the session's model, with the command's callbacks. */
static rg_status make_trainer(run *R) {
  const train_config *c = R->c;
  rg_trainer_config rc = c->run;
  rc.seed = c->seed;
  rc.diagnostics = c->log_csv != NULL;
  rc.diag_vanish = c->vanish;
  rc.diag_explode = c->explode;
  rc.on_step = on_step;
  rc.on_epoch = on_epoch;
  rc.user = R;
  R->tr = rg_trainer_new(R->s.mlp, R->s.opt, R->d.train, R->d.val, &rc);
  int64_t batch = rc.batch < R->d.train->n ? rc.batch : R->d.train->n;
  R->steps_per_epoch = (R->d.train->n + batch - 1) / batch;
  R->alerts = (train_alerts){.vanish = c->vanish, .explode = c->explode, .every = ALERT_EVERY,
                             .last_line = -1};
  return session_status(&R->s);
}

/* Session, data, trainer and, with --load, the saved state. */
static rg_status prepare(run *R) {
  const train_config *c = R->c;
  train_result *r = R->r;
  if (session_open(&R->s, c) != RG_OK) return session_status(&R->s);
  r->status = train_data_prepare(R->s.ctx, c, &R->d, r->message, sizeof r->message);
  if (r->status != RG_OK) return r->status;
  if (session_build(&R->s, c, R->d.features, R->d.classes, R->d.standardizer) != RG_OK ||
      make_trainer(R) != RG_OK)
    return session_status(&R->s);
  if (c->load_path && rg_checkpoint_load(R->s.ctx, c->load_path, NULL) != RG_OK)
    return session_status(&R->s);
  return RG_OK;
}

/* rg_dist over comm, agreeing on the configuration; every rank gets here
 * even when its own setup failed, so that none waits for it. */
static rg_status join(run *R, const train_dist *dist) {
  if (!R->s.ctx) return RG_ENOMEM;
  R->dist = rg_dist_new(R->s.ctx, dist->comm, &dist->cfg);
  if (R->dist && rg_dist_check_config(R->dist, dist->config_text) == RG_OK)
    rg_trainer_set_dist(R->tr, R->dist);
  return session_status(&R->s);
}

static rg_status open_outputs(run *R) {
  const train_config *c = R->c;
  if (!root(R)) return RG_OK;
  if (!c->quiet) R->bar = progress_new(stderr);
  if (c->log_csv && !train_log_open(&R->log, c->log_csv, R->r->message, sizeof R->r->message))
    return RG_EIO;
  describe(R);
  if (c->load_path)
    progress_line(R->bar, "resuming %s after step %lld (epoch %lld)", c->load_path,
                  (long long)rg_trainer_steps(R->tr), (long long)rg_trainer_epochs(R->tr) + 1);
  progress_start(R->bar, R->steps_per_epoch);
  return RG_OK;
}

static void finish(run *R, const rg_train_report *rep, int64_t steps_before) {
  train_result *r = R->r;
  r->steps = rep->steps;
  r->diverged_step = rep->diverged_step;
  r->final_loss = rep->train_loss;
  r->val_acc = rep->val_acc;
  r->seconds = rep->seconds;
  r->step_heap_allocs = rep->step_heap_allocs;
  r->stopped_early = rep->stopped_early;
  r->interrupted = rep->stopped_by_callback && interrupt_requested();
  int64_t ran = rep->steps - steps_before;
  r->seconds_per_epoch = ran > 0 ? rep->seconds * (double)R->steps_per_epoch / (double)ran : 0.0;
  if (rep->diverged_step >= 0) snprintf(r->message, sizeof r->message, "%s", rep->message);
  double acc;
  rg_mlp_evaluate(R->s.mlp, R->d.test, 0, NULL, &acc);
  r->test_acc = (float)acc;
  rg_mlp_evaluate(R->s.mlp, R->d.train, TRAIN_EVAL_ROWS, NULL, &acc);
  r->train_acc = (float)acc;
  r->sparsity = session_sparsity(&R->s);
}

static train_result run_all(const train_config *c, const train_dist *dist, rg_step_fn on_step,
                            void *user) {
  train_result r = {.diverged_step = -1, .train_acc = NAN, .val_acc = NAN, .test_acc = NAN,
                    .final_loss = NAN};
  run R = {.c = c, .r = &r, .user_step = on_step, .user = user};
  rg_status st = prepare(&R);
  if (dist) st = join(&R, dist);
  if (st == RG_OK) st = open_outputs(&R);
  if (st == RG_OK) {
    int64_t before = rg_trainer_steps(R.tr);
    rg_train_report rep;
    rg_trainer_run(R.tr, &rep);
    if (session_status(&R.s) == RG_OK) finish(&R, &rep, before);
  }
  char why[512];
  if (!train_log_close(&R.log, why, sizeof why) && r.status == RG_OK) {
    r.status = RG_EIO;
    snprintf(r.message, sizeof r.message, "%s", why);
  }
  if (r.status == RG_OK && session_status(&R.s) != RG_OK) {
    r.status = session_status(&R.s);
    snprintf(r.message, sizeof r.message, "%s", session_message(&R.s));
  } else if (r.status == RG_OK && st != RG_OK) {
    r.status = st;
  }
  progress_free(R.bar);
  rg_trainer_free(R.tr);
  rg_dist_free(R.dist);
  train_data_free(&R.d);
  session_close(&R.s);
  return r;
}

train_result train_run(const train_config *c, rg_step_fn on_step, void *user) {
  return run_all(c, NULL, on_step, user);
}

train_result train_run_dist(const train_config *c, const train_dist *dist) {
  return run_all(c, dist, NULL, NULL);
}
