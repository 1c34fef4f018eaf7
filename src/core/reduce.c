/* Long reductions cut into fixed chunks of RG_CHUNK elements; the chunks'
 * partial results add in chunk order. The chunking is part of the result's
 * definition, so splitting chunks over threads cannot change it. */
#include "core/internal.h"

float rg_reduce(rg_ctx *ctx, rg_reduce_fn fn, int64_t n, const float *x) {
  (void)ctx;
  float total = 0.0f;
  for (int64_t at = 0; at < n; at += RG_CHUNK)
    total = total + fn(n - at < RG_CHUNK ? n - at : RG_CHUNK, x + at);
  return total;
}

float rg_reduce_dot(rg_ctx *ctx, int64_t n, const float *x, const float *y) {
  float total = 0.0f;
  for (int64_t at = 0; at < n; at += RG_CHUNK)
    total = total + ctx->k->dot(n - at < RG_CHUNK ? n - at : RG_CHUNK, x + at, y + at);
  return total;
}

/* max|x| needs no chunking (exact), but the kernel takes any length. */
float rg_reduce_amax(rg_ctx *ctx, int64_t n, const float *x) { return ctx->k->amax(n, x); }
