/* Minibatches: each epoch walks an order of the rows (the Philox permutation
 * of (seed, epoch) when shuffling) and copies them into buffers allocated
 * once, so iterating never allocates. */
#include <string.h>

#include "core/bytes.h"
#include "data/data.h"

#define MAX_EPOCH ((int64_t)1 << 53)
#define RECORD 41 /* seed, rows, batch, epoch, position, shuffle */

struct rg_batcher {
  rg_ctx *ctx;
  const rg_dataset *ds;
  int64_t n, features; /* of ds, kept so freeing needs no dataset */
  int64_t batch; /* rows per batch, at most ds->n */
  bool shuffle;
  uint64_t seed;
  int64_t epoch, pos; /* the epoch being served and its next position */
  int64_t *order;
  float *x;
  int32_t *y;
};

static void epoch_order(rg_batcher *b) {
  if (b->shuffle)
    rg_permutation(b->seed, (uint64_t)b->epoch, b->n, b->order);
  else
    for (int64_t i = 0; i < b->n; i++) b->order[i] = i;
}

/* The checkpoint record: the batcher's configuration (checked against the
 * loading batcher's) and its place: epoch and position within it. */
static void state_save(const void *obj, uint8_t *rec) {
  const rg_batcher *b = obj;
  rg_put_u64(rec, b->seed);
  rg_put_u64(rec + 8, (uint64_t)b->n);
  rg_put_u64(rec + 16, (uint64_t)b->batch);
  rg_put_u64(rec + 24, (uint64_t)b->epoch);
  rg_put_u64(rec + 32, (uint64_t)b->pos);
  rec[40] = b->shuffle;
}

static bool state_check(rg_ctx *ctx, const char *fn, const char *where, const void *obj,
                        const uint8_t *rec) {
  const rg_batcher *b = obj;
  uint64_t seed = rg_get_u64(rec);
  int64_t n = (int64_t)rg_get_u64(rec + 8), batch = (int64_t)rg_get_u64(rec + 16);
  int64_t epoch = (int64_t)rg_get_u64(rec + 24), pos = (int64_t)rg_get_u64(rec + 32);
  if (seed != b->seed || n != b->n || batch != b->batch || rec[40] != b->shuffle) {
    rg_fail(ctx, RG_ESHAPE, fn, "%s: the file's batcher has seed %llu, %lld rows, batch %lld%s; "
            "this one seed %llu, %lld rows, batch %lld%s", where, (unsigned long long)seed,
            (long long)n, (long long)batch, rec[40] ? ", shuffled" : "",
            (unsigned long long)b->seed, (long long)b->n, (long long)b->batch,
            b->shuffle ? ", shuffled" : "");
    return false;
  }
  if (epoch < 0 || epoch > MAX_EPOCH || pos < 0 || pos > n) {
    rg_fail(ctx, RG_EFORMAT, fn, "%s: epoch %lld, position %lld: expected epoch 0 to 2^53 and "
            "position 0 to %lld", where, (long long)epoch, (long long)pos, (long long)n);
    return false;
  }
  return true;
}

/* Jumps straight to the saved place: one permutation, whatever the epoch. */
static void state_load(void *obj, const uint8_t *rec) {
  rg_batcher *b = obj;
  b->epoch = (int64_t)rg_get_u64(rec + 24);
  b->pos = (int64_t)rg_get_u64(rec + 32);
  epoch_order(b);
}

static const rg_state_kind batcher_state = {"batcher", RECORD, state_save, state_check,
                                            state_load};

rg_batcher *rg_batcher_new(rg_ctx *ctx, const rg_dataset *ds, int64_t batch, bool shuffle,
                           uint64_t seed) {
  static const char fn[] = "rg_batcher_new";
  if (!rg_dataset_valid(ctx, fn, ds, 1)) return NULL;
  if (batch < 1) {
    rg_fail(ctx, RG_EINVAL, fn, "batch is %lld, expected >= 1", (long long)batch);
    return NULL;
  }
  rg_batcher *b = rg_heap_alloc(ctx, fn, sizeof *b);
  if (!b) return NULL;
  *b = (rg_batcher){.ctx = ctx, .ds = ds, .n = ds->n, .features = ds->features,
                    .batch = batch < ds->n ? batch : ds->n, .shuffle = shuffle, .seed = seed};
  b->order = rg_heap_alloc(ctx, fn, (size_t)ds->n * sizeof(int64_t));
  b->x = b->order ? rg_heap_alloc(ctx, fn, (size_t)(b->batch * ds->features) * sizeof(float))
                  : NULL;
  b->y = b->x ? rg_heap_alloc(ctx, fn, (size_t)b->batch * sizeof(int32_t)) : NULL;
  if (!b->y) {
    rg_batcher_free(b);
    return NULL;
  }
  epoch_order(b);
  if (!rg_state_add(ctx, fn, &batcher_state, b)) {
    rg_batcher_free(b);
    return NULL;
  }
  return b;
}

int64_t rg_batcher_next(rg_batcher *b, const float **x, const int32_t **y) {
  if (!b) return -1;
  if (!x || !y) {
    rg_fail(b->ctx, RG_EINVAL, "rg_batcher_next", "%s is NULL", x ? "y" : "x");
    return -1;
  }
  *x = b->x;
  *y = b->y;
  if (b->pos == b->n) { /* end of the epoch; set up the next one */
    b->epoch++;
    b->pos = 0;
    epoch_order(b);
    return 0;
  }
  int64_t m = b->n - b->pos < b->batch ? b->n - b->pos : b->batch, f = b->features;
  for (int64_t i = 0; i < m; i++) {
    int64_t r = b->order[b->pos + i];
    memcpy(b->x + i * f, b->ds->x + r * f, (size_t)f * sizeof(float));
    b->y[i] = b->ds->y[r];
  }
  b->pos += m;
  return m;
}

int64_t rg_batcher_epoch(const rg_batcher *b) { return b ? b->epoch : 0; }

void rg_batcher_free(rg_batcher *b) {
  if (!b) return;
  rg_state_remove(b->ctx, b);
  rg_heap_free(b->ctx, b->order, (size_t)b->n * sizeof(int64_t));
  rg_heap_free(b->ctx, b->x, (size_t)(b->batch * b->features) * sizeof(float));
  rg_heap_free(b->ctx, b->y, (size_t)b->batch * sizeof(int32_t));
  rg_heap_free(b->ctx, b, sizeof *b);
}
