/* `regrad train --dist`: the training run of trainer.h, data-parallel over
 * MPI (docs/distributed.md). Start it under mpiexec, one process per rank:
 *
 *   mpiexec -np 2 regrad train --dist [--dist-mode fast] [--grad-shards S] ...
 *
 * Every rank loads the data and builds the same model; each step every rank
 * computes the gradient of its rows of the same shuffled global batch,
 * rg_dist_backward averages the gradients across ranks, and every rank
 * clips and steps identically (every clipping mode, --log and the alerts
 * work as in one process). Rank 0 prints and saves. Before training, the
 * ranks compare their settings (rg_dist_check_config) and refuse to start
 * on a difference, naming it. In deterministic mode (the default) the run
 * gives the same parameters for any power-of-two rank count N dividing S, so
 * `regrad train --dist --grad-shards S` in one process (no mpiexec; also in
 * a build without MPI) is the reference that N ranks reproduce byte for
 * byte. */
#ifndef RG_TOOLS_DIST_TRAIN_H
#define RG_TOOLS_DIST_TRAIN_H

#include <stdbool.h>

#include "trainer.h"

/* The --dist flags (ints, as the flag parser writes them). */
typedef struct dist_options {
  bool enabled;    /* --dist */
  int mode;        /* --dist-mode deterministic|fast: an rg_dist_mode */
  int grad_shards; /* --grad-shards S: 0 = the rank count, at most --batch */
  int bucket_kib;  /* --bucket-kib K: 0 = 4096 (4 MiB) */
} dist_options;

/* The number of ranks an MPI launcher (mpiexec, srun) started this process
 * with, read from its environment; 1 when not launched by one. */
int dist_launcher_ranks(void);

/* Trains c data-parallel and prints the result on rank 0. Initializes MPI
 * when the library has it and nobody did (and then finalizes it); without
 * MPI it runs as one rank, and refuses to run under a launcher that started
 * several. config_text: the run's settings that every rank must share.
 * Returns the exit status: 0, 1 on an error (every rank prints its
 * message), 2 for an unusable combination. */
int dist_train_main(const train_config *c, const dist_options *o, const char *config_text);

#endif
