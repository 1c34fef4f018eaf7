/* The datasets of a training run: the training set (loaded from the data
 * directory or a preloaded set), limited to train_limit random rows, split
 * into training and validation parts, and the test set; all standardized
 * with a standardizer fitted on the training part only. */
#ifndef RG_TOOLS_TRAIN_DATA_H
#define RG_TOOLS_TRAIN_DATA_H

#include "trainer.h"

typedef struct train_data {
  rg_dataset *train, *val, *test; /* owned copies; val may have 0 rows */
  rg_standardizer standardizer;
  int features, classes;
} train_data;

/* Fills d; on error returns the status with the reason in message. */
rg_status train_data_prepare(rg_ctx *ctx, const train_config *c, train_data *d, char *message,
                             size_t size);
void train_data_free(train_data *d);

/* A copy of n rows of src chosen at random from seed (the rows train_limit
 * keeps). */
rg_dataset *train_data_sample(rg_ctx *ctx, const rg_dataset *src, int64_t n, uint64_t seed);

#endif
