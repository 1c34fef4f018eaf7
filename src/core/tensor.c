/* Tensors: validation, transients in the arena, persistent parameters and
 * buffers on the heap, accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

const char *rg_shape_str(rg_shape s, char *buf, size_t len) {
  size_t at = 0;
  at += (size_t)snprintf(buf + at, len - at, "[");
  for (int i = 0; i < s.rank && i < RG_MAX_RANK && at < len; i++)
    at += (size_t)snprintf(buf + at, len - at, i ? ",%lld" : "%lld", (long long)s.dim[i]);
  if (at < len) snprintf(buf + at, len - at, "]");
  return buf;
}

bool rg_same_shape(rg_shape a, rg_shape b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank; i++)
    if (a.dim[i] != b.dim[i]) return false;
  return true;
}

bool rg_shape_valid(rg_ctx *ctx, const char *fn, const char *arg, rg_shape s, int64_t *numel) {
  if (s.rank < 1 || s.rank > RG_MAX_RANK) {
    rg_fail(ctx, RG_EINVAL, fn, "%s has rank %d, expected 1 to %d", arg, s.rank, RG_MAX_RANK);
    return false;
  }
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++) {
    if (s.dim[i] < 1) {
      rg_fail(ctx, RG_EINVAL, fn, "%s dimension %d is %lld, expected >= 1", arg, i,
              (long long)s.dim[i]);
      return false;
    }
    /* Elements must also fit in bytes: keep n * 4 <= INT64_MAX. */
    if (n > (INT64_MAX / 4) / s.dim[i]) {
      rg_fail(ctx, RG_EOVERFLOW, fn, "%s %s has too many elements", arg, RG_SHAPE_STR(s));
      return false;
    }
    n *= s.dim[i];
  }
  if ((uint64_t)n > SIZE_MAX / sizeof(float)) {
    rg_fail(ctx, RG_EOVERFLOW, fn, "%s %s does not fit in memory", arg, RG_SHAPE_STR(s));
    return false;
  }
  *numel = n;
  return true;
}

bool rg_finite_arg(rg_ctx *ctx, const char *fn, const char *arg, float v) {
  if (v - v == 0.0f) return true;
  rg_fail(ctx, RG_EINVAL, fn, "%s is %g, expected a finite value", arg, (double)v);
  return false;
}

void rg_rows(const rg_tensor *t, int64_t *m, int64_t *n) {
  *m = t->shape.rank >= 2 ? t->shape.dim[0] : 1;
  *n = t->numel / *m;
}

/* A transient's header over d (NULL: numel floats in the arena), in a slot
 * of the header pool (handle.c) that rg_tape_reset retires. */
static rg_tensor *transient_new(rg_ctx *ctx, const char *fn, rg_shape shape, float *d) {
  int64_t numel;
  if (!rg_ctx_ok(ctx) || !rg_shape_valid(ctx, fn, "shape", shape, &numel)) return NULL;
  rg_tensor *t = rg_slot_new(ctx, fn);
  if (!t) return NULL;
  if (!d) d = rg_arena_get(ctx, fn, (size_t)numel * sizeof(float));
  if (!d) return NULL;
  t->kind = RG_TRANSIENT;
  t->shape = shape;
  t->numel = numel;
  t->data = d;
  t->owner = ctx;
  for (int i = shape.rank; i < RG_MAX_RANK; i++) t->shape.dim[i] = 0;
  return t;
}

rg_tensor *rg_tensor_new(rg_ctx *ctx, rg_shape shape, const float *data) {
  rg_tensor *t = transient_new(ctx, "rg_tensor_new", shape, NULL);
  if (!t) return NULL;
  if (data)
    memcpy(t->data, data, (size_t)t->numel * sizeof(float));
  else
    memset(t->data, 0, (size_t)t->numel * sizeof(float));
  return rg_handle(t);
}

rg_tensor *rg_tensor_view(rg_ctx *ctx, rg_shape shape, const float *data) {
  static const char fn[] = "rg_tensor_view";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!data) {
    rg_fail(ctx, RG_EINVAL, fn, "data is NULL, expected the tensor's values");
    return NULL;
  }
  /* The cast is safe: ops only read their inputs (the header says so of
   * rg_tensor_data on a view). */
  return rg_handle(transient_new(ctx, fn, shape, (float *)data));
}

static bool name_free(rg_ctx *ctx, const char *fn, const char *name) {
  if (!name || !*name) {
    rg_fail(ctx, RG_EINVAL, fn, "name is %s, expected a non-empty string", name ? "empty" : "NULL");
    return false;
  }
  if (rg_param_find(ctx, name)) {
    rg_fail(ctx, RG_EINVAL, fn, "name \"%s\" is already taken", name);
    return false;
  }
  return true;
}

