/* `regrad train --dist` (dist_train.h): the data, model and optimizer of a
 * session (session.h, train_data.h), a loop whose gradient comes from
 * rg_dist_backward, and rank 0 reporting. */
#include "dist_train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef RG_HAVE_MPI
#include <mpi.h>
#endif

#include "commands.h"
#include "progress.h"
#include "session.h"
#include "train_data.h"

typedef struct run {
  const train_config *c;
  const dist_options *o;
  session s;
  train_data d;
  rg_dist *dist;
  rg_batcher *batches;
  progress *bar;
  rg_schedule schedule;
  const float *x; /* the current global batch */
  const int32_t *y;
  int64_t step, steps_run, steps_per_epoch, rows;
  double loss_sum; /* loss x rows over the epoch */
  int first_epoch;
  char message[512];
} run;

static bool root(const run *R) { return rg_dist_rank(R->dist) == 0; }

/* Cross-entropy plus the configured penalty over the weights (the loss of
 * trainer.c's step). */
static rg_tensor *objective(run *R, rg_tensor *logits, const int32_t *y) {
  const train_config *c = R->c;
  rg_ctx *ctx = R->s.ctx;
  rg_tensor *loss = rg_cross_entropy(ctx, logits, y, c->label_smoothing);
  rg_tensor *const *w = R->s.weights;
  int n = R->s.depth;
  switch (c->penalty) {
    case PENALTY_L1: return rg_add(ctx, loss, rg_l1_penalty(ctx, w, n, c->penalty_lambda));
    case PENALTY_L2: return rg_add(ctx, loss, rg_l2_penalty(ctx, w, n, c->penalty_lambda));
    case PENALTY_ELASTIC:
      return rg_add(ctx, loss, rg_elastic_net_penalty(ctx, w, n, c->penalty_lambda, c->l1_ratio));
    default: return loss;
  }
}

/* rg_shard_loss_fn: rows [row0, row0 + rows) of the current batch. */
static rg_tensor *shard_loss(rg_ctx *ctx, int64_t row0, int64_t rows, void *user) {
  run *R = user;
  const float *x = R->x + row0 * R->d.features;
  const int32_t *y = R->y + row0;
  rg_tensor *in = rg_tensor_view(ctx, rg_shape2(rows, R->d.features), x);
  return objective(R, rg_mlp_forward(R->s.mlp, in), y);
}

static bool step(run *R, int64_t batch) {
  const train_config *c = R->c;
  rg_ctx *ctx = R->s.ctx;
  float loss = 0.0f, scale = 1.0f;
  if (rg_dist_backward(R->dist, batch, shard_loss, R, &loss) != RG_OK) return false;
  if (!isfinite(loss)) {
    snprintf(R->message, sizeof R->message, "training diverged at step %lld: the loss is %g",
             (long long)R->step, (double)loss);
    return false;
  }
  rg_clip_result cr = {.scale = 1.0f};
  if (c->clip == CLIP_NORM) {
    rg_clip_opts o = {.nonfinite = c->nonfinite, .defer_scale = true};
    if (rg_clip_grad_norm(ctx, R->s.trainable, R->s.n_trainable, c->clip_max_norm,
                          c->clip_norm_type, &o, &cr) != RG_OK)
      return false;
    scale = cr.scale;
  }
  if (!cr.skip && rg_optim_step(R->s.opt, rg_schedule_lr(&R->schedule, R->step), scale) != RG_OK)
    return false;
  R->loss_sum += (double)loss * (double)batch;
  R->rows += batch;
  R->step++;
  R->steps_run++;
  return true;
}

static bool run_epoch(run *R, int epoch) {
  const train_config *c = R->c;
  const float *x;
  const int32_t *y;
  int64_t batch, done = 0;
  R->loss_sum = 0.0;
  R->rows = 0;
  double started = progress_now();
  progress_start(R->bar, R->steps_per_epoch);
  while ((c->max_steps <= 0 || R->step < c->max_steps) &&
         (batch = rg_batcher_next(R->batches, &x, &y)) > 0) {
    R->x = x;
    R->y = y;
    if (!step(R, batch)) return false;
    progress_update(R->bar, ++done, "epoch %d/%d  loss %.4f", epoch + 1, c->epochs,
                    R->loss_sum / (double)R->rows);
  }
  /* Failures here are rank 0's alone: they stay pending in its context, and
   * the next collective (rg_dist_backward, rg_dist_check) fails every rank. */
  if (done == R->steps_per_epoch && c->save_path && root(R)) {
    rg_train_state st = {R->step, epoch + 1};
    rg_checkpoint_save(R->s.ctx, c->save_path, &st);
  }
  if (root(R))
    progress_line(R->bar, "epoch %d/%d  loss %.4f  val acc %.4f  %.1f s", epoch + 1, c->epochs,
                  R->rows ? R->loss_sum / (double)R->rows : NAN,
                  session_accuracy(&R->s, R->d.val, 0), progress_now() - started);
  return true;
}

/* The schedule with total_steps defaulting to the whole run after warmup
 * (as trainer.c does). */
