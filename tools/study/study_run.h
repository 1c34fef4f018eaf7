/* One regime of `regrad study` trained and measured: the loss, learning rate
 * and global gradient norm of every step, the per-layer gradient norms and
 * layer statistics (rg_layer_stats) at step 0 and every sample_every steps
 * (and at the last and the first non-finite step), and the trainer's
 * result. */
#ifndef RG_TOOLS_STUDY_RUN_H
#define RG_TOOLS_STUDY_RUN_H

#include <pthread.h>

#include "progress.h"
#include "study_grid.h"

typedef struct study_run {
  const study_regime *regime;
  train_config config;
  train_result result;
  int layers;                   /* linear layers (hidden + classifier) */
  int64_t capacity;             /* steps the arrays hold */
  int64_t steps;                /* steps observed */
  float *loss, *lr, *grad_norm; /* [steps] */
  unsigned char *finite;        /* [steps] */
  int samples;
  int64_t *sample_step; /* [samples] */
  float *layer_norm;    /* [samples][layers], layer 0 first */
  rg_layer_stats *layer_stats; /* [samples][layers]: the trainer's, NaN when it gave none */
  int sample_every;
  uint64_t seed; /* of init, dropout, split and shuffling */
} study_run;

/* Where a study's progress goes: run index of count, and the steps done by
 * all runs, shared by the runs going at once and guarded by lock. */
typedef struct study_progress {
  progress *bar;
  pthread_mutex_t *lock;
  int64_t *steps_done;
  int index, count;
} study_progress;

/* Trains regime r under setup (its seed and thread count are the run's) on
 * the preloaded data sets, which it only reads (each run copies, splits and
 * standardizes them in its own context), and records the measurements in
 * run (freed with study_run_free). Returns false when the run could not
 * even start (out of memory, bad configuration): the trainer's status and
 * message are in run->result. */
bool study_run_regime(const study_regime *r, const study_setup *setup, const rg_dataset *train,
                      const rg_dataset *test, study_progress *sp, study_run *run);
void study_run_free(study_run *run);

/* Derived measurements. */
/* Per-layer norms of sample i (layers values). */
const float *study_run_sample(const study_run *run, int i);
/* First-layer / last-layer gradient norm of sample i (NaN when undefined). */
double study_run_signature(const study_run *run, int i);
/* The per-layer statistics of sample i (layers rows). */
const rg_layer_stats *study_run_layer_stats(const study_run *run, int i);
/* The per-layer norms sampled at step, or NULL when none was. */
const float *study_run_sample_at(const study_run *run, int64_t step);
/* Mean loss over the last window steps that were finite (NaN if none). */
double study_run_tail_loss(const study_run *run, int64_t window);
bool study_run_diverged(const study_run *run);

#endif
