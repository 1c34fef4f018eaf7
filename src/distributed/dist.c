/* rg_dist: creation, configuration and the shard arithmetic
 * (docs/distributed.md). */
#include <stdio.h>
#include <string.h>

#include "distributed/dist.h"

#define DEFAULT_BUCKET_BYTES ((size_t)4 << 20)
#define MIN_BUCKET_BYTES ((size_t)4 << 10)
#define MAX_BUCKET_BYTES ((size_t)256 << 20)

bool rg_dist_available(void) {
#ifdef RG_HAVE_MPI
  return true;
#else
  return false;
#endif
}

static bool pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

static int log2i(int v) {
  int l = 0;
  while ((1 << l) < v) l++;
  return l;
}

static int count_params(rg_ctx *ctx) {
  int n = 0;
  for (int i = 0; i < ctx->n_params; i++) n += ctx->params[i]->kind == RG_PARAM;
  return n;
}

bool rg_dist_ok(rg_dist *d, const char *fn) {
  if (!d) return false;
  if (!rg_ctx_ok(d->ctx)) return false;
  if (count_params(d->ctx) != d->n_params) {
    rg_fail(d->ctx, RG_ESTATE, fn, "the context has %d parameters, but had %d at rg_dist_new",
            count_params(d->ctx), d->n_params);
    return false;
  }
  return true;
}

void rg_dist_comm_fail(rg_dist *d, const char *fn, const char *call, int code) {
  char why[256];
  rg_fail(d->ctx, RG_ESTATE, fn, "%s failed on rank %d: %s", call, d->rank,
          rg_comm_error(code, why, sizeof why));
}

/* The shard count and bucket size from cfg, or false with the error set. */
static bool configure(rg_dist *d, const rg_dist_config *cfg) {
  static const char fn[] = "rg_dist_new";
  rg_ctx *ctx = d->ctx;
  size_t bucket_bytes = cfg->bucket_bytes ? cfg->bucket_bytes : DEFAULT_BUCKET_BYTES;
  d->mode = cfg->mode;
  if (cfg->mode != RG_DIST_DETERMINISTIC && cfg->mode != RG_DIST_FAST) {
    rg_fail(ctx, RG_EINVAL, fn, "mode is %d, expected RG_DIST_DETERMINISTIC or RG_DIST_FAST",
            (int)cfg->mode);
    return false;
  }
  if (bucket_bytes < MIN_BUCKET_BYTES || bucket_bytes > MAX_BUCKET_BYTES) {
    rg_fail(ctx, RG_EINVAL, fn, "bucket_bytes is %zu, expected 0 or %zu to %zu", bucket_bytes,
            MIN_BUCKET_BYTES, MAX_BUCKET_BYTES);
    return false;
  }
  d->bucket = (int64_t)(bucket_bytes / sizeof(float));
  if (cfg->mode == RG_DIST_FAST) {
    d->shards = d->size; /* one shard per rank: its rows */
  } else {
    d->shards = cfg->grad_shards ? cfg->grad_shards : d->size;
    if (!pow2(d->size)) {
      rg_fail(ctx, RG_EINVAL, fn, "deterministic mode needs a power-of-two rank count, not %d "
              "(use RG_DIST_FAST)", d->size);
      return false;
    }
    if (!pow2(d->shards) || d->shards % d->size) {
      rg_fail(ctx, RG_EINVAL, fn, "grad_shards is %d, expected a power of two that is a multiple "
              "of the rank count %d", cfg->grad_shards, d->size);
      return false;
    }
  }
  d->local = d->shards / d->size;
  return true;
}

