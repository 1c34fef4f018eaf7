/* The training loop shared by `regrad train` and `regrad study` (trainer.h).
 *
 * One step: batch -> forward in training mode -> cross-entropy (+ label
 * smoothing) + penalty over the weights (session_loss) -> backward -> one statistics pass
 * over the gradients (per-layer norms for the observer) -> clipping -> the
 * optimizer step at the schedule's learning rate, with a deferred clipping
 * scale fused into it -> observer -> zero the gradients, reset the tape.
 * Every object a step uses is made before the first step, so steps after the
 * first allocate nothing (train_result.step_heap_allocs counts any).
 *
 * A non-finite loss or gradient sets diverged_step (the first such step) and
 * is handled by the nonfinite policy: error stops the run before the update
 * (the weights keep their last finite values), propagate takes the update
 * and stops, skip skips the update, zero updates with zero gradients; the
 * last two keep training. Divergence is a result, not an error: the status
 * stays RG_OK and message says what was not finite. */
#include "trainer.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "progress.h"
#include "session.h"
#include "train_data.h"

#define TRAIN_EVAL_ROWS 10000

void train_config_defaults(train_config *c) {
  memset(c, 0, sizeof *c);
  c->val_fraction = 1.0 / 12.0;
  c->model = (rg_mlp_config){.hidden = 2, .widths = {256, 256}, .activation = RG_RELU,
                             .leaky_slope = 0.01f};
  c->init = RG_INIT_KAIMING_UNIFORM;
  c->init_scale = 0.05f;
  c->l1_ratio = 0.5f;
  c->optim = (rg_optim_config){.kind = RG_SGD, .lr = 0.05f, .momentum = 0.9f};
  c->schedule = (rg_schedule){.kind = RG_SCHED_CONSTANT, .lr0 = 0.05f, .step_size = 1000,
                              .gamma = 0.1f, .power = 1.0f, .k = 1e-3f};
  c->clip = CLIP_NONE;
  c->clip_value = 1.0f;
  c->clip_max_norm = 1.0f;
  c->clip_norm_type = 2.0f;
  c->agc_lambda = 0.01f;
  c->ema = (rg_ema_clip_config){.factor = 2.0f, .beta = 0.99f, .warmup = 20};
  c->nonfinite = RG_NONFINITE_ERROR;
  c->epochs = 5;
  c->batch = 128;
  c->seed = 1;
}

/* Everything a run keeps across steps. */
typedef struct loop {
  const train_config *c;
  session *s;
  train_data *d;
  train_result *r;
  step_observer observer;
  void *user;
  rg_schedule schedule;
  rg_batcher *batches;
  rg_grad_report *grads;
  rg_ema_clipper *ema;
  rg_diag *diag;
  FILE *log;
  progress *bar;
  float layer_norms[SESSION_MAX_DEPTH];
  int64_t step, steps_per_epoch, steps_run;
  int64_t min_rows; /* smaller batches are left out: batch norm needs 2 rows */
  int epoch;
  bool stop;
  /* the epoch so far: sum of loss x rows, rows and correct predictions of
   * the steps with a finite loss and gradient, and the steps skipped */
  double epoch_loss;
  int64_t epoch_rows, epoch_correct, epoch_skipped;
} loop;

/* Clips the gradients per c->clip; *scale is the coefficient the optimizer
 * applies (deferred by the global-norm clippers), *skip a refused step. */
static void clip(loop *L, float *scale, bool *skip) {
  const train_config *c = L->c;
  rg_ctx *ctx = L->s->ctx;
  rg_tensor *const *p = L->s->trainable;
  int n = L->s->n_trainable;
  rg_clip_opts o = {.nonfinite = c->nonfinite, .defer_scale = true};
  rg_clip_result r = {.scale = 1.0f};
  switch (c->clip) {
    case CLIP_VALUE: rg_clip_grad_value(ctx, p, n, c->clip_value, &o, &r); break;
    case CLIP_NORM:
      rg_clip_grad_norm(ctx, p, n, c->clip_max_norm, c->clip_norm_type, &o, &r);
      break;
    case CLIP_PER_TENSOR: rg_clip_grad_norm_per_tensor(ctx, p, n, c->clip_max_norm, &o, &r); break;
    case CLIP_AGC: rg_clip_agc(ctx, p, n, c->agc_lambda, L->s->classifier, &o, &r); break;
    case CLIP_EMA: rg_ema_clip(L->ema, p, n, &o, &r); break;
    default: break;
  }
  *scale = r.scale;
  *skip = r.skip;
}

