/* rg_dist_backward: the gradient of one global batch, shard by shard
 * (docs/distributed.md). Shard s of S covers rows [s B / S, (s + 1) B / S)
 * of the batch; rank r computes shards r S/N to (r + 1) S/N - 1, which are
 * exactly its rows [r B / N, (r + 1) B / N). Each shard starts from zero
 * gradients and from its own dropout streams, base + s * 2^16, so a shard's
 * gradient does not depend on which rank computes it or what ran before. */
#include "distributed/dist.h"

/* One shard's forward and backward; false (with the context's error set)
 * on failure. *loss gets the shard's loss. */
static bool run_shard(rg_dist *d, const char *fn, uint64_t streams, int64_t row0, int64_t rows,
                      rg_shard_loss_fn loss_fn, void *user, float *loss) {
  rg_ctx *ctx = d->ctx;
  rg_zero_grad(ctx);
  *loss = 0.0f;
  if (rows == 0) return true;
  ctx->dropout_stream = streams;
  rg_tensor *t = loss_fn(ctx, row0, rows, user);
  if (t && rg_backward(ctx, t) == RG_OK) *loss = rg_tensor_data(t)[0];
  else if (rg_ctx_status(ctx) == RG_OK)
    rg_fail(ctx, RG_EINVAL, fn, "the loss function returned NULL for rows %lld..%lld",
            (long long)row0, (long long)(row0 + rows - 1));
  if (rg_ctx_status(ctx) == RG_OK && ctx->dropout_stream - streams > RG_DIST_STREAMS_PER_SHARD)
    rg_fail(ctx, RG_ESTATE, fn, "the loss function used %llu dropout streams; a shard may use %llu",
            (unsigned long long)(ctx->dropout_stream - streams),
            (unsigned long long)RG_DIST_STREAMS_PER_SHARD);
  rg_tape_reset(ctx);
  return rg_ctx_status(ctx) == RG_OK;
}

rg_status rg_dist_backward(rg_dist *d, int64_t batch, rg_shard_loss_fn loss_fn, void *user,
                           float *loss) {
  static const char fn[] = "rg_dist_backward";
  if (!d) return RG_EINVAL;
  rg_ctx *ctx = d->ctx;
  bool ok = rg_dist_ok(d, fn);
  if (ok && batch < 1)
    rg_fail(ctx, RG_EINVAL, fn, "batch is %lld, expected >= 1", (long long)batch);
  if (ok && !loss_fn) rg_fail(ctx, RG_EINVAL, fn, "loss_fn is NULL");
  ok = ok && rg_ctx_status(ctx) == RG_OK;
  /* Every rank pushes all of its leaves, failed or not, so that the stack
   * always folds to one partial sum and every rank reaches the reduction. */
  double started = rg_dist_now();
  uint64_t base = ctx->dropout_stream;
  int first = d->rank * d->local;
  d->top = 0;
  for (int s = first; s < first + d->local; s++) {
    int64_t row0 = (int64_t)s * batch / d->shards;
    int64_t rows = (int64_t)(s + 1) * batch / d->shards - row0;
    uint64_t streams = base + (uint64_t)s * RG_DIST_STREAMS_PER_SHARD;
    float shard_loss = 0.0f;
    if (ok) ok = run_shard(d, fn, streams, row0, rows, loss_fn, user, &shard_loss);
    rg_dist_push_leaf(d, ok ? rg_dist_weight(rows, batch) : 0.0f, shard_loss, !ok, rows);
  }
  ctx->dropout_stream = base + (uint64_t)d->shards * RG_DIST_STREAMS_PER_SHARD;
  d->stats.shard_seconds += rg_dist_now() - started;
  return rg_dist_reduce(d, fn, batch, loss);
}