/* The parameter list and the buffers: stack, levels, gather space. */
static bool allocate(rg_dist *d) {
  static const char fn[] = "rg_dist_new";
  rg_ctx *ctx = d->ctx;
  d->n_params = count_params(ctx);
  d->ctx_params = ctx->n_params;
  d->params = rg_heap_alloc(ctx, fn, (size_t)(d->n_params ? d->n_params : 1) * sizeof *d->params);
  if (!d->params) return false;
  d->len = META;
  for (int i = 0, j = 0; i < ctx->n_params; i++) {
    if (ctx->params[i]->kind != RG_PARAM) continue;
    d->params[j++] = ctx->params[i];
    d->len += ctx->params[i]->numel;
  }
  if (d->bucket > d->len) d->bucket = d->len;
  d->stats.floats = d->len;
  d->stats.buckets = (d->len + d->bucket - 1) / d->bucket;
  d->depth = log2i(d->local) + 1;
  size_t stack_bytes, gather_bytes = 0;
  if (__builtin_mul_overflow((size_t)d->len, (size_t)d->depth * sizeof(float), &stack_bytes)) {
    rg_fail(ctx, RG_EOVERFLOW, fn, "%d partial sums of %lld floats overflow", d->depth,
            (long long)d->len);
    return false;
  }
  if (d->mode == RG_DIST_DETERMINISTIC && d->size > 1)
    gather_bytes = (size_t)d->size * (size_t)d->bucket * sizeof(float);
  d->level = rg_heap_alloc(ctx, fn, (size_t)d->depth * sizeof *d->level);
  d->stack = rg_heap_alloc(ctx, fn, stack_bytes);
  d->gathered = gather_bytes ? rg_heap_alloc(ctx, fn, gather_bytes) : NULL;
  return d->level && d->stack && (d->gathered || !gather_bytes);
}

static uint64_t config_word(const rg_dist *d) {
  return (uint64_t)d->mode | (uint64_t)d->shards << 8 | (uint64_t)d->bucket << 32;
}

rg_dist *rg_dist_new(rg_ctx *ctx, void *comm, const rg_dist_config *cfg) {
  static const char fn[] = "rg_dist_new";
  if (!ctx) return NULL;
  /* A context with a pending error still takes part, and fails every rank. */
  bool ok = rg_ctx_status(ctx) == RG_OK;
  rg_dist *d = rg_heap_alloc(ctx, fn, sizeof *d);
  if (!d) return NULL;
  *d = (rg_dist){.ctx = ctx};
  d->comm = rg_comm_open(ctx, comm);
  if (!d->comm) {
    rg_heap_free(ctx, d, sizeof *d);
    return NULL;
  }
  d->rank = rg_comm_rank(d->comm);
  d->size = rg_comm_size(d->comm);
  const rg_dist_config defaults = {0};
  ok = configure(d, cfg ? cfg : &defaults) && allocate(d) && ok && rg_ctx_status(ctx) == RG_OK;
  /* Every rank takes part in the agreement and the broadcast, even one that
   * failed above, so that no rank waits forever in a collective. */
  if (rg_dist_agree(d, fn, ok, config_word(d)) != RG_OK || rg_dist_broadcast(d) != RG_OK) {
    rg_dist_free(d);
    return NULL;
  }
  return d;
}

void rg_dist_free(rg_dist *d) {
  if (!d) return;
  rg_ctx *ctx = d->ctx;
  rg_heap_free(ctx, d->gathered, (size_t)d->size * (size_t)d->bucket * sizeof(float));
  rg_heap_free(ctx, d->stack, (size_t)d->len * (size_t)d->depth * sizeof(float));
  rg_heap_free(ctx, d->level, (size_t)d->depth * sizeof *d->level);
  rg_heap_free(ctx, d->params, (size_t)(d->n_params ? d->n_params : 1) * sizeof *d->params);
  rg_comm_close(d->comm);
  rg_heap_free(ctx, d, sizeof *d);
}

rg_ctx *rg_dist_context(const rg_dist *d) { return d ? d->ctx : NULL; }

int rg_dist_rank(const rg_dist *d) { return d ? d->rank : 0; }
int rg_dist_size(const rg_dist *d) { return d ? d->size : 1; }
int rg_dist_shards(const rg_dist *d) { return d ? d->shards : 1; }

rg_dist_stats rg_dist_get_stats(const rg_dist *d) {
  rg_dist_stats none = {0};
  return d ? d->stats : none;
}

void rg_dist_rows(const rg_dist *d, int64_t batch, int64_t *lo, int64_t *hi) {
  int r = d ? d->rank : 0, n = d ? d->size : 1;
  if (batch < 0) batch = 0;
  if (lo) *lo = (int64_t)r * batch / n;
  if (hi) *hi = (int64_t)(r + 1) * batch / n;
}