/* Records the divergence and applies the nonfinite policy; returns whether
 * the optimizer should still step. */
static bool on_nonfinite(loop *L, step_info *info) {
  if (L->r->diverged_step < 0) {
    L->r->diverged_step = info->step;
    int bad = 0;
    while (bad < L->s->n_trainable - 1 && L->grads->tensor_linf[bad] <= FLT_MAX) bad++;
    if (!isfinite(info->loss))
      snprintf(L->r->message, sizeof L->r->message, "step %lld: the loss is %g",
               (long long)info->step, (double)info->loss);
    else
      snprintf(L->r->message, sizeof L->r->message,
               "step %lld: the gradient of \"%s\" is not finite", (long long)info->step,
               rg_tensor_name(L->s->trainable[bad]));
  }
  switch (L->c->nonfinite) {
    case RG_NONFINITE_SKIP: info->skipped = true; return false;
    case RG_NONFINITE_ZERO: rg_zero_grad(L->s->ctx); return true;
    case RG_NONFINITE_PROPAGATE: L->stop = true; return true;
    default: L->stop = true; return false;
  }
}

static void train_step(loop *L, const float *x, const int32_t *y, int64_t rows) {
  session *s = L->s;
  rg_ctx *ctx = s->ctx;
  rg_tensor *in = rg_tensor_view(ctx, rg_shape2(rows, L->d->features), x);
  rg_tensor *logits = rg_mlp_forward(s->mlp, in);
  rg_tensor *loss = session_loss(s, L->c, logits, y);
  if (rg_backward(ctx, loss) != RG_OK ||
      rg_grad_measure(ctx, s->trainable, s->n_trainable, L->grads) != RG_OK) {
    L->stop = true;
    return;
  }
  step_info info = {.step = L->step, .epoch = L->epoch, .loss = rg_tensor_data(loss)[0],
                    .lr = rg_schedule_lr(&L->schedule, L->step), .grad_norm = L->grads->global_l2,
                    .layers = s->depth, .layer_grad_norm = L->layer_norms};
  info.finite = isfinite(info.loss) && L->grads->finite;
  for (int i = 0; i < s->depth; i++) L->layer_norms[i] = L->grads->tensor_l2[s->weight_slot[i]];
  if (info.finite) {
    L->epoch_correct += count_correct(rg_tensor_data(logits), rows, L->d->classes, y);
    L->epoch_loss += (double)info.loss * (double)rows;
    L->epoch_rows += rows;
  }
  if (L->diag) rg_diag_before_step(L->diag);
  float scale = 1.0f;
  bool update = true;
  if (!info.finite)
    update = on_nonfinite(L, &info);
  else
    clip(L, &scale, &info.skipped);
  if (update && !info.skipped) rg_optim_step(s->opt, info.lr, scale);
  L->epoch_skipped += info.skipped;
  if (L->diag && rg_diag_after_step(L->diag) == RG_OK) rg_diag_write_csv(L->diag, L->log, L->step);
  if (L->observer) L->observer(&info, L->user);
  rg_zero_grad(ctx);
  rg_tape_reset(ctx);
  L->step++;
  L->steps_run++;
  if (rg_ctx_status(ctx) != RG_OK || (L->c->max_steps > 0 && L->step >= L->c->max_steps))
    L->stop = true;
}

static void save_checkpoint(loop *L) {
  rg_train_state st = {L->step, L->epoch + 1};
  if (rg_checkpoint_save(L->s->ctx, L->c->save_path, &st) != RG_OK) L->stop = true;
}

