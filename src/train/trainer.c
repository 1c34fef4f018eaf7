/* The training loop (regrad.h, "trainer"): one step is batch -> forward in
 * training mode -> cross-entropy + penalty -> backward (or rg_dist_backward)
 * -> one statistics pass over the gradients -> clipping -> the optimizer step
 * at the schedule's rate, with a deferred clipping scale fused into it ->
 * diagnostics -> the step callback. Every object a step uses is made by
 * rg_trainer_new, so steps after the first allocate nothing. The trainer's
 * own counters are a state record (trainer_state.c), so checkpoints resume
 * it bit for bit. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "train/layer_stats.h"
#include "train/mlp.h"
#include "train/trainer.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The loss of logits against labels: cross-entropy plus the penalty. */
static rg_tensor *objective(rg_trainer *t, rg_tensor *logits, const int32_t *labels) {
  const rg_trainer_config *c = &t->cfg;
  rg_ctx *ctx = t->ctx;
  rg_tensor *loss = rg_cross_entropy(ctx, logits, labels, c->label_smoothing);
  rg_tensor *const *w = t->weights;
  switch (c->penalty) {
    case RG_PENALTY_L1: return rg_add(ctx, loss, rg_l1_penalty(ctx, w, t->depth, c->penalty_lambda));
    case RG_PENALTY_L2: return rg_add(ctx, loss, rg_l2_penalty(ctx, w, t->depth, c->penalty_lambda));
    case RG_PENALTY_ELASTIC:
      return rg_add(ctx, loss,
                    rg_elastic_net_penalty(ctx, w, t->depth, c->penalty_lambda, c->l1_ratio));
    default: return loss;
  }
}

/* rg_shard_loss_fn of a data-parallel step: rows of the current batch. */
static rg_tensor *shard_loss(rg_ctx *ctx, int64_t row0, int64_t rows, void *user) {
  rg_trainer *t = user;
  int64_t f = t->train->features;
  rg_tensor *in = rg_tensor_view(ctx, rg_shape2(rows, f), t->x + row0 * f);
  return objective(t, rg_mlp_forward(t->mlp, in), t->y + row0);
}

/* The gradient of the current batch into the parameters' gradients, and
 * its loss; correct predictions into *correct (-1 when unknown). */
static rg_status gradient(rg_trainer *t, int64_t rows, float *loss, int64_t *correct) {
  rg_ctx *ctx = t->ctx;
  *correct = -1;
  if (t->dist) return rg_dist_backward(t->dist, rows, shard_loss, t, loss);
  rg_tensor *in = rg_tensor_view(ctx, rg_shape2(rows, t->train->features), t->x);
  rg_tensor *logits = rg_mlp_forward(t->mlp, in);
  rg_tensor *l = objective(t, logits, t->y);
  if (rg_backward(ctx, l) != RG_OK) return ctx->status;
  /* Op outputs are handles (internal.h): read them through the accessors. */
  *loss = rg_tensor_data(l)[0];
  *correct = rg_count_correct(rg_tensor_data(logits), rows, rg_tensor_shape(logits).dim[1], t->y);
  return RG_OK;
}

/* Clips per the configuration; *scale is the coefficient the optimizer
 * applies (deferred by the global-norm clippers), *skip a refused step. */
static void clip(rg_trainer *t, float *scale, bool *skip) {
  const rg_clip_config *c = &t->cfg.clip;
  rg_ctx *ctx = t->ctx;
  rg_tensor *const *p = t->trainable;
  int n = t->n_trainable;
  rg_clip_opts o = {.nonfinite = c->nonfinite, .defer_scale = true};
  rg_clip_result r = {.scale = 1.0f};
  switch (c->mode) {
    case RG_CLIP_VALUE: rg_clip_grad_value(ctx, p, n, c->value, &o, &r); break;
    case RG_CLIP_NORM: rg_clip_grad_norm(ctx, p, n, c->max_norm, c->norm_type, &o, &r); break;
    case RG_CLIP_PER_TENSOR: rg_clip_grad_norm_per_tensor(ctx, p, n, c->max_norm, &o, &r); break;
    case RG_CLIP_AGC: rg_clip_agc(ctx, p, n, c->agc_lambda, t->exempt, &o, &r); break;
    case RG_CLIP_EMA: rg_ema_clip(t->ema, p, n, &o, &r); break;
    default: break;
  }
  *scale = r.scale;
  *skip = r.skip;
}