static rg_status prepare_schedule(run *R) {
  const train_config *c = R->c;
  R->schedule = c->schedule;
  int64_t total = (int64_t)c->epochs * R->steps_per_epoch;
  if (c->max_steps > 0 && c->max_steps < total) total = c->max_steps;
  if (R->schedule.total_steps == 0)
    R->schedule.total_steps =
        total - R->schedule.warmup_steps > 1 ? total - R->schedule.warmup_steps : 1;
  return rg_schedule_check(R->s.ctx, &R->schedule);
}

/* Session, data, checkpoint, batcher and schedule, then rg_dist, which
 * every rank reaches even when its own setup failed: a pending error or a
 * missing model makes rg_dist_new fail on every rank, instead of leaving
 * the others waiting. */
static bool prepare(run *R, void *comm) {
  const train_config *c = R->c;
  if (session_open(&R->s, c) != RG_OK) return false;
  rg_train_state saved = {0};
  bool ready = false;
  if (train_data_prepare(R->s.ctx, c, &R->d, R->message, sizeof R->message) == RG_OK &&
      session_build(&R->s, c, R->d.features, R->d.classes, R->d.standardizer) == RG_OK &&
      (!c->load_path || session_load(&R->s, c->load_path, &saved) == RG_OK)) {
    R->batches = rg_batcher_new(R->s.ctx, R->d.train, c->batch, true, c->seed);
    int64_t batch = c->batch < R->d.train->n ? c->batch : R->d.train->n;
    R->steps_per_epoch = (R->d.train->n + batch - 1) / batch;
    R->step = saved.step;
    R->first_epoch = (int)saved.epoch;
    const float *x;
    const int32_t *y;
    while (R->batches && rg_batcher_epoch(R->batches) < saved.epoch)
      rg_batcher_next(R->batches, &x, &y);
    ready = prepare_schedule(R) == RG_OK && R->batches;
  }
  rg_dist_config dc = {.mode = (rg_dist_mode)R->o->mode, .grad_shards = R->o->grad_shards,
                       .bucket_bytes = (size_t)R->o->bucket_kib << 10};
  R->dist = rg_dist_new(R->s.ctx, comm, &dc);
  if (R->dist && root(R) && !c->quiet) R->bar = progress_new(stderr);
  /* A rank that is not ready has no model or a pending error, so
   * rg_dist_new failed everywhere, unless no rank is ready. */
  return R->dist && ready;
}

static void report(run *R, double seconds) {
  const train_config *c = R->c;
  rg_dist_stats ds = rg_dist_get_stats(R->dist);
  double per_step = ds.steps ? 1e3 / (double)ds.steps : 0.0;
  printf("test accuracy %.4f\n", session_accuracy(&R->s, R->d.test, 0));
  double ms = R->steps_run ? 1e3 * seconds / (double)R->steps_run : 0.0;
  printf("%lld steps in %.2f s (%.2f ms per step) on %d rank(s) x %d thread(s), batch %lld, %s "
         "mode, %d shards\n",
         (long long)R->steps_run, seconds, ms, rg_dist_size(R->dist),
         c->threads > 1 ? c->threads : 1,
         (long long)c->batch, R->o->mode == RG_DIST_FAST ? "fast" : "deterministic",
         rg_dist_shards(R->dist));
  printf("per step on rank 0: shards %.2f ms, gradient exchange %.2f ms (%.1f MiB in %lld "
         "bucket(s))\n",
         ds.shard_seconds * per_step, ds.reduce_seconds * per_step,
         (double)ds.floats * sizeof(float) / 1048576.0, (long long)ds.buckets);
}

static bool train(run *R, void *comm) {
  if (!prepare(R, comm)) return false;
  double started = progress_now();
  const train_config *c = R->c;
  for (int e = R->first_epoch; e < c->epochs && (c->max_steps <= 0 || R->step < c->max_steps); e++)
    if (!run_epoch(R, e)) return false;
  /* Every rank must hold the same bits; a difference is a bug worth an error. */
  if (rg_dist_check(R->dist) != RG_OK) return false;
  if (root(R)) report(R, progress_now() - started);
  return true;
}

static int unsupported(const train_config *c) {
  if (c->clip != CLIP_NONE && c->clip != CLIP_NORM)
    return command_failed("--dist supports --clip none and norm only"), 2;
  if (c->log_csv) return command_failed("--dist does not write --log"), 2;
  return 0;
}

int dist_train_main(const train_config *c, const dist_options *o) {
  int code = unsupported(c);
  if (code) return code;
  void *comm = NULL;
  int rank = 0, size = 1;
#ifdef RG_HAVE_MPI
  int up = 0;
  MPI_Initialized(&up);
  if (!up) MPI_Init(NULL, NULL);
  MPI_Comm world = MPI_COMM_WORLD;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  comm = &world;
#endif
  run R = {.c = c, .o = o};
  if (!train(&R, comm)) {
    const char *why = R.message[0] ? R.message : session_message(&R.s);
    code = size > 1 ? command_failed("rank %d: %s", rank, why) : command_failed("%s", why);
  }
  progress_free(R.bar);
  rg_batcher_free(R.batches);
  rg_dist_free(R.dist);
  train_data_free(&R.d);
  session_close(&R.s);
#ifdef RG_HAVE_MPI
  if (!up) MPI_Finalize();
#endif
  return code;
}
