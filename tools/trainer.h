/* A training run of `regrad train` and `regrad study`: the data (loaded,
 * limited, split, standardized), the session (context, MLP, optimizer) and
 * the library's trainer (regrad.h, rg_trainer) with the command's reporting
 * around it: the progress bar, epoch lines, gradient alerts, the --log CSV,
 * Ctrl-C, and the test accuracy at the end. With dist set, the same run
 * data-parallel over MPI (dist_train.h). */
#ifndef RG_TOOLS_TRAINER_H
#define RG_TOOLS_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "regrad.h"
#include "regrad_dist.h"

typedef struct train_config {
  /* data: preloaded sets (not owned; standardized copies are made), or
   * loaded from data_dir when NULL */
  const rg_dataset *train_set, *test_set;
  const char *data_dir;    /* NULL: RG_DEFAULT_DATA_DIR */
  int64_t train_limit;     /* use at most this many training rows (0: all) */
  double val_fraction;     /* held out from the training set */
  /* model */
  rg_mlp_config model;     /* in/out are filled from the data */
  rg_init_scheme init;
  float init_scale;        /* naive schemes */
  float init_gain;         /* xavier, kaiming, orthogonal; 0: the scheme's default
                            * (rg_mlp_init_gain) */
  /* optimizer (its lr is run.schedule.lr0) and the loop: batch, epochs,
   * max_steps, schedule, clipping, penalty, label smoothing, checkpoints,
   * early stopping (run.seed and run.diagnostics are set from the fields
   * below) */
  rg_optim_config optim;
  rg_trainer_config run;
  uint64_t seed;           /* init, dropout, data split and order */
  const char *isa;
  int threads;
  uint64_t mem_limit;      /* --mem-limit: 0 = the default (limits.h), UINT64_MAX = none */
  const char *log_csv;     /* per-step diagnostics CSV, or NULL */
  const char *load_path;   /* checkpoint to resume from, or NULL */
  bool quiet;              /* no progress output */
  bool alerts;             /* print vanishing/exploding gradient alerts */
  float vanish, explode;   /* alert thresholds on a parameter's |g| */
  bool anomaly;            /* rg_set_anomaly_mode */
} train_config;

typedef struct train_result {
  float train_acc, val_acc, test_acc, final_loss;
  int64_t steps;
  int64_t diverged_step;   /* first step with a non-finite loss or gradient, -1 if none */
  double sparsity;         /* fraction of weights that are exactly 0 */
  double seconds;
  double seconds_per_epoch;
  int64_t step_heap_allocs; /* heap allocations made by the steps after the first (the
                             * library guarantees 0 for this loop; a check for tests) */
  bool interrupted;        /* stopped by Ctrl-C (after saving) */
  bool stopped_early;      /* early stopping on validation loss */
  rg_status status;
  char message[512];       /* error message when status != RG_OK */
} train_result;

/* Defaults: 784-256-256-10 ReLU, Kaiming init, SGD momentum 0.9, lr 0.05,
 * batch 128, 5 epochs, seed 1, validation 1/12 of the training set. */
void train_config_defaults(train_config *c);

/* Loads the data, builds the model and trains; on_step (may be NULL) sees
 * every step after the command's own reporting. */
train_result train_run(const train_config *c, rg_step_fn on_step, void *user);

/* The data-parallel part of a run (dist_train.c): the communicator (a
 * pointer to an MPI_Comm, or NULL for one process), rg_dist's
 * configuration, and the run's configuration as text, which every rank
 * must share (rg_dist_check_config). Only rank 0 prints and saves. */
typedef struct train_dist {
  void *comm;
  rg_dist_config cfg;
  const char *config_text;
} train_dist;
train_result train_run_dist(const train_config *c, const train_dist *dist);

#endif
