/* The MPI transport (comm.h). The user's communicator is duplicated, so the
 * library's collectives never match the application's own messages, and the
 * duplicate returns errors instead of aborting (MPI_ERRORS_RETURN): the
 * library never aborts. A one-process communicator, or none, makes no MPI
 * call at all. Only the calling thread talks to MPI, so MPI_Init (thread
 * level MPI_THREAD_SINGLE) is enough. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "distributed/comm.h"

/* Elements per MPI call: MPI counts are int. */
#define MAX_CALL (1 << 30)

struct rg_comm {
  rg_ctx *ctx;
  MPI_Comm comm; /* MPI_COMM_NULL for a single process without MPI */
  int rank, size;
};

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static rg_comm *open_failed(rg_ctx *ctx, rg_comm *c, int code, const char *what) {
  char why[MPI_MAX_ERROR_STRING];
  rg_fail(ctx, RG_ESTATE, "rg_dist_new", "%s failed: %s", what,
          rg_comm_error(code, why, sizeof why));
  rg_heap_free(ctx, c, sizeof *c);
  return NULL;
}

rg_comm *rg_comm_open(rg_ctx *ctx, void *user_comm) {
  static const char fn[] = "rg_dist_new";
  rg_comm *c = rg_heap_alloc(ctx, fn, sizeof *c);
  if (!c) return NULL;
  *c = (rg_comm){.ctx = ctx, .comm = MPI_COMM_NULL, .rank = 0, .size = 1};
  if (!user_comm) return c;
  int up = 0, down = 0;
  MPI_Initialized(&up);
  MPI_Finalized(&down);
  if (!up || down) {
    rg_fail(ctx, RG_ESTATE, fn, "MPI is %s: call MPI_Init before rg_dist_new",
            down ? "already finalized" : "not initialized");
    rg_heap_free(ctx, c, sizeof *c);
    return NULL;
  }
  MPI_Comm user = *(const MPI_Comm *)user_comm;
  if (user == MPI_COMM_NULL) {
    rg_fail(ctx, RG_EINVAL, fn, "comm points to MPI_COMM_NULL");
    rg_heap_free(ctx, c, sizeof *c);
    return NULL;
  }
  int rc = MPI_Comm_dup(user, &c->comm);
  if (rc != MPI_SUCCESS) return open_failed(ctx, c, rc, "MPI_Comm_dup");
  MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
  return c;
}

void rg_comm_close(rg_comm *c) {
  if (!c) return;
  int down = 0;
  MPI_Finalized(&down);
  if (c->comm != MPI_COMM_NULL && !down) MPI_Comm_free(&c->comm);
  rg_heap_free(c->ctx, c, sizeof *c);
}

int rg_comm_rank(const rg_comm *c) { return c->rank; }
int rg_comm_size(const rg_comm *c) { return c->size; }

int rg_comm_bcast(rg_comm *c, void *buf, size_t bytes) {
  if (c->size == 1) return 0;
  for (size_t at = 0; at < bytes; at += MAX_CALL) {
    int len = (int)(bytes - at < MAX_CALL ? bytes - at : MAX_CALL);
    int rc = MPI_Bcast((char *)buf + at, len, MPI_BYTE, 0, c->comm);
    if (rc != MPI_SUCCESS) return rc;
  }
  return 0;
}

int rg_comm_allgather(rg_comm *c, const float *send, float *recv, int64_t n) {
  if (c->size == 1) {
    if (send != recv) memmove(recv, send, (size_t)n * sizeof *recv);
    return 0;
  }
  if (n > INT_MAX / c->size) return MPI_ERR_COUNT;
  return MPI_Allgather(send, (int)n, MPI_FLOAT, recv, (int)n, MPI_FLOAT, c->comm);
}

int rg_comm_allreduce_max_u64(rg_comm *c, uint64_t *v, int n) {
  if (c->size == 1) return 0;
  return MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, MPI_MAX, c->comm);
}

int rg_comm_allreduce_sum(rg_comm *c, float *buf, int64_t n) {
  if (c->size == 1) return 0;
  for (int64_t at = 0; at < n; at += MAX_CALL) {
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf + at, (int)min64(n - at, MAX_CALL), MPI_FLOAT, MPI_SUM,
                           c->comm);
    if (rc != MPI_SUCCESS) return rc;
  }
  return 0;
}

const char *rg_comm_error(int code, char *buf, size_t len) {
  char text[MPI_MAX_ERROR_STRING];
  int n = 0;
  if (MPI_Error_string(code, text, &n) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error");
  /* At most 200 bytes of the text: the caller quotes it in a message. */
  snprintf(buf, len, "%.200s (MPI error %d)", text, code);
  return buf;
}
