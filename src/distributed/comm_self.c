/* The transport of a build without MPI (comm.h): one process. rg_dist then
 * still runs the deterministic shard decomposition, so the reference run of
 * docs/distributed.md needs no MPI; a communicator is RG_EUNSUPPORTED. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "distributed/comm.h"

struct rg_comm {
  rg_ctx *ctx;
};

rg_comm *rg_comm_open(rg_ctx *ctx, void *user_comm) {
  static const char fn[] = "rg_dist_new";
  if (user_comm) {
    rg_fail(ctx, RG_EUNSUPPORTED, fn,
            "comm is not NULL, but regrad was built without MPI (meson setup -Dmpi=enabled)");
    return NULL;
  }
  rg_comm *c = rg_heap_alloc(ctx, fn, sizeof *c);
  if (c) c->ctx = ctx;
  return c;
}

void rg_comm_close(rg_comm *c) {
  if (c) rg_heap_free(c->ctx, c, sizeof *c);
}

int rg_comm_rank(const rg_comm *c) { return (void)c, 0; }
int rg_comm_size(const rg_comm *c) { return (void)c, 1; }

/* One process: the data is already everywhere. */
int rg_comm_bcast(rg_comm *c, void *buf, size_t bytes) {
  (void)c, (void)buf, (void)bytes;
  return 0;
}

int rg_comm_allgather(rg_comm *c, const float *send, float *recv, int64_t n) {
  (void)c;
  if (send != recv) memmove(recv, send, (size_t)n * sizeof *recv);
  return 0;
}

int rg_comm_allreduce_max_u64(rg_comm *c, uint64_t *v, int n) {
  (void)c, (void)v, (void)n;
  return 0;
}

int rg_comm_allreduce_sum(rg_comm *c, float *buf, int64_t n) {
  (void)c, (void)buf, (void)n;
  return 0;
}

const char *rg_comm_error(int code, char *buf, size_t len) {
  snprintf(buf, len, "transport error %d", code);
  return buf;
}
