/* The sticky error and the counted heap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

static const char *const status_names[] = {
    [RG_OK] = "RG_OK",           [RG_EINVAL] = "RG_EINVAL",
    [RG_ESHAPE] = "RG_ESHAPE",   [RG_EOVERFLOW] = "RG_EOVERFLOW",
    [RG_ENOMEM] = "RG_ENOMEM",   [RG_ERANGE] = "RG_ERANGE",
    [RG_ESTATE] = "RG_ESTATE",   [RG_EUNSUPPORTED] = "RG_EUNSUPPORTED",
    [RG_ENONFINITE] = "RG_ENONFINITE", [RG_EFORMAT] = "RG_EFORMAT",
    [RG_EIO] = "RG_EIO",
};

const char *rg_status_name(rg_status s) {
  if ((unsigned)s < sizeof status_names / sizeof status_names[0] && status_names[s])
    return status_names[s];
  return "RG_E?";
}

void rg_fail(rg_ctx *ctx, rg_status code, const char *fn, const char *fmt, ...) {
  if (!ctx || ctx->status != RG_OK) return;
  ctx->status = code;
  int len = snprintf(ctx->message, sizeof ctx->message, "%s: ", fn);
  if (len < 0 || (size_t)len >= sizeof ctx->message) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->message + len, sizeof ctx->message - (size_t)len, fmt, ap);
  va_end(ap);
}

rg_status rg_ctx_status(const rg_ctx *ctx) { return ctx ? ctx->status : RG_EINVAL; }

const char *rg_ctx_message(const rg_ctx *ctx) {
  if (!ctx) return "rg_ctx_message: ctx is NULL";
  return ctx->status == RG_OK ? "" : ctx->message;
}

void rg_ctx_clear_error(rg_ctx *ctx) {
  if (!ctx) return;
  ctx->status = RG_OK;
  ctx->message[0] = '\0';
}

bool rg_ctx_ok(rg_ctx *ctx) { return ctx && ctx->status == RG_OK; }

bool rg_alloc_injected(rg_ctx *ctx, const char *fn, size_t bytes) {
  if (++ctx->alloc_seen != ctx->fail_alloc) return false;
  rg_fail(ctx, RG_ENOMEM, fn, "out of memory allocating %zu bytes (injected failure %llu)", bytes,
          (unsigned long long)ctx->alloc_seen);
  return true;
}

bool rg_alloc_allowed(rg_ctx *ctx, const char *fn, size_t bytes) {
  if (rg_alloc_injected(ctx, fn, bytes)) return false;
  uint64_t held = ctx->stats.heap_bytes, limit = ctx->mem_limit;
  if (limit && (bytes > limit || held > limit - bytes)) {
    rg_fail(ctx, RG_ENOMEM, fn,
            "memory limit exceeded: allocating %zu bytes with %llu held would pass the limit "
            "of %llu bytes",
            bytes, (unsigned long long)held, (unsigned long long)limit);
    return false;
  }
  return true;
}

void *rg_heap_alloc(rg_ctx *ctx, const char *fn, size_t bytes) {
  void *p = NULL;
  if (bytes == 0) bytes = 1;
  if (!rg_alloc_allowed(ctx, fn, bytes)) return NULL;
  if (posix_memalign(&p, 64, bytes) != 0) p = NULL;
  if (!p) {
    rg_fail(ctx, RG_ENOMEM, fn, "out of memory allocating %zu bytes", bytes);
    return NULL;
  }
  ctx->stats.heap_allocs++;
  ctx->stats.heap_bytes += bytes;
  return p;
}

void rg_heap_free(rg_ctx *ctx, void *p, size_t bytes) {
  if (!p) return;
  free(p);
  ctx->stats.heap_bytes -= bytes ? bytes : 1;
}
