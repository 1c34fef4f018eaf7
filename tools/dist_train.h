/* `regrad train --dist`: the training run of trainer.h, data-parallel over
 * MPI (docs/distributed.md). Start it under mpiexec, one process per rank:
 *
 *   mpiexec -np 2 regrad train --dist [--dist-mode fast] [--grad-shards S] ...
 *
 * Every rank loads the data and builds the same model; each step every rank
 * computes the gradient of its rows [r B / N, (r + 1) B / N) of the same
 * shuffled global batch of B rows, rg_dist_backward averages the gradients
 * across ranks, and every rank clips and steps identically. Rank 0 prints
 * and saves checkpoints. In deterministic mode (the default) the run gives
 * the same parameters for any power-of-two rank count N dividing S, so
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
  int grad_shards; /* --grad-shards S: 0 = the rank count */
  int bucket_kib;  /* --bucket-kib K: 0 = 4096 (4 MiB) */
} dist_options;

/* Trains c data-parallel and prints the result on rank 0. Initializes MPI
 * when the library has it and nobody did (and then finalizes it); without
 * MPI it runs as one rank. Supports --clip none and norm, --save (rank 0
 * writes), --load (every rank reads the file: it must be visible to every
 * host), --max-steps and the model, loss, optimizer, schedule and data
 * flags; other clipping modes and --log are a usage error. Returns the
 * exit status: 0, 1 on an error (every rank prints its message), 2 for an
 * unsupported flag. */
int dist_train_main(const train_config *c, const dist_options *o);

#endif
