/* The training loop shared by `regrad train` and `regrad study`: an MLP on an
 * MNIST-format dataset with every remedy of the library selectable, and a
 * per-step observer that sees the per-layer gradient norms. */
#ifndef RG_TOOLS_TRAINER_H
#define RG_TOOLS_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "regrad.h"

typedef enum clip_mode {
  CLIP_NONE,
  CLIP_VALUE,      /* clip_value */
  CLIP_NORM,       /* clip_max_norm, clip_norm_type */
  CLIP_PER_TENSOR, /* clip_max_norm */
  CLIP_AGC,        /* agc_lambda; the classifier is exempt */
  CLIP_EMA         /* ema (factor, beta, warmup, z_threshold) */
} clip_mode;

typedef enum penalty_kind { PENALTY_NONE, PENALTY_L1, PENALTY_L2, PENALTY_ELASTIC } penalty_kind;

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
  /* loss terms added to cross-entropy */
  penalty_kind penalty;
  float penalty_lambda, l1_ratio;
  float label_smoothing;
  /* optimizer and schedule (schedule.lr0 is the base learning rate) */
  rg_optim_config optim;
  rg_schedule schedule;
  /* clipping */
  clip_mode clip;
  float clip_value, clip_max_norm, clip_norm_type, agc_lambda;
  rg_ema_clip_config ema;
  rg_nonfinite nonfinite;
  /* loop */
  int epochs;
  int64_t max_steps;       /* stop after this many steps (0: no limit) */
  int64_t batch;
  uint64_t seed;
  const char *isa;
  int threads;
  uint64_t mem_limit;      /* --mem-limit: 0 = the default (limits.h), UINT64_MAX = none */
  const char *log_csv;     /* per-step diagnostics CSV, or NULL */
  const char *save_path;   /* checkpoint written after every epoch, or NULL */
  const char *load_path;   /* checkpoint to resume from, or NULL */
  bool quiet;
} train_config;

/* What the observer sees after each optimizer step. layer_grad_norm[i] is
 * |dL/dW_i| of linear layer i (0 = first), before clipping. */
typedef struct step_info {
  int64_t step;
  int epoch;
  float loss, lr, grad_norm; /* global L2, before clipping */
  int layers;
  const float *layer_grad_norm;
  bool skipped, finite;
} step_info;

typedef void (*step_observer)(const step_info *s, void *user);

typedef struct train_result {
  float train_acc, val_acc, test_acc, final_loss;
  int64_t steps;
  int64_t diverged_step;   /* first step with a non-finite loss or gradient, -1 if none */
  double sparsity;         /* fraction of weights that are exactly 0 */
  double seconds;
  double seconds_per_epoch;
  int64_t step_heap_allocs; /* heap allocations made by the steps after the first (the
                             * library guarantees 0 for this loop; a check for tests) */
  rg_status status;
  char message[512];       /* error message when status != RG_OK */
} train_result;

/* Defaults: 784-256-256-10 ReLU, Kaiming init, SGD momentum 0.9, lr 0.05,
 * batch 128, 5 epochs, seed 1, validation 1/12 of the training set. */
void train_config_defaults(train_config *c);

/* Loads the data, builds the model and trains; observer may be NULL. */
train_result train_run(const train_config *c, step_observer observer, void *user);

#endif
