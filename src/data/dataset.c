/* Datasets in memory: allocation, row subsets, Philox permutations, the
 * train/validation split, k-fold index sets and standardization.
 *
 * Dataset arrays are plain heap memory (malloc-compatible, freed by
 * rg_dataset_free without a context), so they are not counted in
 * rg_ctx_stats; the scratch memory a function uses on the way is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/cpu.h"
#include "data/data.h"
#include "core/philox.h"

/* Philox streams of the split and of k-fold, apart from the batcher's
 * per-epoch streams 0, 1, 2, ... */
#define SPLIT_STREAM 0x53504C4954000000ull /* "SPLIT" */
#define KFOLD_STREAM 0x4B464F4C44000000ull /* "KFOLD" */


/* Memory for x: 64-byte aligned, and for large sets 2 MiB aligned in
 * transparent huge pages where the system has them, which halves the time
 * the kernel spends handing out the pages of a 188 MB Fashion-MNIST. */
static float *alloc_rows(size_t bytes) {
  void *p = NULL;
  bool huge = bytes >= ((size_t)8 << 20);
  if (posix_memalign(&p, huge ? (size_t)2 << 20 : 64, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

/* An empty dataset of n rows: x [n, features] 64-byte aligned, y [n]. */
rg_dataset *rg_dataset_alloc(rg_ctx *ctx, const char *fn, int64_t n, int64_t features) {
  int64_t numel;
  if (n < 0 || features < 1 || __builtin_mul_overflow(n, features, &numel) ||
      numel > (int64_t)(SIZE_MAX / 2 / sizeof(float))) {
    rg_fail(ctx, RG_EOVERFLOW, fn, "a dataset of %lld rows of %lld features is too large",
            (long long)n, (long long)features);
    return NULL;
  }
  /* Datasets are plain malloc memory, freed without the context, so they are
   * not counted; but each array must fit in what is left of the memory
   * limit, and each is a counted allocation for fault injection. */
  size_t xbytes = numel ? (size_t)numel * sizeof(float) : 1, ybytes = n ? (size_t)n * 4 : 1;
  rg_dataset *ds = rg_alloc_allowed(ctx, fn, sizeof *ds) ? calloc(1, sizeof *ds) : NULL;
  if (ds && rg_alloc_allowed(ctx, fn, xbytes)) ds->x = alloc_rows(xbytes);
  if (ds && ds->x && rg_alloc_allowed(ctx, fn, ybytes)) ds->y = malloc(ybytes);
  if (!ds || !ds->x || !ds->y) {
    rg_dataset_free(ds);
    rg_fail(ctx, RG_ENOMEM, fn, "out of memory allocating a dataset of %lld rows of %lld features",
            (long long)n, (long long)features);
    return NULL;
  }
  ds->n = n;
  ds->features = features;
  return ds;
}

void rg_dataset_free(rg_dataset *ds) {
  if (!ds) return;
  free(ds->x);
  free(ds->y);
  free(ds);
}

/* True when ctx has no pending error and ds is a usable dataset of at least
 * min_n rows. */
bool rg_dataset_valid(rg_ctx *ctx, const char *fn, const rg_dataset *ds, int64_t min_n) {
  int64_t numel;
  if (!rg_ctx_ok(ctx)) return false;
  if (!ds) {
    rg_fail(ctx, RG_EINVAL, fn, "ds is NULL");
    return false;
  }
  if (ds->n < min_n || ds->features < 1 || !ds->x || !ds->y || ds->classes < 1 ||
      __builtin_mul_overflow(ds->n, ds->features, &numel)) {
    rg_fail(ctx, RG_EINVAL, fn,
            "ds has n %lld, features %lld, classes %d, x %s, y %s; expected n >= %lld, "
            "features >= 1, classes >= 1 and both arrays",
            (long long)ds->n, (long long)ds->features, ds->classes, ds->x ? "set" : "NULL",
            ds->y ? "set" : "NULL", (long long)min_n);
    return false;
  }
  return true;
}

rg_dataset *rg_dataset_subset(rg_ctx *ctx, const rg_dataset *src, const int64_t *rows, int64_t n) {
  static const char fn[] = "rg_dataset_subset";
  if (!rg_dataset_valid(ctx, fn, src, 1)) return NULL;
  if (n < 0 || (n > 0 && !rows)) {
    rg_fail(ctx, RG_EINVAL, fn, "n is %lld and rows %s, expected n >= 0 and rows for n > 0",
            (long long)n, rows ? "set" : "NULL");
    return NULL;
  }
  for (int64_t i = 0; i < n; i++)
    if (rows[i] < 0 || rows[i] >= src->n) {
      rg_fail(ctx, RG_ERANGE, fn, "rows[%lld] is %lld, expected 0 <= row < %lld", (long long)i,
              (long long)rows[i], (long long)src->n);
      return NULL;
    }
  rg_dataset *ds = rg_dataset_alloc(ctx, fn, n, src->features);
  if (!ds) return NULL;
  ds->rows = src->rows;
  ds->cols = src->cols;
  ds->classes = src->classes;
  size_t row_bytes = (size_t)src->features * sizeof(float);
  for (int64_t i = 0; i < n; i++) {
    memcpy(ds->x + i * src->features, src->x + rows[i] * src->features, row_bytes);
    ds->y[i] = src->y[rows[i]];
  }
  return ds;
}

/* ----------------------------------------------------------- permutations */

/* Consecutive 32-bit words of the Philox stream (seed, stream). */
typedef struct philox_words {
  uint64_t seed, stream, block;
  uint32_t word[4];
  int used;
} philox_words;

static uint64_t next_u64(philox_words *g) {
  uint64_t v = 0;
  for (int half = 0; half < 2; half++) {
    if (g->used == 4) {
      rg_philox_block(g->seed, g->stream, g->block++, g->word);
      g->used = 0;
    }
    v = (v << 32) | g->word[g->used++];
  }
  return v;
}

/* Uniform in [0, bound) without bias (Lemire's multiply-and-reject). */
static uint64_t below(philox_words *g, uint64_t bound) {
  __extension__ typedef unsigned __int128 u128;
  u128 m = (u128)next_u64(g) * bound;
  if ((uint64_t)m < bound) {
    uint64_t reject = -bound % bound;
    while ((uint64_t)m < reject) m = (u128)next_u64(g) * bound;
  }
  return (uint64_t)(m >> 64);
}

void rg_permutation(uint64_t seed, uint64_t stream, int64_t n, int64_t *perm) {
  if (!perm || n < 1) return;
  philox_words g = {.seed = seed, .stream = stream, .used = 4};
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)below(&g, (uint64_t)i + 1);
    int64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}

rg_status rg_dataset_split(rg_ctx *ctx, const rg_dataset *src, double val_fraction, uint64_t seed,
                           rg_dataset **train, rg_dataset **val) {
  static const char fn[] = "rg_dataset_split";
  if (train) *train = NULL;
  if (val) *val = NULL;
  if (!rg_dataset_valid(ctx, fn, src, 1)) return rg_ctx_status(ctx);
  if (!train || !val) {
    rg_fail(ctx, RG_EINVAL, fn, "%s is NULL", train ? "val" : "train");
    return rg_ctx_status(ctx);
  }
  if (!(val_fraction >= 0.0 && val_fraction < 1.0)) {
    rg_fail(ctx, RG_EINVAL, fn, "val_fraction is %g, expected a value in [0, 1)", val_fraction);
    return rg_ctx_status(ctx);
  }
  int64_t n_val = llround(val_fraction * (double)src->n), n_train = src->n - n_val;
  if (n_train < 1) {
    rg_fail(ctx, RG_EINVAL, fn, "val_fraction %g of %lld rows leaves no training rows",
            val_fraction, (long long)src->n);
    return rg_ctx_status(ctx);
  }
  size_t bytes = (size_t)src->n * sizeof(int64_t);
  int64_t *perm = rg_heap_alloc(ctx, fn, bytes);
  if (!perm) return rg_ctx_status(ctx);
  rg_permutation(seed, SPLIT_STREAM, src->n, perm);
  *train = rg_dataset_subset(ctx, src, perm, n_train);
  *val = rg_dataset_subset(ctx, src, perm + n_train, n_val);
  rg_heap_free(ctx, perm, bytes);
  if (!*train || !*val) {
    rg_dataset_free(*train);
    rg_dataset_free(*val);
    *train = *val = NULL;
  }
  return rg_ctx_status(ctx);
}

rg_status rg_kfold(rg_ctx *ctx, int64_t n, int folds, int k, uint64_t seed, int64_t *train_rows,
                   int64_t *n_train, int64_t *val_rows, int64_t *n_val) {
  static const char fn[] = "rg_kfold";
  if (!rg_ctx_ok(ctx)) return rg_ctx_status(ctx);
  if (!train_rows || !n_train || !val_rows || !n_val) {
    rg_fail(ctx, RG_EINVAL, fn, "an output (train_rows, n_train, val_rows, n_val) is NULL");
    return rg_ctx_status(ctx);
  }
  if (folds < 2 || n < folds || k < 0 || k >= folds) {
    rg_fail(ctx, RG_EINVAL, fn, "n is %lld, folds %d and k %d, expected 2 <= folds <= n and "
            "0 <= k < folds", (long long)n, folds, k);
    return rg_ctx_status(ctx);
  }
  /* Fold k holds shuffled positions [lo, lo + size): the first n % folds
   * folds take one row more than the others. */
  int64_t base = n / folds, extra = n % folds;
  int64_t size = base + (k < extra), lo = k * base + (k < extra ? k : extra);
  rg_permutation(seed, KFOLD_STREAM, n, train_rows);
  memcpy(val_rows, train_rows + lo, (size_t)size * sizeof(int64_t));
  memmove(train_rows + lo, train_rows + lo + size, (size_t)(n - lo - size) * sizeof(int64_t));
  *n_val = size;
  *n_train = n - size;
  return RG_OK;
}

/* --------------------------------------------------------- standardizer */

/* The fit reduces in blocks of FIT_BLOCK elements through the kernel table,
 * adding the blocks' partial results in double in order: one definition of
 * the result, the same bits on every ISA. */
#define FIT_BLOCK 4096

#define RG_STD_FLOOR 1e-6f /* the smallest std a standardizer may have */

rg_standardizer rg_standardizer_fit(const rg_dataset *ds) {
  rg_standardizer st = {0.0f, 1.0f};
  int64_t total;
  if (!ds || ds->n < 1 || ds->features < 1 || !ds->x ||
      __builtin_mul_overflow(ds->n, ds->features, &total))
    return st;
  /* Every ISA gives the same bits, so the best table serves without a ctx. */
  const struct rg_kernels *k = rg_isa_table(rg_isa_best());
  if (!k) return st;
  double sum = 0.0, sumsq = 0.0;
  for (int64_t at = 0; at < total; at += FIT_BLOCK)
    sum += k->sum(total - at < FIT_BLOCK ? total - at : FIT_BLOCK, ds->x + at);
  float mean = (float)(sum / (double)total);
  float centered[FIT_BLOCK];
  for (int64_t at = 0; at < total; at += FIT_BLOCK) {
    int64_t len = total - at < FIT_BLOCK ? total - at : FIT_BLOCK;
    for (int64_t i = 0; i < len; i++) centered[i] = -mean;
    k->axpy(len, 1.0f, ds->x + at, centered);
    sumsq += k->sumsq(len, centered); /* double: exact squares */
  }
  double std = sqrt(sumsq / (double)total);
  st.mean = mean;
  st.std = std < RG_STD_FLOOR ? RG_STD_FLOOR : (float)std;
  return st;
}

void rg_standardizer_apply(rg_ctx *ctx, const rg_standardizer *st, rg_dataset *ds) {
  static const char fn[] = "rg_standardizer_apply";
  if (!rg_dataset_valid(ctx, fn, ds, 0)) return;
  /* The fit's floor: a smaller std (1e-45) makes 1/std infinite or the data huge. */
  if (!st || !isfinite(st->mean) || !isfinite(st->std) || !(st->std >= RG_STD_FLOOR)) {
    rg_fail(ctx, RG_EINVAL, fn, "st is %s (mean %g, std %g), expected finite values, std >= 1e-6",
            st ? "set" : "NULL", st ? (double)st->mean : 0.0, st ? (double)st->std : 0.0);
    return;
  }
  if (ds->n == 0) return;
  /* Batch-norm's apply kernel with the same mean and 1/std in every column. */
  int64_t f = ds->features;
  size_t bytes = 4 * (size_t)f * sizeof(float);
  float *mean = rg_heap_alloc(ctx, fn, bytes);
  if (!mean) return;
  float *invstd = mean + f, *gamma = invstd + f, *beta = gamma + f;
  for (int64_t j = 0; j < f; j++) {
    mean[j] = st->mean;
    invstd[j] = 1.0f / st->std;
    gamma[j] = 1.0f;
    beta[j] = 0.0f;
  }
  ctx->k->bn_apply(ds->n, f, ds->x, mean, invstd, gamma, beta, ds->x);
  rg_heap_free(ctx, mean, bytes);
}
