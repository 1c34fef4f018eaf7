/* Making a trainer (regrad.h, "trainer"): the configuration checked field by
 * field, every object a step needs made once, the trainer's state record
 * for checkpoints, and the copies of the best weights for early stopping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "data/data.h"
#include "train/mlp.h"
#include "train/trainer.h"

#define MAX_COUNT ((int64_t)1 << 53) /* counters from files and flags */
#define RECORD 96

/* ------------------------------------------------------------ the record */

static void state_save(const void *obj, uint8_t *rec) {
  const rg_trainer *t = obj;
  const int64_t c[9] = {t->step,          t->epoch,         t->epoch_steps,
                        t->epoch_rows,    t->epoch_correct, t->epoch_skipped,
                        t->diverged_step, t->best_epoch,    t->bad_epochs};
  for (int i = 0; i < 9; i++) rg_put_u64(rec + 8 * i, (uint64_t)c[i]);
  rg_put_f64(rec + 72, t->epoch_loss);
  rg_put_f64(rec + 80, t->best_val_loss);
  rg_put_f32(rec + 88, t->last_train_loss);
  rg_put_f32(rec + 92, t->last_train_acc);
}

static bool state_check(rg_ctx *ctx, const char *fn, const char *where, const void *obj,
                        const uint8_t *rec) {
  (void)obj;
  static const char *const names[9] = {"step",          "epoch",         "epoch_steps",
                                       "epoch_rows",    "epoch_correct", "epoch_skipped",
                                       "diverged_step", "best_epoch",    "bad_epochs"};
  for (int i = 0; i < 9; i++) {
    int64_t v = (int64_t)rg_get_u64(rec + 8 * i), lo = i == 6 || i == 7 ? -1 : 0;
    if (v < lo || v > MAX_COUNT) {
      rg_fail(ctx, RG_EFORMAT, fn, "%s: %s is %lld, expected %lld to 2^53", where, names[i],
              (long long)v, (long long)lo);
      return false;
    }
  }
  double loss = rg_get_f64(rec + 72), best = rg_get_f64(rec + 80);
  if (!(loss >= 0 && loss < INFINITY) || !(best >= 0)) {
    rg_fail(ctx, RG_EFORMAT, fn, "%s: epoch loss %g, best validation loss %g: expected a "
            "finite sum >= 0 and a loss >= 0 (inf before any epoch)", where, loss, best);
    return false;
  }
  return true;
}

static void state_load(void *obj, const uint8_t *rec) {
  rg_trainer *t = obj;
  int64_t *c[9] = {&t->step,          &t->epoch,         &t->epoch_steps,
                   &t->epoch_rows,    &t->epoch_correct, &t->epoch_skipped,
                   &t->diverged_step, &t->best_epoch,    &t->bad_epochs};
  for (int i = 0; i < 9; i++) *c[i] = (int64_t)rg_get_u64(rec + 8 * i);
  t->epoch_loss = rg_get_f64(rec + 72);
  t->best_val_loss = rg_get_f64(rec + 80);
  t->last_train_loss = rg_get_f32(rec + 88);
  t->last_train_acc = rg_get_f32(rec + 92);
  t->val_step = -1;
}

static const rg_state_kind trainer_state = {"trainer", RECORD, state_save, state_check,
                                            state_load};

/* ------------------------------------------------------ configuration */

