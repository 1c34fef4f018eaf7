/* Arena allocation for transients. On reset, a tape that needed several
 * chunks gets them merged into one chunk of the high-water size, so from the
 * second step on an unchanged loop fits in a single chunk: no allocation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define ALIGN 64
#define HEADER ((sizeof(rg_arena_chunk) + ALIGN - 1) / ALIGN * ALIGN)

static rg_arena_chunk *chunk_new(rg_ctx *ctx, const char *fn, size_t size) {
  if (size > SIZE_MAX - HEADER) {
    rg_fail(ctx, RG_EOVERFLOW, fn, "arena chunk of %zu bytes overflows", size);
    return NULL;
  }
  rg_arena_chunk *c = rg_heap_alloc(ctx, fn, HEADER + size);
  if (!c) return NULL;
  c->next = NULL;
  c->size = size;
  c->used = 0;
  return c;
}

static size_t arena_used(const rg_arena *a) {
  size_t total = 0;
  for (rg_arena_chunk *c = a->head; c; c = c->next) total += c->used;
  return total;
}

void *rg_arena_get(rg_ctx *ctx, const char *fn, size_t bytes) {
  rg_arena *a = &ctx->arena;
  if (rg_alloc_injected(ctx, fn, bytes)) return NULL;
  size_t need = (bytes + ALIGN - 1) / ALIGN * ALIGN;
  if (need < bytes) {
    rg_fail(ctx, RG_EOVERFLOW, fn, "arena request of %zu bytes overflows", bytes);
    return NULL;
  }
  if (!a->head || a->head->size - a->head->used < need) {
    size_t size = a->head && a->head->size <= SIZE_MAX / 2 ? a->head->size * 2 : a->initial;
    /* Under a memory limit, a chunk takes no more than half the room that
     * is left, so a small limit still serves small tensors and leaves room
     * for parameters made later. */
    size_t held = (size_t)ctx->stats.heap_bytes, limit = ctx->mem_limit;
    size_t room = limit > held && limit - held > HEADER ? limit - held - HEADER : 0;
    if (limit && size > room / 2) size = room / 2;
    if (size < need) size = need;
    rg_arena_chunk *c = chunk_new(ctx, fn, size);
    if (!c) return NULL;
    c->next = a->head;
    a->head = c;
  }
  char *p = (char *)a->head + HEADER + a->head->used;
  a->head->used += need;
  ctx->stats.arena_bytes_used = arena_used(a);
  return p;
}

void *rg_arena_zeroed(rg_ctx *ctx, const char *fn, size_t bytes) {
  void *p = rg_arena_get(ctx, fn, bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

static void free_chunks(rg_ctx *ctx, rg_arena_chunk *c) {
  while (c) {
    rg_arena_chunk *next = c->next;
    rg_heap_free(ctx, c, HEADER + c->size);
    c = next;
  }
}

void rg_arena_reset(rg_ctx *ctx) {
  rg_arena *a = &ctx->arena;
  size_t used = arena_used(a);
  if (used > a->high_water) a->high_water = used;
  if (a->head && a->head->next) {
    /* Several chunks: replace them by one that holds the whole tape. */
    free_chunks(ctx, a->head);
    a->head = chunk_new(ctx, "rg_tape_reset", a->high_water);
  }
  if (a->head) a->head->used = 0;
  ctx->stats.arena_bytes_used = 0;
}

void rg_arena_release(rg_ctx *ctx) {
  free_chunks(ctx, ctx->arena.head);
  ctx->arena.head = NULL;
}