static void run_epoch(loop *L) {
  const float *x;
  const int32_t *y;
  int64_t rows, done = 0;
  L->epoch_loss = 0.0;
  L->epoch_rows = L->epoch_correct = L->epoch_skipped = 0;
  double started = progress_now();
  progress_start(L->bar, L->steps_per_epoch);
  while (!L->stop && (rows = rg_batcher_next(L->batches, &x, &y)) > 0) {
    if (rows < L->min_rows) continue;
    uint64_t allocs = rg_ctx_stats(L->s->ctx).heap_allocs;
    train_step(L, x, y, rows);
    if (L->steps_run > 1)
      L->r->step_heap_allocs += (int64_t)(rg_ctx_stats(L->s->ctx).heap_allocs - allocs);
    done++;
    progress_update(L->bar, done, "epoch %d/%d  loss %.4f  acc %.4f", L->epoch + 1, L->c->epochs,
                    L->epoch_loss / (double)L->epoch_rows,
                    (double)L->epoch_correct / (double)L->epoch_rows);
  }
  if (rg_ctx_status(L->s->ctx) != RG_OK) return;
  L->r->final_loss = L->epoch_rows ? (float)(L->epoch_loss / (double)L->epoch_rows) : NAN;
  L->r->train_acc = L->epoch_rows ? (float)L->epoch_correct / (float)L->epoch_rows : NAN;
  L->r->val_acc = (float)session_accuracy(L->s, L->d->val, 0);
  char val[32] = "", skipped[32] = "";
  if (L->d->val->n) snprintf(val, sizeof val, "  val acc %.4f", (double)L->r->val_acc);
  if (L->epoch_skipped)
    snprintf(skipped, sizeof skipped, "  skipped %lld", (long long)L->epoch_skipped);
  progress_line(L->bar, "epoch %d/%d  loss %.4f  train acc %.4f%s%s  %.1f s", L->epoch + 1,
                L->c->epochs, (double)L->r->final_loss, (double)L->r->train_acc, val, skipped,
                progress_now() - started);
  if (done == L->steps_per_epoch && L->c->save_path) save_checkpoint(L);
}

/* The schedule with total_steps defaulting to the whole run after warmup. */
static rg_status prepare_schedule(loop *L) {
  L->schedule = L->c->schedule;
  int64_t total = (int64_t)L->c->epochs * L->steps_per_epoch;
  if (L->c->max_steps > 0 && L->c->max_steps < total) total = L->c->max_steps;
  int64_t after_warmup = total - L->schedule.warmup_steps;
  if (L->schedule.total_steps == 0) L->schedule.total_steps = after_warmup > 1 ? after_warmup : 1;
  return rg_schedule_check(L->s->ctx, &L->schedule);
}

static rg_status open_log(loop *L) {
  if (!L->c->log_csv) return RG_OK;
  L->diag = rg_diag_new(L->s->ctx, 0.0f, 0.0f);
  if (!L->diag) return rg_ctx_status(L->s->ctx);
  L->log = fopen(L->c->log_csv, "w");
  if (!L->log) {
    snprintf(L->r->message, sizeof L->r->message, "%s: cannot open for writing: %s",
             L->c->log_csv, strerror(errno));
    return RG_EIO;
  }
  fprintf(L->log, "%s\n", rg_diag_csv_header());
  return RG_OK;
}

/* Batcher, gradient report, clipper, log and checkpoint: everything made
 * once before the first step. Returns the first epoch to run. */
static rg_status prepare_loop(loop *L, int *first_epoch) {
  session *s = L->s;
  const train_config *c = L->c;
  *first_epoch = 0;
  int64_t batch = c->batch < L->d->train->n ? c->batch : L->d->train->n;
  L->min_rows = c->model.batch_norm ? 2 : 1;
  L->steps_per_epoch = L->d->train->n / batch + (L->d->train->n % batch >= L->min_rows);
  if (batch < L->min_rows) {
    snprintf(L->r->message, sizeof L->r->message,
             "batch norm needs batches of at least 2 rows, and batch is %lld", (long long)batch);
    return RG_EINVAL;
  }
  L->batches = rg_batcher_new(s->ctx, L->d->train, c->batch, true, c->seed);
  L->grads = rg_grad_report_new(s->ctx, s->n_trainable);
  if (c->clip == CLIP_EMA) L->ema = rg_ema_clipper_new(s->ctx, &c->ema);
  if (rg_ctx_status(s->ctx) != RG_OK || prepare_schedule(L) != RG_OK) return rg_ctx_status(s->ctx);
  if (c->load_path) {
    rg_train_state st;
    if (session_load(s, c->load_path, &st) != RG_OK) return rg_ctx_status(s->ctx);
    L->step = st.step;
    *first_epoch = (int)st.epoch;
    /* The batcher shuffles by (seed, epoch): walk it to the saved epoch. */
    const float *x;
    const int32_t *y;
    while (rg_batcher_epoch(L->batches) < st.epoch) rg_batcher_next(L->batches, &x, &y);
    progress_line(L->bar, "resuming %s after epoch %lld, step %lld", c->load_path,
                  (long long)st.epoch, (long long)st.step);
  }
  return open_log(L);
}

