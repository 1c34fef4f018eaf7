/* regrad_dist: data-parallel training over MPI, the optional part of
 * libregrad (meson -Dmpi=enabled; without it, everything here still runs
 * as one process: the reference run of deterministic mode). Include after
 * regrad.h. The rest of the library never needs it: rg_trainer_set_dist
 * takes an rg_dist made here. */
#ifndef REGRAD_DIST_H
#define REGRAD_DIST_H

#include "regrad.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------- distributed */
/* Data-parallel training over MPI (docs/distributed.md). Every rank (one
 * process) holds the whole model; each step, every rank computes the
 * gradient of its part of a global batch, the gradients are averaged across
 * ranks into one identical result, and every rank clips and steps as usual,
 * so the parameters stay identical everywhere.
 *
 * The gradient of a step is defined by a shard decomposition: the global
 * batch of B rows is cut into S shards (shard s holds rows [s B / S,
 * (s + 1) B / S)); each shard's gradient of its own mean loss, computed
 * from zero, is weighted by its share of the rows (rows_s / B, rounded to
 * float), and the S weighted gradients are added over a fixed binary tree.
 * Rank r of N computes the S / N consecutive shards that make up its rows
 * [r B / N, (r + 1) B / N).
 *
 * RG_DIST_DETERMINISTIC (the default) sums the tree exactly as defined: each
 * rank sums its own subtree, the N subtree sums are gathered on every rank
 * (MPI_Allgather) and the upper levels added in the tree's order. The
 * result is bit-identical for every power-of-two rank count N dividing S:
 * N ranks at B / N rows each reproduce, byte for byte, one process (comm
 * NULL, or N = 1) with the same S. It needs N and S to be powers of two.
 * RG_DIST_FAST makes each rank's rows a single shard (S = N) and adds the
 * rank gradients with MPI_Allreduce(MPI_SUM), in MPI's order: one larger
 * shard per rank, any N, and (ring all-reduce) 2 (N - 1) / N x P floats
 * received per rank for P gradient floats instead of the gather's (N - 1)
 * P (the same for N = 2), but the result depends on N and on the MPI
 * library.
 *
 * Batch norm normalizes each shard with the shard's own statistics (like
 * PyTorch DDP without SyncBatchNorm), and its running statistics are
 * updated by each rank's shards only: they are not part of the
 * deterministic guarantee (rg_dist_broadcast adopts rank 0's). */

typedef enum rg_dist_mode { RG_DIST_DETERMINISTIC, RG_DIST_FAST } rg_dist_mode;

/* Zero-initialize. grad_shards: S in deterministic mode, a power of two and
 * a multiple of the rank count (0 = the rank count; ignored in fast mode).
 * bucket_bytes: the gradient travels in collective calls of at most this
 * size (0 = 4 MiB; 4 KiB to 256 MiB); a deterministic gather needs N x
 * bucket_bytes of receive space. Every rank must pass the same values. */
typedef struct rg_dist_config {
  rg_dist_mode mode;
  int grad_shards;
  size_t bucket_bytes;
} rg_dist_config;


/* Whether the library was built with MPI (meson -Dmpi=enabled). Without
 * it, rg_dist still works for one process (comm NULL), which is the
 * reference run of deterministic mode. */
RG_API bool rg_dist_available(void);

/* Collective over comm: every rank calls it, after creating the model (and
 * the optimizer), with the same model and configuration. comm points to an
 * MPI_Comm (e.g. `MPI_Comm w = MPI_COMM_WORLD; rg_dist_new(ctx, &w, &cfg)`),
 * which the library duplicates, so its messages never mix with the
 * application's; NULL means one process with no MPI call. The application
 * calls MPI_Init before and MPI_Finalize after rg_dist_free (the library
 * calls MPI from the calling thread only). A pointer keeps mpi.h out of
 * this header: the header and the library's ABI do not depend on the MPI
 * implementation's handle type (an int in MPICH, a pointer in Open MPI).
 * Checks that every rank has the same parameters and buffers (names, kinds,
 * shapes) and configuration, then broadcasts rank 0's values
 * (rg_dist_broadcast). Returns NULL with the context's error set on every
 * rank if any rank fails: RG_EINVAL for a bad configuration (deterministic
 * mode with a rank count or grad_shards that is not a power of two, or S
 * not a multiple of N), RG_ESHAPE when the ranks' models differ,
 * RG_EUNSUPPORTED for a non-NULL comm in a build without MPI, RG_ESTATE when
 * MPI is not initialized or a call fails. A context with a pending error
 * still takes part (and makes every rank fail), so a rank whose setup
 * failed does not leave the others waiting. Free with rg_dist_free before the
 * context; parameters added later make every rg_dist call fail (RG_ESTATE). */