/* The first bad field of c (its defaults filled in), or NULL. */
static const char *config_error(rg_trainer_config *c, bool have_val, char *why, size_t size) {
  rg_clip_config *k = &c->clip;
  if (k->value == 0.0f) k->value = 1.0f;
  if (k->max_norm == 0.0f) k->max_norm = 1.0f;
  if (k->norm_type == 0.0f) k->norm_type = 2.0f;
  if (k->agc_lambda == 0.0f) k->agc_lambda = 0.01f;
  const struct { bool bad; const char *what; } checks[] = {
      {c->batch < 1 || c->batch > MAX_COUNT, "batch must be 1 to 2^53"},
      {c->epochs < 1, "epochs must be >= 1"},
      {c->max_steps < 0 || c->max_steps > MAX_COUNT, "max_steps must be 0 to 2^53"},
      {(unsigned)k->mode > RG_CLIP_EMA, "clip.mode is not an rg_clip_mode"},
      {!(k->value > 0.0f && k->value <= INFINITY), "clip.value must be > 0"},
      {!(k->max_norm >= 0.0f && k->max_norm <= INFINITY), "clip.max_norm must be >= 0"},
      {k->norm_type != 1.0f && k->norm_type != 2.0f && k->norm_type != INFINITY,
       "clip.norm_type must be 1, 2 or INFINITY"},
      {!(k->agc_lambda > 0.0f && k->agc_lambda < INFINITY), "clip.agc_lambda must be finite, > 0"},
      {(unsigned)k->nonfinite > RG_NONFINITE_PROPAGATE, "clip.nonfinite is not an rg_nonfinite"},
      {!(c->label_smoothing >= 0.0f && c->label_smoothing < 1.0f),
       "label_smoothing must be in [0, 1)"},
      {(unsigned)c->penalty > RG_PENALTY_ELASTIC, "penalty is not an rg_penalty_kind"},
      {!(c->penalty_lambda >= 0.0f && c->penalty_lambda < INFINITY),
       "penalty_lambda must be finite and >= 0"},
      {!(c->l1_ratio >= 0.0f && c->l1_ratio <= 1.0f), "l1_ratio must be in [0, 1]"},
      {c->save_path && (!*c->save_path || strlen(c->save_path) > RG_TRAINER_PATH - 32),
       "save_path must be 1 to 4064 bytes"},
      {c->save_every < 0 || c->save_every > MAX_COUNT, "save_every must be 0 to 2^53"},
      {c->save_every > 0 && !c->save_path, "save_every needs save_path"},
      {c->keep < 0 || (c->keep > 0 && c->save_every == 0), "keep must be >= 0, with save_every"},
      {c->early_stop < 0, "early_stop must be >= 0"},
      {c->early_stop > 0 && !have_val, "early_stop needs a validation set"},
      {!(c->diag_vanish >= 0.0f) || !(c->diag_explode >= 0.0f),
       "diag_vanish and diag_explode must be >= 0"},
      {c->layer_stats_every < 0, "layer_stats_every must be >= 0"},
  };
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
    if (checks[i].bad) {
      snprintf(why, size, "%s", checks[i].what);
      return why;
    }
  return NULL;
}