/* Records a divergence and applies the non-finite policy; returns whether
 * the optimizer should still step. */
static bool on_nonfinite(rg_trainer *t, rg_step_info *info) {
  if (t->diverged_step < 0) {
    t->diverged_step = info->step;
    int bad = 0;
    while (bad < t->n_trainable - 1 && t->grads->tensor_linf[bad] <= FLT_MAX) bad++;
    if (!isfinite(info->loss))
      snprintf(t->message, sizeof t->message, "step %lld: the loss is %g", (long long)info->step,
               (double)info->loss);
    else
      snprintf(t->message, sizeof t->message, "step %lld: the gradient of \"%s\" is not finite",
               (long long)info->step, t->trainable[bad]->name);
  }
  switch (t->cfg.clip.nonfinite) {
    case RG_NONFINITE_SKIP: info->skipped = true; return false;
    case RG_NONFINITE_ZERO: rg_zero_grad(t->ctx); return true;
    case RG_NONFINITE_PROPAGATE: t->halt = HALT_DIVERGED; return true;
    default: t->halt = HALT_DIVERGED; return false;
  }
}

/* Whether this step reports layer statistics (regrad.h, layer_stats_every):
 * step 0 and every N, the last step, the first non-finite one. */
static bool layer_stats_due(const rg_trainer *t, bool finite) {
  int64_t every = t->cfg.layer_stats_every;
  if (every <= 0) return false;
  return t->step % every == 0 || (t->cfg.max_steps > 0 && t->step == t->cfg.max_steps - 1) ||
         (!finite && t->diverged_step < 0);
}

/* The layer statistics read from the tape and the gradients (before the
 * update and rg_tape_reset). */
static void layer_stats_before(rg_trainer *t) {
  rg_layer_stats_outputs(t->ctx, t->mlp, !t->dist, t->layer_stats);
  for (int i = 0; i < t->depth; i++)
    rg_layer_stats_weight_grad(t->weights[i], t->layer_norms[i], &t->layer_stats[i]);
}

/* The update ratios, from the diagnostics' rows after the step. */
static void layer_stats_after(rg_trainer *t, bool measured) {
  const rg_param_diag *rows = rg_diag_params(t->diag, NULL);
  for (int i = 0; i < t->depth; i++) {
    int j = t->diag_slot[i];
    t->layer_stats[i].update_ratio = measured && j >= 0 ? rows[j].update_ratio : NAN;
  }
}

/* One step on the rows at t->x, t->y. */
static void step(rg_trainer *t, int64_t rows) {
  rg_ctx *ctx = t->ctx;
  float loss = NAN;
  int64_t correct;
  if (gradient(t, rows, &loss, &correct) != RG_OK ||
      rg_grad_measure(ctx, t->trainable, t->n_trainable, t->grads) != RG_OK) {
    t->halt = HALT_ERROR;
    return;
  }
  rg_step_info info = {.step = t->step, .epoch = t->epoch, .loss = loss,
                       .lr = rg_schedule_lr(&t->schedule, t->step),
                       .grad_norm = t->grads->global_l2, .clip_scale = 1.0f, .layers = t->depth,
                       .layer_grad_norm = t->layer_norms, .n_params = t->n_trainable,
                       .params = t->trainable, .param_grad_norm = t->grads->tensor_l2};
  info.finite = isfinite(loss) && t->grads->finite;
  for (int i = 0; i < t->depth; i++) t->layer_norms[i] = t->grads->tensor_l2[t->weight_slot[i]];
  bool stats = layer_stats_due(t, info.finite);
  if (stats) layer_stats_before(t);
  bool diag = t->diag && (t->cfg.diagnostics || stats);
  if (diag) rg_diag_before_step(t->diag);
  bool update = true;
  if (!info.finite)
    update = on_nonfinite(t, &info);
  else
    clip(t, &info.clip_scale, &info.skipped);
  if (update && !info.skipped) rg_optim_step(t->opt, info.lr, info.clip_scale);
  bool measured = diag && rg_diag_after_step(t->diag) == RG_OK;
  if (measured && t->cfg.diagnostics) {
    info.diag = rg_diag_params(t->diag, &info.n_diag);
    rg_diag_alerts(t->diag, &info.vanishing, &info.exploding);
  }
  if (stats) {
    layer_stats_after(t, measured);
    info.layer_stats = t->layer_stats;
  }
  if (info.finite) {
    t->epoch_loss += (double)loss * (double)rows;
    t->epoch_rows += rows;
    t->epoch_correct += correct;
  }
  t->epoch_skipped += info.skipped;
  if (ctx->status != RG_OK) t->halt = HALT_ERROR;
  rg_zero_grad(ctx);
  rg_tape_reset(ctx);
  t->step++;
  t->epoch_steps++;
  if (t->cfg.on_step && !t->cfg.on_step(&info, t->cfg.user) && !t->halt) t->halt = HALT_CALLBACK;
}