rg_tensor *rg_persistent_new(rg_ctx *ctx, const char *fn, enum rg_kind kind, const char *name,
                             rg_shape shape, const float *data) {
  int64_t numel;
  if (!rg_ctx_ok(ctx) || !rg_shape_valid(ctx, fn, "shape", shape, &numel) ||
      !name_free(ctx, fn, name))
    return NULL;
  if (ctx->n_params == ctx->cap_params) {
    int cap = ctx->cap_params ? ctx->cap_params * 2 : 16;
    rg_tensor **grown = rg_heap_alloc(ctx, fn, (size_t)cap * sizeof *grown);
    if (!grown) return NULL;
    if (ctx->n_params) memcpy(grown, ctx->params, (size_t)ctx->n_params * sizeof *grown);
    rg_heap_free(ctx, ctx->params, (size_t)ctx->cap_params * sizeof *grown);
    ctx->params = grown;
    ctx->cap_params = cap;
  }
  size_t bytes = (size_t)numel * sizeof(float);
  rg_tensor *t = rg_heap_alloc(ctx, fn, sizeof *t);
  char *nm = rg_heap_alloc(ctx, fn, strlen(name) + 1);
  float *d = rg_heap_alloc(ctx, fn, bytes);
  float *g = kind == RG_PARAM ? rg_heap_alloc(ctx, fn, bytes) : NULL;
  if (!t || !nm || !d || (kind == RG_PARAM && !g)) {
    rg_heap_free(ctx, t, sizeof *t);
    rg_heap_free(ctx, nm, strlen(name) + 1);
    rg_heap_free(ctx, d, bytes);
    rg_heap_free(ctx, g, bytes);
    return NULL;
  }
  strcpy(nm, name);
  *t = (rg_tensor){.magic = RG_TENSOR_MAGIC, .kind = kind, .shape = shape, .numel = numel,
                   .data = d, .grad = g, .requires_grad = kind == RG_PARAM, .name = nm,
                   .owner = ctx};
  for (int i = shape.rank; i < RG_MAX_RANK; i++) t->shape.dim[i] = 0;
  if (data)
    memcpy(d, data, bytes);
  else
    memset(d, 0, bytes);
  if (g) memset(g, 0, bytes);
  ctx->params[ctx->n_params++] = t;
  return t;
}

void rg_params_truncate(rg_ctx *ctx, int n) {
  while (ctx->n_params > n) {
    rg_tensor *t = ctx->params[--ctx->n_params];
    size_t bytes = (size_t)t->numel * sizeof(float);
    rg_heap_free(ctx, t->name, strlen(t->name) + 1);
    rg_heap_free(ctx, t->data, bytes);
    rg_heap_free(ctx, t->grad, bytes);
    rg_heap_free(ctx, t, sizeof *t);
  }
}

rg_tensor *rg_param_new(rg_ctx *ctx, const char *name, rg_shape shape, const float *data) {
  return rg_persistent_new(ctx, "rg_param_new", RG_PARAM, name, shape, data);
}

rg_tensor *rg_buffer_new(rg_ctx *ctx, const char *name, rg_shape shape, const float *data) {
  return rg_persistent_new(ctx, "rg_buffer_new", RG_BUFFER, name, shape, data);
}

float *rg_tensor_data(rg_tensor *t) {
  rg_tensor *h = rg_deref(t);
  return h ? h->data : NULL;
}

float *rg_tensor_grad(rg_tensor *t) {
  rg_tensor *h = rg_deref(t);
  return h ? h->grad : NULL;
}

rg_shape rg_tensor_shape(const rg_tensor *t) {
  rg_shape none = {0, {0, 0, 0, 0}};
  const rg_tensor *h = rg_deref(t);
  return h ? h->shape : none;
}

int64_t rg_tensor_numel(const rg_tensor *t) {
  const rg_tensor *h = rg_deref(t);
  return h ? h->numel : 0;
}

const char *rg_tensor_name(const rg_tensor *t) {
  const rg_tensor *h = rg_deref(t);
  return h ? h->name : NULL;
}

bool rg_tensor_is_param(const rg_tensor *t) {
  const rg_tensor *h = rg_deref(t);
  return h && h->kind == RG_PARAM;
}

rg_tensor *const *rg_params(rg_ctx *ctx, int *n) {
  if (n) *n = ctx ? ctx->n_params : 0;
  return ctx ? ctx->params : NULL;
}

rg_tensor *rg_param_find(rg_ctx *ctx, const char *name) {
  for (int i = 0; ctx && name && i < ctx->n_params; i++)
    if (strcmp(ctx->params[i]->name, name) == 0) return ctx->params[i];
  return NULL;
}

void rg_zero_grad(rg_ctx *ctx) {
  for (int i = 0; ctx && i < ctx->n_params; i++)
    if (ctx->params[i]->grad)
      memset(ctx->params[i]->grad, 0, (size_t)ctx->params[i]->numel * sizeof(float));
}
