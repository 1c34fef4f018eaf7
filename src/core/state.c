/* What a checkpoint carries besides the tensors: the registered state of
 * library objects (internal.h: rg_state_add) and the context's text
 * attributes (regrad.h: rg_ctx_set_attr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define MAX_KEY 256
#define MAX_VALUE 65536

/* Grows *array (of *cap elements of size bytes) to hold one more. */
static bool grow(rg_ctx *ctx, const char *fn, void **array, int n, int *cap, size_t size) {
  if (n < *cap) return true;
  int more = *cap ? *cap * 2 : 8;
  void *grown = rg_heap_alloc(ctx, fn, (size_t)more * size);
  if (!grown) return false;
  if (n) memcpy(grown, *array, (size_t)n * size);
  rg_heap_free(ctx, *array, (size_t)*cap * size);
  *array = grown;
  *cap = more;
  return true;
}

const rg_state *rg_state_find(const rg_ctx *ctx, const char *name) {
  for (int i = 0; i < ctx->n_states; i++)
    if (strcmp(ctx->states[i].name, name) == 0) return &ctx->states[i];
  return NULL;
}

bool rg_state_add(rg_ctx *ctx, const char *fn, const rg_state_kind *kind, void *obj) {
  if (kind->bytes > RG_STATE_MAX_BYTES) { /* a library bug, not a user's */
    rg_fail(ctx, RG_EINVAL, fn, "state \"%s\" has %zu bytes, more than %d", kind->kind,
            kind->bytes, RG_STATE_MAX_BYTES);
    return false;
  }
  if (!grow(ctx, fn, (void **)&ctx->states, ctx->n_states, &ctx->cap_states, sizeof(rg_state)))
    return false;
  rg_state *s = &ctx->states[ctx->n_states];
  *s = (rg_state){.kind = kind, .obj = obj};
  /* The smallest free number: the same program names its objects alike. */
  for (int n = 0;; n++) {
    snprintf(s->name, sizeof s->name, "%s.%d", kind->kind, n);
    if (!rg_state_find(ctx, s->name)) break;
  }
  ctx->n_states++;
  return true;
}

void rg_state_remove(rg_ctx *ctx, const void *obj) {
  for (int i = 0; ctx && i < ctx->n_states; i++)
    if (ctx->states[i].obj == obj) {
      memmove(&ctx->states[i], &ctx->states[i + 1],
              (size_t)(ctx->n_states - i - 1) * sizeof(rg_state));
      if (--ctx->n_states == 0) { /* all objects gone: so is their memory */
        rg_heap_free(ctx, ctx->states, (size_t)ctx->cap_states * sizeof(rg_state));
        ctx->states = NULL;
        ctx->cap_states = 0;
      }
      return;
    }
}

static int find_attr(const rg_ctx *ctx, const char *key) {
  for (int i = 0; i < ctx->n_attrs; i++)
    if (strcmp(ctx->attrs[i].key, key) == 0) return i;
  return -1;
}

static char *copy_string(rg_ctx *ctx, const char *fn, const char *s, size_t len) {
  char *c = rg_heap_alloc(ctx, fn, len + 1);
  if (c) {
    memcpy(c, s, len);
    c[len] = '\0';
  }
  return c;
}

static void free_attr(rg_ctx *ctx, rg_attr *a) {
  rg_heap_free(ctx, a->key, strlen(a->key) + 1);
  rg_heap_free(ctx, a->value, strlen(a->value) + 1);
}

rg_status rg_attr_set(rg_ctx *ctx, const char *fn, const char *key, size_t key_len,
                      const char *value, size_t value_len) {
  int at = -1;
  for (int i = 0; i < ctx->n_attrs && at < 0; i++)
    if (strlen(ctx->attrs[i].key) == key_len && memcmp(ctx->attrs[i].key, key, key_len) == 0)
      at = i;
  char *k = copy_string(ctx, fn, key, key_len);
  char *v = k ? copy_string(ctx, fn, value, value_len) : NULL;
  if (!v || (at < 0 && !grow(ctx, fn, (void **)&ctx->attrs, ctx->n_attrs, &ctx->cap_attrs,
                             sizeof(rg_attr)))) {
    rg_heap_free(ctx, k, key_len + 1);
    rg_heap_free(ctx, v, value_len + 1);
    return ctx->status;
  }
  if (at >= 0)
    free_attr(ctx, &ctx->attrs[at]);
  else
    at = ctx->n_attrs++;
  ctx->attrs[at] = (rg_attr){k, v};
  return RG_OK;
}

rg_status rg_ctx_set_attr(rg_ctx *ctx, const char *key, const char *value) {
  static const char fn[] = "rg_ctx_set_attr";
  if (!rg_ctx_ok(ctx)) return rg_ctx_status(ctx);
  size_t klen = key ? strnlen(key, MAX_KEY + 1) : 0;
  if (klen == 0 || klen > MAX_KEY) {
    rg_fail(ctx, RG_EINVAL, fn, "key is %s, expected 1 to %d bytes",
            !key ? "NULL" : klen ? "too long" : "empty", MAX_KEY);
    return ctx->status;
  }
  if (!value) {
    int at = find_attr(ctx, key);
    if (at >= 0) {
      free_attr(ctx, &ctx->attrs[at]);
      memmove(&ctx->attrs[at], &ctx->attrs[at + 1],
              (size_t)(ctx->n_attrs - at - 1) * sizeof(rg_attr));
      ctx->n_attrs--;
    }
    return RG_OK;
  }
  size_t vlen = strnlen(value, MAX_VALUE + 1);
  if (vlen > MAX_VALUE) {
    rg_fail(ctx, RG_EINVAL, fn, "the value of \"%s\" is longer than %d bytes", key, MAX_VALUE);
    return ctx->status;
  }
  return rg_attr_set(ctx, fn, key, klen, value, vlen);
}

const char *rg_ctx_attr(const rg_ctx *ctx, const char *key) {
  if (!ctx || !key) return NULL;
  int at = find_attr(ctx, key);
  return at >= 0 ? ctx->attrs[at].value : NULL;
}

void rg_attrs_clear(rg_ctx *ctx) {
  for (int i = 0; i < ctx->n_attrs; i++) free_attr(ctx, &ctx->attrs[i]);
  ctx->n_attrs = 0;
}
