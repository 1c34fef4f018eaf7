/* Loading, limiting, splitting and standardizing the data of a run
 * (train_data.h). */
#include "train_data.h"

#include <stdlib.h>
#include <string.h>

/* Philox stream of the train_limit row choice, apart from the library's. */
#define LIMIT_STREAM 0x4C494D4954000000ull /* "LIMIT" */

/* A copy of n rows of src: a random choice when shuffle, else the first. */
static rg_dataset *copy_rows(rg_ctx *ctx, const rg_dataset *src, int64_t n, bool shuffle,
                             uint64_t seed) {
  int64_t *rows = malloc((size_t)src->n * sizeof *rows);
  if (!rows) return NULL;
  if (shuffle)
    rg_permutation(seed, LIMIT_STREAM, src->n, rows);
  else
    for (int64_t i = 0; i < src->n; i++) rows[i] = i;
  rg_dataset *copy = rg_dataset_subset(ctx, src, rows, n);
  free(rows);
  return copy;
}

rg_dataset *train_data_sample(rg_ctx *ctx, const rg_dataset *src, int64_t n, uint64_t seed) {
  return copy_rows(ctx, src, n, true, seed);
}

static rg_status failure(rg_ctx *ctx, rg_status s, const char *why, char *message, size_t size) {
  if (rg_ctx_status(ctx) != RG_OK) {
    s = rg_ctx_status(ctx);
    why = rg_ctx_message(ctx);
  }
  snprintf(message, size, "%s", why);
  return s;
}

rg_status train_data_prepare(rg_ctx *ctx, const train_config *c, train_data *d, char *message,
                             size_t size) {
  memset(d, 0, sizeof *d);
  rg_dataset *loaded = c->train_set ? NULL : rg_dataset_load_mnist(ctx, c->data_dir, true);
  const rg_dataset *full = c->train_set ? c->train_set : loaded;
  if (full) {
    d->test = c->test_set ? copy_rows(ctx, c->test_set, c->test_set->n, false, 0)
                          : rg_dataset_load_mnist(ctx, c->data_dir, false);
  }
  rg_dataset *limited = NULL;
  if (full && c->train_limit > 0 && c->train_limit < full->n)
    full = limited = train_data_sample(ctx, full, c->train_limit, c->seed);
  if (full && d->test) rg_dataset_split(ctx, full, c->val_fraction, c->seed, &d->train, &d->val);
  rg_dataset_free(limited);
  rg_dataset_free(loaded);
  if (!d->train || !d->test) {
    train_data_free(d);
    return failure(ctx, RG_ENOMEM, "out of memory preparing the data", message, size);
  }
  if (d->train->features != d->test->features) {
    char why[160];
    snprintf(why, sizeof why, "the training set has %lld features per row but the test set %lld",
             (long long)d->train->features, (long long)d->test->features);
    train_data_free(d);
    return failure(ctx, RG_ESHAPE, why, message, size);
  }
  d->standardizer = rg_standardizer_fit(d->train);
  rg_standardizer_apply(ctx, &d->standardizer, d->train);
  rg_standardizer_apply(ctx, &d->standardizer, d->val);
  rg_standardizer_apply(ctx, &d->standardizer, d->test);
  d->features = (int)d->train->features;
  d->classes = d->train->classes > d->test->classes ? d->train->classes : d->test->classes;
  return rg_ctx_status(ctx) == RG_OK ? RG_OK : failure(ctx, RG_OK, "", message, size);
}

void train_data_free(train_data *d) {
  rg_dataset_free(d->train);
  rg_dataset_free(d->val);
  rg_dataset_free(d->test);
  memset(d, 0, sizeof *d);
}
