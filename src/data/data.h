/* Helpers shared by the files of src/data (defined in dataset.c). */
#ifndef RG_DATA_H
#define RG_DATA_H
#include "core/internal.h"

/* A dataset with room for n rows of `features` floats (uncounted memory,
 * freed by rg_dataset_free), or NULL with RG_ENOMEM / RG_EOVERFLOW set. */
rg_dataset *rg_dataset_alloc(rg_ctx *ctx, const char *fn, int64_t n, int64_t features);
/* Checks ds is non-NULL, consistent and has at least min_n rows. */
bool rg_dataset_valid(rg_ctx *ctx, const char *fn, const rg_dataset *ds, int64_t min_n);
#endif
