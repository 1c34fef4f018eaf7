/* Library-internal state of rg_dist, shared by the files of src/distributed/. */
#ifndef RG_DIST_DIST_H
#define RG_DIST_DIST_H

#include <time.h>

#include "core/internal.h"
#include "distributed/comm.h"

/* The fused gradient buffer starts with META floats, reduced like the
 * gradients: the weighted loss, the number of ranks that failed, and the
 * rows the ranks covered. Then the gradients of the parameters, in
 * creation order. */
enum { META_LOSS, META_FAILED, META_ROWS, META };

/* Dropout streams each shard may take (rg_dist_backward). */
#define RG_DIST_STREAMS_PER_SHARD ((uint64_t)1 << 16)

struct rg_dist {
  rg_ctx *ctx;
  rg_comm *comm;
  rg_dist_mode mode;
  int rank, size;
  int shards; /* S: shards of a global batch; the rank count in fast mode */
  int local;  /* shards per rank, S / N */
  int n_params, ctx_params; /* trainable parameters; ctx->n_params at creation */
  rg_tensor **params;
  int64_t len;    /* META + gradient elements */
  int64_t bucket; /* floats per collective call */
  /* Partial sums of the fixed binary tree over this rank's shards: slot i
   * holds the sum of a block of 2^level[i] shards; at most log2(local) + 1
   * are live at once. */
  int depth, top;
  int *level;
  float *stack;    /* depth x len */
  float *gathered; /* size x bucket (deterministic mode with several ranks) */
  rg_dist_stats stats;
};

static inline double rg_dist_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* True when d is usable; sets RG_EINVAL / RG_ESTATE in d's context. */
bool rg_dist_ok(rg_dist *d, const char *fn);
/* rg_fail for a transport error code. */
void rg_dist_comm_fail(rg_dist *d, const char *fn, const char *call, int code);

/* Collective: fails every rank (RG_ESHAPE) unless all are ok and hold the
 * same parameter and buffer names, kinds and shapes and the same config
 * word (sync.c). */
rg_status rg_dist_agree(rg_dist *d, const char *fn, bool ok, uint64_t config);

/* Pushes a leaf of the tree: the parameters' gradients times weight, with
 * the meta values, onto the partial-sum stack, and merges equal blocks. */
void rg_dist_push_leaf(rg_dist *d, float weight, float loss, bool failed, int64_t rows);
/* rows / batch, rounded once to float: the weight of a leaf. */
float rg_dist_weight(int64_t rows, int64_t batch);
/* Reduces the stack's single partial over the ranks (deterministic: gather
 * and the tree's upper levels; fast: MPI_Allreduce) and, when no rank
 * failed and the rows add up to batch, writes the result into the gradients.
 * *loss (may be NULL) gets the reduced loss. */
rg_status rg_dist_reduce(rg_dist *d, const char *fn, int64_t batch, float *loss);

#endif