static bool root(const rg_trainer *t) { return !t->dist || rg_dist_rank(t->dist) == 0; }

/* A checkpoint at save_path (rank 0 only; an error stops training). */
static void save(rg_trainer *t, const char *path) {
  if (!root(t) || !path) return;
  rg_train_state st = {t->step, t->epoch};
  if (rg_checkpoint_save(t->ctx, path, &st) != RG_OK) t->halt = HALT_ERROR;
}

/* save_every: the latest at save_path and, with keep K, the last K as
 * "<save_path>.step-<step>" (the one K saves back is removed). */
static void save_periodic(rg_trainer *t) {
  const rg_trainer_config *c = &t->cfg;
  if (!c->save_path || c->save_every <= 0 || t->step % c->save_every != 0) return;
  save(t, c->save_path);
  if (c->keep <= 0 || t->halt || !root(t)) return;
  char path[RG_TRAINER_PATH];
  snprintf(path, sizeof path, "%s.step-%lld", c->save_path, (long long)t->step);
  save(t, path);
  int64_t old = t->step - (int64_t)c->keep * c->save_every;
  if (old <= 0) return;
  snprintf(path, sizeof path, "%s.step-%lld", c->save_path, (long long)old);
  remove(path);
}

/* The validation metrics of the model as it is now (computed once per
 * step count). */
static void validate(rg_trainer *t, float *loss, float *acc) {
  if (t->val_step != t->step) {
    double l = NAN, a = NAN;
    if (t->val && t->val->n > 0 && rg_mlp_evaluate(t->mlp, t->val, 0, &l, &a) != RG_OK)
      t->halt = HALT_ERROR;
    t->val_loss = (float)l;
    t->val_acc = (float)a;
    t->val_step = t->step;
  }
  *loss = t->val_loss;
  *acc = t->val_acc;
}

static void epoch_metrics(const rg_trainer *t, float *loss, float *acc) {
  bool have = t->epoch_rows > 0;
  *loss = have ? (float)(t->epoch_loss / (double)t->epoch_rows) : NAN;
  *acc = have && !t->dist ? (float)t->epoch_correct / (float)t->epoch_rows : NAN;
}

/* The end of a complete epoch: validation, early stopping, the callback and
 * the checkpoint. */
static void end_epoch(rg_trainer *t, double started) {
  rg_epoch_info e = {.epoch = t->epoch, .steps = t->epoch_steps, .skipped = t->epoch_skipped};
  epoch_metrics(t, &e.train_loss, &e.train_acc);
  t->last_train_loss = e.train_loss;
  t->last_train_acc = e.train_acc;
  validate(t, &e.val_loss, &e.val_acc);
  t->epoch++;
  t->epoch_loss = 0.0;
  t->epoch_rows = t->epoch_correct = t->epoch_skipped = t->epoch_steps = 0;
  if (t->halt) return;
  if (e.val_loss < t->best_val_loss) { /* a NaN loss is never best */
    e.best = true;
    t->best_val_loss = e.val_loss;
    t->best_epoch = e.epoch;
    t->bad_epochs = 0;
    rg_trainer_keep_best(t);
  } else {
    t->bad_epochs++;
  }
  if (t->cfg.early_stop > 0 && t->bad_epochs >= t->cfg.early_stop) {
    rg_trainer_restore_best(t);
    t->halt = HALT_EARLY;
  }
  e.seconds = now() - started;
  if (t->cfg.on_epoch && !t->cfg.on_epoch(&e, t->cfg.user) && !t->halt) t->halt = HALT_CALLBACK;
  save(t, t->cfg.save_path);
}