static void describe_run(loop *L) {
  session *s = L->s;
  char shape[256];
  int used = snprintf(shape, sizeof shape, "%d", L->d->features);
  for (int i = 0; i < s->depth && used < (int)sizeof shape; i++)
    used += snprintf(shape + used, sizeof shape - (size_t)used, "-%lld",
                     (long long)rg_tensor_shape(s->weights[i]).dim[0]);
  int64_t params = 0;
  for (int i = 0; i < s->n_trainable; i++) params += rg_tensor_numel(s->trainable[i]);
  progress_line(L->bar, "model %s (%lld parameters); %lld training, %lld validation, %lld test "
                "rows; isa %s", shape, (long long)params, (long long)L->d->train->n,
                (long long)L->d->val->n, (long long)L->d->test->n, rg_ctx_isa(s->ctx));
}

static void train_epochs(loop *L) {
  int first_epoch;
  rg_status st = prepare_loop(L, &first_epoch);
  if (st != RG_OK) {
    L->r->status = st;
    return;
  }
  describe_run(L);
  double started = progress_now();
  for (L->epoch = first_epoch; L->epoch < L->c->epochs && !L->stop; L->epoch++) run_epoch(L);
  double seconds = progress_now() - started;
  if (L->steps_run > 0)
    L->r->seconds_per_epoch = seconds * (double)L->steps_per_epoch / (double)L->steps_run;
  if (L->log && fclose(L->log) != 0 && L->r->status == RG_OK) L->r->status = RG_EIO;
  L->log = NULL;
}

static void evaluate(session *s, const train_data *d, train_result *r) {
  r->train_acc = (float)session_accuracy(s, d->train, TRAIN_EVAL_ROWS);
  r->val_acc = (float)session_accuracy(s, d->val, 0);
  r->test_acc = (float)session_accuracy(s, d->test, 0);
  r->sparsity = session_sparsity(s);
}

train_result train_run(const train_config *c, step_observer observer, void *user) {
  double started = progress_now();
  train_result r = {.diverged_step = -1, .train_acc = NAN, .val_acc = NAN, .test_acc = NAN,
                    .final_loss = NAN};
  session s;
  train_data d = {0};
  loop L = {.c = c, .s = &s, .d = &d, .r = &r, .observer = observer, .user = user};
  if (session_open(&s, c) == RG_OK)
    r.status = train_data_prepare(s.ctx, c, &d, r.message, sizeof r.message);
  if (r.status == RG_OK && session_build(&s, c, d.features, d.classes, d.standardizer) == RG_OK) {
    L.bar = c->quiet ? NULL : progress_new(stderr);
    train_epochs(&L);
    if (r.status == RG_OK && rg_ctx_status(s.ctx) == RG_OK) evaluate(&s, &d, &r);
  }
  r.steps = L.step;
  if (r.status == RG_OK && session_status(&s) != RG_OK) r.status = session_status(&s);
  if (r.status != RG_OK && session_status(&s) != RG_OK)
    snprintf(r.message, sizeof r.message, "%s", session_message(&s));
  if (L.log) fclose(L.log);
  rg_diag_free(L.diag);
  rg_ema_clipper_free(L.ema);
  rg_grad_report_free(L.grads);
  rg_batcher_free(L.batches);
  progress_free(L.bar);
  train_data_free(&d);
  session_close(&s);
  r.seconds = progress_now() - started;
  return r;
}
