/* Keeping the ranks in step: agreeing on the model before a collective,
 * broadcasting rank 0's tensors, and checking that every rank holds the same
 * bits. Each function is collective and returns the same status on every
 * rank, so a failure on one rank never leaves another waiting. */
#include <string.h>

#include "distributed/dist.h"

/* FNV-1a over 64-bit words (the tail byte by byte). */
static uint64_t hash(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (; n >= 8; n -= 8, b += 8) {
    uint64_t w;
    memcpy(&w, b, 8);
    h = (h ^ w) * 0x100000001B3ull;
  }
  for (; n; n--, b++) h = (h ^ *b) * 0x100000001B3ull;
  return h;
}

#define HASH_START 0xCBF29CE484222325ull

/* Names, kinds and shapes of every parameter and buffer, in creation order. */
static uint64_t model_hash(const rg_ctx *ctx, uint64_t h) {
  for (int i = 0; i < ctx->n_params; i++) {
    const rg_tensor *t = ctx->params[i];
    h = hash(h, t->name, strlen(t->name) + 1);
    h = hash(h, &t->kind, sizeof t->kind);
    h = hash(h, &t->shape.rank, sizeof t->shape.rank);
    h = hash(h, t->shape.dim, (size_t)t->shape.rank * sizeof t->shape.dim[0]);
  }
  for (int i = 0; i < ctx->n_states; i++) {
    h = hash(h, ctx->states[i].name, strlen(ctx->states[i].name) + 1);
    h = hash(h, &ctx->states[i].kind->bytes, sizeof ctx->states[i].kind->bytes);
  }
  return h;
}

/* Rank 0's state records (optimizer step counts, clipper statistics,
 * batcher positions) to every rank, one record at a time. */
static int bcast_states(rg_dist *d) {
  rg_ctx *ctx = d->ctx;
  int rc = 0;
  for (int i = 0; i < ctx->n_states && !rc; i++) {
    uint8_t rec[RG_STATE_MAX_BYTES];
    ctx->states[i].kind->save(ctx->states[i].obj, rec);
    rc = rg_comm_bcast(d->comm, rec, ctx->states[i].kind->bytes);
    if (!rc) ctx->states[i].kind->load(ctx->states[i].obj, rec);
  }
  return rc;
}

/* Every rank offers word (0 when !ok: a failure); fails on every rank with
 * `code` when the words differ. Two small all-reduces, no allocation: the
 * largest word and the largest complement give the extremes, and only on a
 * disagreement a second one finds the first rank that failed or differs. */
static rg_status agree_word(rg_dist *d, const char *fn, bool ok, uint64_t word, rg_status code,
                            const char *what) {
  word = ok ? word | 1 : 0;
  uint64_t v[2] = {word, ~word};
  int rc = rg_comm_allreduce_max_u64(d->comm, v, 2);
  uint64_t hi = v[0], lo = ~v[1];
  uint64_t first = 0;
  bool odd = lo == 0 ? word == 0 : word != hi;
  if (!rc && lo != hi) {
    first = odd ? (uint64_t)(d->size - d->rank) : 0; /* the largest marks the first rank */
    rc = rg_comm_allreduce_max_u64(d->comm, &first, 1);
  }
  int bad = (int)((uint64_t)d->size - first);
  if (!ok) {
    /* the local error is already set */
  } else if (rc) {
    rg_dist_comm_fail(d, fn, "MPI_Allreduce", rc);
  } else if (lo == 0) {
    rg_fail(d->ctx, RG_ESTATE, fn, "rank %d failed (its message says why)", bad);
  } else if (lo != hi) {
    rg_fail(d->ctx, code, fn, "rank %d's %s differs from another rank's", bad, what);
  }
  return rg_ctx_status(d->ctx);
}

rg_status rg_dist_agree(rg_dist *d, const char *fn, bool ok, uint64_t config) {
  uint64_t h = ok ? model_hash(d->ctx, hash(HASH_START, &config, sizeof config)) : 0;
  return agree_word(d, fn, ok, h, RG_ESHAPE, "model (parameter and state names and shapes) or configuration");
}