static bool done(const rg_trainer *t) {
  return t->halt || t->epoch >= t->cfg.epochs ||
         (t->cfg.max_steps > 0 && t->step >= t->cfg.max_steps);
}

static void report(rg_trainer *t, rg_train_report *r, double seconds) {
  *r = (rg_train_report){.steps = t->step, .epochs = t->epoch, .diverged_step = t->diverged_step,
                         .best_epoch = t->best_epoch, .best_val_loss = (float)t->best_val_loss,
                         .stopped_early = t->halt == HALT_EARLY,
                         .stopped_by_callback = t->halt == HALT_CALLBACK,
                         .step_heap_allocs = t->step_heap_allocs, .seconds = seconds};
  if (t->best_epoch < 0) r->best_val_loss = NAN;
  snprintf(r->message, sizeof r->message, "%s", t->message);
  if (t->epoch_steps > 0) { /* stopped inside an epoch */
    epoch_metrics(t, &r->train_loss, &r->train_acc);
  } else {
    r->train_loss = t->last_train_loss;
    r->train_acc = t->last_train_acc;
  }
  validate(t, &r->val_loss, &r->val_acc);
}

rg_status rg_trainer_run(rg_trainer *t, rg_train_report *r) {
  static const char fn[] = "rg_trainer_run";
  if (!t) return RG_EINVAL;
  rg_ctx *ctx = t->ctx;
  if (!rg_ctx_ok(ctx)) return rg_ctx_status(ctx);
  for (int i = 0; i < t->n_trainable; i++) /* e.g. a checkpoint saved after a divergence */
    if (!(rg_reduce_amax(ctx, t->trainable[i]->numel, t->trainable[i]->data) <= FLT_MAX)) {
      rg_fail(ctx, RG_ENONFINITE, fn, "parameter \"%s\" holds NaN or infinity before training",
              t->trainable[i]->name);
      return ctx->status;
    }
  double started = now(), epoch_started = started;
  int64_t steps_run = 0;
  t->halt = HALT_NONE;
  t->message[0] = '\0';
  t->step_heap_allocs = 0;
  rg_set_training(ctx, true);
  while (!done(t)) {
    const float *x;
    const int32_t *y;
    int64_t rows = rg_batcher_next(t->batches, &x, &y);
    if (rows < 0) {
      t->halt = HALT_ERROR;
      break;
    }
    if (rows == 0) {
      end_epoch(t, epoch_started);
      epoch_started = now();
      continue;
    }
    if (rows < t->min_rows) continue; /* batch norm: a 1-row batch has no statistics */
    t->x = x;
    t->y = y;
    uint64_t allocs = ctx->stats.heap_allocs;
    step(t, rows);
    if (++steps_run > 1) t->step_heap_allocs += (int64_t)(ctx->stats.heap_allocs - allocs);
    if (!t->halt) save_periodic(t);
  }
  double seconds = now() - started;
  /* Training ended short of a complete epoch's save: save where it is. */
  if ((t->halt == HALT_NONE || t->halt == HALT_CALLBACK) && t->epoch_steps > 0)
    save(t, t->cfg.save_path);
  if (t->dist && rg_dist_check(t->dist) != RG_OK) t->halt = HALT_ERROR;
  if (r) report(t, r, seconds);
  if (t->halt == HALT_ERROR && ctx->status == RG_OK)
    rg_fail(ctx, RG_ESTATE, fn, "training stopped: %s", t->message);
  return ctx->status;
}

rg_tensor *rg_trainer_loss(rg_trainer *t, rg_tensor *x, const int32_t *labels) {
  return t ? objective(t, rg_mlp_forward(t->mlp, x), labels) : NULL;
}

rg_status rg_trainer_set_dist(rg_trainer *t, rg_dist *d) {
  if (!t) return RG_EINVAL;
  if (!rg_ctx_ok(t->ctx)) return rg_ctx_status(t->ctx);
  if (d && rg_dist_context(d) != t->ctx) {
    rg_fail(t->ctx, RG_EINVAL, "rg_trainer_set_dist", "d belongs to another context");
    return t->ctx->status;
  }
  t->dist = d;
  return RG_OK;
}

int64_t rg_trainer_steps(const rg_trainer *t) { return t ? t->step : 0; }
int64_t rg_trainer_epochs(const rg_trainer *t) { return t ? t->epoch : 0; }
