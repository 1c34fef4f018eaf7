/* The trainer's parts, shared by trainer.c (the loop) and trainer_setup.c
 * (configuration, the objects a run needs, the state record and the best
 * weights). */
#ifndef RG_TRAIN_TRAINER_H
#define RG_TRAIN_TRAINER_H

#include "core/internal.h"

#define RG_TRAINER_PATH 4096

/* Why the loop stops early. */
enum rg_halt { HALT_NONE, HALT_ERROR, HALT_DIVERGED, HALT_EARLY, HALT_CALLBACK };

struct rg_trainer {
  rg_ctx *ctx;
  rg_mlp *mlp;
  rg_optim *opt;
  const rg_dataset *train, *val;
  rg_trainer_config cfg;
  rg_dist *dist;
  rg_schedule schedule; /* cfg.schedule with total_steps resolved */
  /* made once by rg_trainer_new */
  rg_batcher *batches;
  rg_grad_report *grads;
  rg_ema_clipper *ema;
  rg_diag *diag;
  int n_trainable, depth, n_kept;
  rg_tensor **trainable; /* the model's parameters, in creation order */
  bool *exempt;          /* [n_trainable]: the classifier's, for AGC */
  rg_tensor **weights;   /* [depth]: each linear layer's weight */
  int *weight_slot;      /* [depth]: its index in trainable */
  float *layer_norms;    /* [depth] */
  rg_layer_stats *layer_stats; /* [depth], with cfg.layer_stats_every > 0 */
  int *diag_slot;              /* [depth]: each weight's row in diag, likewise */
  rg_tensor **kept, **best; /* [n_kept]: the model's tensors and their best copies */
  int64_t min_rows, steps_per_epoch;
  /* the state record (checkpoints carry it) */
  int64_t step, epoch, epoch_steps, epoch_rows, epoch_correct, epoch_skipped;
  int64_t diverged_step, best_epoch, bad_epochs;
  double epoch_loss, best_val_loss;
  float last_train_loss, last_train_acc;
  /* one run of rg_trainer_run */
  enum rg_halt halt;
  const float *x; /* the current batch */
  const int32_t *y;
  int64_t step_heap_allocs, val_step;
  float val_loss, val_acc;
  char message[256];
};

/* Copies the model's tensors into their best copies, and back. */
void rg_trainer_keep_best(rg_trainer *t);
void rg_trainer_restore_best(rg_trainer *t);

#endif