RG_API rg_dist *rg_dist_new(rg_ctx *ctx, void *comm, const rg_dist_config *cfg);

/* This process's rank, the rank count N, and the shard count S. */
RG_API int rg_dist_rank(const rg_dist *d);
RG_API int rg_dist_size(const rg_dist *d);
RG_API int rg_dist_shards(const rg_dist *d);

/* The rows of a global batch of `batch` rows that this rank reads:
 * [*lo, *hi) = [r batch / N, (r + 1) batch / N) (integer division), the
 * union of its shards. The ranks' ranges tile the batch in rank order. */
RG_API void rg_dist_rows(const rg_dist *d, int64_t batch, int64_t *lo, int64_t *hi);

/* Collective: copies every parameter and buffer (optimizer state
 * included), the seed and the dropout stream from rank 0 to all ranks,
 * after checking the ranks hold the same tensors (RG_ESHAPE otherwise). Use
 * after loading a checkpoint on rank 0 only. */
RG_API rg_status rg_dist_broadcast(rg_dist *d);

/* The loss of rows [row0, row0 + rows) of the global batch: build it on the
 * tape (forward pass, mean loss over those rows) and return the [1] loss
 * tensor, or NULL on error. Tensors it makes are freed after the shard's
 * backward, so read any output (e.g. logits for accuracy) inside. */
typedef rg_tensor *(*rg_shard_loss_fn)(rg_ctx *ctx, int64_t row0, int64_t rows, void *user);

/* Collective: the averaged gradient of a global batch of `batch` rows (the
 * same on every rank). Runs fn on each of this rank's shards (zeroed
 * gradients, the shard's own dropout streams, backward, tape reset), sums
 * them over the tree and the ranks, and overwrites every parameter's
 * gradient with the result, identical on all ranks; *loss (may be NULL)
 * gets the batch's mean loss, reduced the same way. Then clip and step as
 * in one process. A step takes S x 2^16 dropout streams (a shard may use at
 * most 2^16). If fn fails on any rank, every rank returns an error (that
 * rank's own, RG_ESTATE elsewhere) and the gradients are unspecified. */
RG_API rg_status rg_dist_backward(rg_dist *d, int64_t batch, rg_shard_loss_fn fn, void *user,
                           float *loss);

/* Collective: averages gradients the caller computed. Each rank's parameter
 * gradients are the gradient of its mean loss over `rows` rows of a global
 * batch of `batch` rows (the ranks' rows must add up to batch, RG_EINVAL on
 * every rank otherwise); they are replaced by sum over ranks of (rows_r /
 * batch) g_r, in the mode's order (deterministic: the result equals
 * rg_dist_backward's with S = N). *loss, if not NULL, is this rank's mean
 * loss in, the batch's mean loss out. */
RG_API rg_status rg_dist_allreduce(rg_dist *d, int64_t rows, int64_t batch, float *loss);

/* Collective: every rank passes its application's configuration as text
 * (for example one "name=value" line per setting); rank 0's is sent to
 * every rank, and unless all are equal every rank fails with RG_EINVAL: a
 * rank that differs names its first differing line and rank 0's, the others
 * name that rank. Call it before training, so ranks started with different
 * settings stop instead of training apart or waiting on each other. */
RG_API rg_status rg_dist_check_config(rg_dist *d, const char *config);

/* Collective: RG_OK when every rank holds bit-identical parameters, seed
 * and dropout stream (compared by a 64-bit hash), RG_ESTATE naming a rank
 * that differs otherwise. Buffers are not compared: batch-norm running
 * statistics legitimately differ between ranks. */
RG_API rg_status rg_dist_check(rg_dist *d);

/* Where a rank's step time goes, summed since rg_dist_new: steps (reductions
 * made), shard_seconds (forward, backward and packing of this rank's shards
 * in rg_dist_backward), reduce_seconds (the collectives, including waiting
 * for slower ranks, the tree's upper levels and writing the gradients
 * back); floats and buckets describe one reduction: the fused buffer's size
 * (gradients plus 3 values: loss, failures, rows) and the collective calls
 * it takes. */
typedef struct rg_dist_stats {
  int64_t steps;
  double shard_seconds, reduce_seconds;
  int64_t floats, buckets;
} rg_dist_stats;
RG_API rg_dist_stats rg_dist_get_stats(const rg_dist *d);

/* Frees d (collective with MPI: it frees the duplicated communicator). NULL
 * is accepted. */
RG_API void rg_dist_free(rg_dist *d);

#ifdef __cplusplus
}
#endif
#endif