rg_status rg_dist_broadcast(rg_dist *d) {
  static const char fn[] = "rg_dist_broadcast";
  if (!d) return RG_EINVAL;
  if (rg_dist_agree(d, fn, rg_dist_ok(d, fn), 0) != RG_OK) return rg_ctx_status(d->ctx);
  rg_ctx *ctx = d->ctx;
  uint64_t rng[2] = {ctx->seed, ctx->dropout_stream};
  int rc = rg_comm_bcast(d->comm, rng, sizeof rng);
  for (int i = 0; i < ctx->n_params && !rc; i++) {
    rg_tensor *t = ctx->params[i];
    rc = rg_comm_bcast(d->comm, t->data, (size_t)t->numel * sizeof(float));
  }
  if (!rc) rc = bcast_states(d);
  if (rc) {
    rg_dist_comm_fail(d, fn, "MPI_Bcast", rc);
    return rg_ctx_status(ctx);
  }
  ctx->seed = rng[0];
  ctx->dropout_stream = rng[1];
  return RG_OK;
}

rg_status rg_dist_check(rg_dist *d) {
  static const char fn[] = "rg_dist_check";
  if (!d) return RG_EINVAL;
  bool ok = rg_dist_ok(d, fn);
  uint64_t h = HASH_START;
  for (int i = 0; ok && i < d->n_params; i++)
    h = hash(h, d->params[i]->data, (size_t)d->params[i]->numel * sizeof(float));
  uint64_t rng[2] = {d->ctx->seed, d->ctx->dropout_stream};
  h = hash(h, rng, sizeof rng);
  return agree_word(d, fn, ok, h, RG_ESTATE, "parameters or random state");
}

/* The line of text holding byte at, as "%.*s" arguments. */
static int line_at(const char *text, size_t len, size_t at, const char **start) {
  size_t lo = at < len ? at : len, hi = lo;
  while (lo > 0 && text[lo - 1] != '\n') lo--;
  while (hi < len && text[hi] != '\n') hi++;
  *start = text + lo;
  return (int)(hi - lo > 200 ? 200 : hi - lo);
}

rg_status rg_dist_check_config(rg_dist *d, const char *config) {
  static const char fn[] = "rg_dist_check_config";
  if (!d) return RG_EINVAL;
  bool ok = rg_dist_ok(d, fn);
  if (ok && !config) {
    rg_fail(d->ctx, RG_EINVAL, fn, "config is NULL");
    ok = false;
  }
  size_t own = ok ? strlen(config) : 0;
  uint64_t len = own;
  int rc = rg_comm_bcast(d->comm, &len, sizeof len);
  size_t diff = SIZE_MAX;
  char chunk[4096], theirs[208] = "";
  for (uint64_t off = 0; !rc && off < len; off += sizeof chunk) {
    size_t n = len - off < sizeof chunk ? (size_t)(len - off) : sizeof chunk;
    if (d->rank == 0) memcpy(chunk, config + off, n);
    rc = rg_comm_bcast(d->comm, chunk, n);
    for (size_t i = 0; !rc && ok && diff == SIZE_MAX && i < n; i++)
      if (off + i >= own || config[off + i] != chunk[i]) {
        diff = (size_t)off + i;
        const char *start;
        int w = line_at(chunk, n, i, &start);
        snprintf(theirs, sizeof theirs, "%.*s", w, start);
      }
  }
  if (!rc && ok && diff == SIZE_MAX && own != len) diff = (size_t)len;
  if (rc) {
    rg_dist_comm_fail(d, fn, "MPI_Bcast", rc);
    ok = false;
  } else if (ok && diff != SIZE_MAX) {
    const char *start;
    int w = line_at(config, own, diff, &start);
    rg_fail(d->ctx, RG_EINVAL, fn, "this rank's setting \"%.*s\" differs from rank 0's \"%s\"",
            w, start, theirs);
    ok = false;
  }
  return agree_word(d, fn, ok, 1, RG_EINVAL, "configuration");
}
