/* Context lifetime, configuration, modes and ISA choice. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cpu.h"
#include "core/pool.h"
#include "core/internal.h"

#define DEFAULT_ARENA (1u << 20)

const char *rg_version(void) { return RG_VERSION; }

bool rg_isa_supported(const char *isa) {
  int i = rg_isa_from_name(isa);
  return i >= 0 && rg_isa_usable((enum rg_isa)i);
}

/* Resolves a requested ISA name (NULL or "auto": REGRAD_ISA, else the best)
 * into ctx->k, or sets the error and leaves ctx->k unchanged. */
static rg_status choose_isa(rg_ctx *ctx, const char *fn, const char *want) {
  if (!want || !*want || strcasecmp(want, "auto") == 0) {
    const char *env = getenv("REGRAD_ISA");
    want = (env && *env && strcasecmp(env, "auto") != 0) ? env : NULL;
  }
  int isa = want ? rg_isa_from_name(want) : (int)rg_isa_best();
  if (isa < 0) {
    rg_fail(ctx, RG_EINVAL, fn, "unknown ISA \"%s\" (expected scalar, avx2, avx512, neon or auto)",
            want);
    return RG_EINVAL;
  }
  if (!rg_isa_usable((enum rg_isa)isa)) {
    rg_fail(ctx, RG_EUNSUPPORTED, fn, "ISA \"%s\" is not %s", want,
            rg_isa_table((enum rg_isa)isa) ? "supported by this CPU" : "built into this library");
    return RG_EUNSUPPORTED;
  }
  ctx->isa = isa;
  ctx->k = rg_isa_table((enum rg_isa)isa);
  return RG_OK;
}

rg_ctx *rg_ctx_new(const rg_config *cfg) {
  rg_config c = cfg ? *cfg : (rg_config){0};
  rg_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return NULL;
  ctx->stats.heap_allocs = 1;
  ctx->stats.heap_bytes = sizeof *ctx;
  ctx->seed = c.seed;
  ctx->training = true;
  ctx->grad_enabled = true;
  ctx->rules = rg_backward_rules;
  ctx->arena.initial = c.arena_bytes ? c.arena_bytes : DEFAULT_ARENA;
  ctx->mem_limit = c.mem_limit;
  ctx->isa = RG_ISA_SCALAR;
  ctx->k = rg_isa_table(RG_ISA_SCALAR);
  if (c.threads < 0 || c.threads > 256) {
    rg_fail(ctx, RG_EINVAL, "rg_ctx_new", "threads is %d, expected 0 to 256", c.threads);
    return ctx;
  }
  ctx->threads = c.threads ? c.threads : 1;
  if (ctx->threads > 1) {
    ctx->pool = rg_pool_new(ctx->threads - 1);
    ctx->stats.heap_allocs++;
    if (!ctx->pool) rg_fail(ctx, RG_ENOMEM, "rg_ctx_new", "cannot start %d threads", ctx->threads);
  }
  choose_isa(ctx, "rg_ctx_new", c.isa);
  return ctx;
}

void rg_ctx_free(rg_ctx *ctx) {
  if (!ctx) return;
  rg_tape_reset(ctx);
  rg_arena_release(ctx);
  rg_slots_release(ctx);
  rg_pool_free(ctx->pool);
  for (int i = 0; i < ctx->n_params; i++) {
    rg_tensor *p = ctx->params[i];
    free(p->name);
    free(p->data);
    free(p->grad);
    free(p);
  }
  free(ctx->params);
  rg_attrs_clear(ctx);
  free(ctx->attrs);
  free(ctx->states);
  free(ctx);
}

rg_stats rg_ctx_stats(const rg_ctx *ctx) {
  rg_stats s = {0};
  if (ctx) {
    s = ctx->stats;
    s.tape_nodes = ctx->tape_nodes;
  }
  return s;
}

void rg_set_training(rg_ctx *ctx, bool training) {
  if (ctx) ctx->training = training;
}

bool rg_is_training(const rg_ctx *ctx) { return ctx && ctx->training; }

void rg_set_anomaly_mode(rg_ctx *ctx, bool on) {
  if (ctx) ctx->anomaly = on;
}

bool rg_set_grad_enabled(rg_ctx *ctx, bool enabled) {
  if (!ctx) return false;
  bool was = ctx->grad_enabled;
  ctx->grad_enabled = enabled;
  return was;
}

rg_status rg_set_isa(rg_ctx *ctx, const char *isa) {
  if (!ctx) return RG_EINVAL;
  if (ctx->status != RG_OK) return ctx->status;
  return choose_isa(ctx, "rg_set_isa", isa);
}

const char *rg_ctx_isa(const rg_ctx *ctx) { return ctx ? ctx->k->isa : "none"; }