/* The schedule with total_steps defaulting to the whole run after warm-up. */
static bool resolve_schedule(rg_trainer *t, const char *fn) {
  rg_ctx *ctx = t->ctx;
  t->schedule = t->cfg.schedule;
  if (t->schedule.warmup_steps < 0 || t->schedule.warmup_steps > MAX_COUNT) {
    rg_fail(ctx, RG_EINVAL, fn, "cfg->schedule: warmup_steps is %lld, expected 0 to 2^53",
            (long long)t->schedule.warmup_steps);
    return false;
  }
  int64_t total = MAX_COUNT;
  if (t->steps_per_epoch <= MAX_COUNT / t->cfg.epochs) total = t->cfg.epochs * t->steps_per_epoch;
  if (t->cfg.max_steps > 0 && t->cfg.max_steps < total) total = t->cfg.max_steps;
  int64_t after = total - t->schedule.warmup_steps;
  if (t->schedule.total_steps == 0) t->schedule.total_steps = after > 1 ? after : 1;
  if (rg_schedule_check(ctx, &t->schedule) == RG_OK) return true;
  char why[600];
  snprintf(why, sizeof why, "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  rg_fail(ctx, RG_EINVAL, fn, "cfg->schedule: %s", why);
  return false;
}

static bool data_fits(rg_ctx *ctx, const char *fn, const struct rg_mlp *m, const rg_dataset *ds,
                      const char *arg) {
  if (ds->features != m->cfg.in) {
    rg_fail(ctx, RG_ESHAPE, fn, "%s has %lld features, the model takes %d", arg,
            (long long)ds->features, m->cfg.in);
    return false;
  }
  for (int64_t i = 0; i < ds->n; i++)
    if (ds->y[i] < 0 || ds->y[i] >= m->cfg.out) {
      rg_fail(ctx, RG_ERANGE, fn, "%s->y[%lld] is %d, the model has %d classes", arg,
              (long long)i, (int)ds->y[i], m->cfg.out);
      return false;
    }
  return true;
}

/* -------------------------------------------------------- the objects */

static void *zalloc(rg_ctx *ctx, const char *fn, size_t n, size_t size) {
  void *p = rg_heap_alloc(ctx, fn, n * size);
  if (p) memset(p, 0, n * size);
  return p;
}

/* The model's tensors in creation order: parameters into trainable (with
 * each layer's weight slot and the classifier's exemption), parameters and
 * buffers into kept. */
static bool list_tensors(rg_trainer *t, const char *fn) {
  struct rg_mlp *m = t->mlp;
  t->depth = m->depth;
  int most = 6 * m->depth;
  t->trainable = zalloc(t->ctx, fn, (size_t)most, sizeof *t->trainable);
  t->exempt = zalloc(t->ctx, fn, (size_t)most, sizeof *t->exempt);
  t->kept = zalloc(t->ctx, fn, (size_t)most, sizeof *t->kept);
  t->weights = zalloc(t->ctx, fn, (size_t)m->depth, sizeof *t->weights);
  t->weight_slot = zalloc(t->ctx, fn, (size_t)m->depth, sizeof *t->weight_slot);
  t->layer_norms = zalloc(t->ctx, fn, (size_t)m->depth, sizeof *t->layer_norms);
  if (!t->layer_norms) return false;
  for (int i = 0; i < m->depth; i++) {
    struct rg_mlp_layer *l = &m->layers[i];
    rg_tensor *all[6] = {l->w, l->b, l->gamma, l->beta, l->rmean, l->rvar};
    t->weights[i] = l->w;
    t->weight_slot[i] = t->n_trainable;
    for (int j = 0; j < 6; j++) {
      if (!all[j]) continue;
      t->kept[t->n_kept++] = all[j];
      if (all[j]->kind != RG_PARAM) continue;
      t->exempt[t->n_trainable] = i == m->depth - 1;
      t->trainable[t->n_trainable++] = all[j];
    }
  }
  return true;
}

/* Buffers "best.<name>" for early stopping's best weights. */
static bool make_best(rg_trainer *t, const char *fn) {
  t->best = zalloc(t->ctx, fn, (size_t)t->n_kept, sizeof *t->best);
  for (int i = 0; t->best && i < t->n_kept; i++) {
    char name[512];
    snprintf(name, sizeof name, "best.%s", t->kept[i]->name);
    t->best[i] = rg_persistent_new(t->ctx, fn, RG_BUFFER, name, t->kept[i]->shape,
                                   t->kept[i]->data);
    if (!t->best[i]) return false;
  }
  return t->best != NULL;
}

static void copy_all(rg_tensor **to, rg_tensor **from, int n) {
  for (int i = 0; i < n; i++) memcpy(to[i]->data, from[i]->data, (size_t)to[i]->numel * sizeof(float));
}

void rg_trainer_keep_best(rg_trainer *t) {
  if (t->best) copy_all(t->best, t->kept, t->n_kept);
}

void rg_trainer_restore_best(rg_trainer *t) {
  if (t->best) copy_all(t->kept, t->best, t->n_kept);
}

static void free_arrays(rg_trainer *t) {
  rg_ctx *ctx = t->ctx;
  int most = 6 * t->depth;
  rg_heap_free(ctx, t->trainable, (size_t)most * sizeof *t->trainable);
  rg_heap_free(ctx, t->exempt, (size_t)most * sizeof *t->exempt);
  rg_heap_free(ctx, t->kept, (size_t)most * sizeof *t->kept);
  rg_heap_free(ctx, t->best, (size_t)t->n_kept * sizeof *t->best);
  rg_heap_free(ctx, t->weights, (size_t)t->depth * sizeof *t->weights);
  rg_heap_free(ctx, t->weight_slot, (size_t)t->depth * sizeof *t->weight_slot);
  rg_heap_free(ctx, t->layer_norms, (size_t)t->depth * sizeof *t->layer_norms);
  rg_heap_free(ctx, t->layer_stats, (size_t)t->depth * sizeof *t->layer_stats);
  rg_heap_free(ctx, t->diag_slot, (size_t)t->depth * sizeof *t->diag_slot);
}

/* Layer statistics: their rows, and the rg_diag that measures the update
 * ratios (the diagnostics' own when they are on), with each weight's row. */
static bool make_layer_stats(rg_trainer *t, const char *fn) {
  const rg_trainer_config *c = &t->cfg;
  t->layer_stats = zalloc(t->ctx, fn, (size_t)t->depth, sizeof *t->layer_stats);
  t->diag_slot = zalloc(t->ctx, fn, (size_t)t->depth, sizeof *t->diag_slot);
  if (!t->diag_slot || (!t->diag && !(t->diag = rg_diag_new(t->ctx, c->diag_vanish,
                                                              c->diag_explode))))
    return false;
  int n;
  const rg_param_diag *rows = rg_diag_params(t->diag, &n);
  for (int i = 0; i < t->depth; i++) {
    t->diag_slot[i] = -1;
    for (int j = 0; j < n && t->diag_slot[i] < 0; j++)
      if (strcmp(rows[j].name, t->weights[i]->name) == 0) t->diag_slot[i] = j;
  }
  return true;
}

void rg_trainer_free(rg_trainer *t) {
  if (!t) return;
  rg_ctx *ctx = t->ctx;
  rg_state_remove(ctx, t);
  rg_diag_free(t->diag);
  rg_ema_clipper_free(t->ema);
  rg_grad_report_free(t->grads);
  rg_batcher_free(t->batches);
  free_arrays(t);
  rg_heap_free(ctx, t, sizeof *t);
}

rg_trainer *rg_trainer_new(rg_mlp *m, rg_optim *opt, const rg_dataset *train,
                           const rg_dataset *val, const rg_trainer_config *cfg) {
  static const char fn[] = "rg_trainer_new";
  if (!m) return NULL;
  rg_ctx *ctx = rg_mlp_context(m);
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!opt || !cfg) {
    rg_fail(ctx, RG_EINVAL, fn, "%s is NULL", opt ? "cfg" : "opt");
    return NULL;
  }
  if (!rg_dataset_valid(ctx, fn, train, 1) || (val && !rg_dataset_valid(ctx, fn, val, 0)) ||
      !data_fits(ctx, fn, m, train, "train") || (val && !data_fits(ctx, fn, m, val, "val")))
    return NULL;
  rg_trainer_config c = *cfg;
  char why[128];
  if (config_error(&c, val && val->n > 0, why, sizeof why)) {
    rg_fail(ctx, RG_EINVAL, fn, "cfg: %s", why);
    return NULL;
  }
  rg_trainer *t = zalloc(ctx, fn, 1, sizeof *t);
  if (!t) return NULL;
  *t = (rg_trainer){.ctx = ctx, .mlp = m, .opt = opt, .train = train, .val = val, .cfg = c,
                    .diverged_step = -1, .best_epoch = -1, .best_val_loss = INFINITY,
                    .last_train_loss = NAN, .last_train_acc = NAN, .val_step = -1};
  int params_before = ctx->n_params;
  int64_t batch = c.batch < train->n ? c.batch : train->n;
  t->min_rows = m->cfg.batch_norm ? 2 : 1;
  t->steps_per_epoch = train->n / batch + (train->n % batch >= t->min_rows);
  if (batch < t->min_rows) {
    rg_fail(ctx, RG_EINVAL, fn, "cfg: batch norm needs batches of at least 2 rows, and batch "
            "is %lld", (long long)batch);
    rg_heap_free(ctx, t, sizeof *t);
    return NULL;
  }
  bool ok = list_tensors(t, fn) && resolve_schedule(t, fn) &&
            (t->batches = rg_batcher_new(ctx, train, c.batch, true, c.seed)) &&
            (t->grads = rg_grad_report_new(ctx, t->n_trainable)) &&
            (c.clip.mode != RG_CLIP_EMA || (t->ema = rg_ema_clipper_new(ctx, &c.clip.ema))) &&
            (!c.diagnostics || (t->diag = rg_diag_new(ctx, c.diag_vanish, c.diag_explode))) &&
            (c.layer_stats_every == 0 || make_layer_stats(t, fn)) &&
            (c.early_stop == 0 || make_best(t, fn)) && rg_state_add(ctx, fn, &trainer_state, t);
  if (!ok) {
    /* Leave nothing behind: a retry must not find the best.* names taken. */
    rg_trainer_free(t);
    rg_params_truncate(ctx, params_before);
    return NULL;
  }
  return t;
}
