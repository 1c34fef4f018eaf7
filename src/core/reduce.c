/* Reductions that stay on one thread: dot over fixed chunks, and max |x|
 * (rg_reduce, the threaded one, is in parallel.c). */
#include "core/internal.h"

float rg_reduce_dot(rg_ctx *ctx, int64_t n, const float *x, const float *y) {
  float total = 0.0f;
  for (int64_t at = 0; at < n; at += RG_CHUNK)
    total = total + ctx->k->dot(n - at < RG_CHUNK ? n - at : RG_CHUNK, x + at, y + at);
  return total;
}

/* max|x| needs no chunking (exact), but the kernel takes any length. */
float rg_reduce_amax(rg_ctx *ctx, int64_t n, const float *x) { return ctx->k->amax(n, x); }
