/* The transport under rg_dist: the five collectives data-parallel training
 * needs. comm_mpi.c implements them over an MPI communicator (the library
 * built with -Dmpi=enabled); comm_self.c is the single-process transport of
 * a build without MPI. Both serve a NULL communicator as one process, so the
 * one-process reference run of docs/distributed.md works in every build.
 *
 * Collectives must be called by every rank in the same order. They return 0
 * or a transport error code; rg_comm_error describes a code. Counts are in
 * elements and may exceed INT_MAX (the MPI transport cuts them). */
#ifndef RG_DIST_COMM_H
#define RG_DIST_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "regrad.h"

typedef struct rg_comm rg_comm;

/* Opens a transport on *(MPI_Comm *)user_comm, or a single process when
 * user_comm is NULL. On failure returns NULL with the reason in ctx. */
rg_comm *rg_comm_open(rg_ctx *ctx, void *user_comm);
void rg_comm_close(rg_comm *c);
int rg_comm_rank(const rg_comm *c);
int rg_comm_size(const rg_comm *c);

/* bytes from rank 0 to every rank. */
int rg_comm_bcast(rg_comm *c, void *buf, size_t bytes);
/* recv[r * n + i] = send of rank r, element i, on every rank. */
int rg_comm_allgather(rg_comm *c, const float *send, float *recv, int64_t n);
/* v[i] = the largest v[i] over ranks, i < n. */
int rg_comm_allreduce_max_u64(rg_comm *c, uint64_t *v, int n);
/* buf = elementwise sum over ranks, in the transport's own order. */
int rg_comm_allreduce_sum(rg_comm *c, float *buf, int64_t n);

/* A one-line description of a transport error code, into buf. */
const char *rg_comm_error(int code, char *buf, size_t len);

#endif
