/* The gradient reduction (docs/distributed.md). A step's gradient is the
 * sum, over a fixed binary tree, of the weighted gradients of S shards of
 * the batch. Each rank builds the subtree of its S/N consecutive shards on a
 * stack of partial sums; the N subtree sums are then reduced bucket by
 * bucket:
 *   deterministic: MPI_Allgather of the bucket, then the tree's upper levels
 *     on every rank (pairs (0,1), (2,3), ..., then (01,23), ...), which is
 *     the same tree a single process builds over all S shards;
 *   fast: MPI_Allreduce(MPI_SUM) in MPI's own order.
 * Elementwise additions are exact-order operations (a[i] = a[i] + b[i]), so
 * vectorizing them does not change a bit. */
#include <string.h>

#include "distributed/dist.h"

static void add(float *out, const float *a, const float *b, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void rg_dist_push_leaf(rg_dist *d, float weight, float loss, bool failed, int64_t rows) {
  float *leaf = d->stack + (int64_t)d->top * d->len;
  d->level[d->top++] = 0;
  leaf[META_LOSS] = weight * loss;
  leaf[META_FAILED] = failed ? 1.0f : 0.0f;
  leaf[META_ROWS] = (float)rows;
  float *at = leaf + META;
  for (int p = 0; p < d->n_params; p++) {
    const float *g = d->params[p]->grad;
    int64_t n = d->params[p]->numel;
    for (int64_t i = 0; i < n; i++) at[i] = weight * g[i];
    at += n;
  }
  /* Merge blocks of equal size: left + right, as the tree does. */
  while (d->top >= 2 && d->level[d->top - 1] == d->level[d->top - 2]) {
    float *left = leaf - d->len;
    add(left, left, leaf, d->len);
    d->level[--d->top - 1]++;
    leaf = left;
  }
}

/* The tree's upper levels over the N gathered subtree sums g[N][n], the
 * root written to out. */
static void tree_sum(float *g, int ranks, int64_t n, float *out) {
  for (int stride = 1; stride < ranks; stride *= 2)
    for (int i = 0; i + stride < ranks; i += 2 * stride)
      add(2 * stride >= ranks ? out : g + (int64_t)i * n, g + (int64_t)i * n,
          g + (int64_t)(i + stride) * n, n);
}

/* Reduces part[0, len) over the ranks bucket by bucket; stops after the
 * first bucket (which holds the meta values) when a rank failed. */
static int reduce_buckets(rg_dist *d, float *part) {
  for (int64_t at = 0; at < d->len; at += d->bucket) {
    int64_t n = d->len - at < d->bucket ? d->len - at : d->bucket;
    int rc;
    if (d->mode == RG_DIST_FAST) {
      rc = rg_comm_allreduce_sum(d->comm, part + at, n);
    } else {
      rc = d->size == 1 ? 0 : rg_comm_allgather(d->comm, part + at, d->gathered, n);
      if (!rc && d->size > 1) tree_sum(d->gathered, d->size, n, part + at);
    }
    if (rc) return rc;
    if (part[META_FAILED] != 0.0f) break;
  }
  return 0;
}

rg_status rg_dist_reduce(rg_dist *d, const char *fn, int64_t batch, float *loss) {
  rg_ctx *ctx = d->ctx;
  float *part = d->stack;
  double started = rg_dist_now();
  d->top = 0;
  int rc = reduce_buckets(d, part);
  d->stats.steps++;
  if (rc) {
    rg_dist_comm_fail(d, fn, d->mode == RG_DIST_FAST ? "MPI_Allreduce" : "MPI_Allgather", rc);
    return rg_ctx_status(ctx);
  }
  if (part[META_FAILED] != 0.0f) {
    if (rg_ctx_status(ctx) == RG_OK)
      rg_fail(ctx, RG_ESTATE, fn, "%.0f rank(s) failed in this step (their messages say why)",
              (double)part[META_FAILED]);
    return rg_ctx_status(ctx);
  }
  /* Row counts add exactly in float up to 2^24. */
  if (batch <= (1 << 24) && part[META_ROWS] != (float)batch) {
    rg_fail(ctx, RG_EINVAL, fn, "the ranks' rows add up to %.0f, not to the batch of %lld",
            (double)part[META_ROWS], (long long)batch);
    return rg_ctx_status(ctx);
  }
  const float *at = part + META;
  for (int p = 0; p < d->n_params; p++) {
    memcpy(d->params[p]->grad, at, (size_t)d->params[p]->numel * sizeof(float));
    at += d->params[p]->numel;
  }
  if (loss) *loss = part[META_LOSS];
  d->stats.reduce_seconds += rg_dist_now() - started;
  return RG_OK;
}

/* The weight of `rows` rows in a batch, as the tree uses it. */
float rg_dist_weight(int64_t rows, int64_t batch) { return (float)((double)rows / (double)batch); }

rg_status rg_dist_allreduce(rg_dist *d, int64_t rows, int64_t batch, float *loss) {
  static const char fn[] = "rg_dist_allreduce";
  if (!d) return RG_EINVAL;
  bool ok = rg_dist_ok(d, fn);
  if (ok && (rows < 0 || batch < 1 || rows > batch)) {
    rg_fail(d->ctx, RG_EINVAL, fn, "rows is %lld and batch %lld, expected 0 <= rows <= batch, "
            "batch >= 1", (long long)rows, (long long)batch);
    ok = false;
  }
  d->top = 0;
  rg_dist_push_leaf(d, ok ? rg_dist_weight(rows, batch) : 0.0f, loss ? *loss : 0.0f, !ok, rows);
  return rg_dist_reduce(d, fn, batch, loss);
}
