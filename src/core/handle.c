/* The pool of transient headers behind the handles of internal.h.
 *
 * Slots come in slabs that live until rg_ctx_free, so deciding whether a
 * handle is stale never reads freed memory. Slots are handed out in order
 * and rg_tape_reset starts again at the first, so a loop whose tape does not
 * grow reuses the same slots and allocates nothing after its first step.
 * Each reset moves every slot used since the last one to its next
 * generation; a slot that reaches RG_GEN_LAST gets generation 0 (retired:
 * skipped from then on and matched by no handle), so a slot is reused about
 * four million times before a fresh one replaces it. */
#include <stdint.h>
#include <string.h>

#include "core/internal.h"

#define FIRST_SLAB 64 /* slots; each new slab doubles the pool */

struct rg_slab {
  struct rg_slab *next;
  size_t n;               /* slots */
  size_t bytes;           /* of the whole block, for rg_heap_free */
  struct rg_tensor *slot; /* n slots of RG_SLOT_BYTES, 128-byte aligned */
};

static struct rg_tensor *slot_at(const struct rg_slab *s, size_t i) {
  return (struct rg_tensor *)((char *)s->slot + i * RG_SLOT_BYTES);
}

static struct rg_slab *slab_new(rg_ctx *ctx, const char *fn, size_t n) {
  /* The header, then the slots from the first 128-byte boundary (the block
   * itself is 64-byte aligned). */
  size_t head = (sizeof(struct rg_slab) + 63) / 64 * 64;
  if (n > (SIZE_MAX - head - 64) / RG_SLOT_BYTES) {
    rg_fail(ctx, RG_EOVERFLOW, fn, "a pool of %zu tensor headers overflows", n);
    return NULL;
  }
  size_t bytes = head + 64 + n * RG_SLOT_BYTES;
  struct rg_slab *s = rg_heap_alloc(ctx, fn, bytes);
  if (!s) return NULL;
  uintptr_t first = ((uintptr_t)s + head + RG_SLOT_BYTES - 1) & ~(uintptr_t)(RG_SLOT_BYTES - 1);
  if ((first + n * RG_SLOT_BYTES) > (RG_HANDLE_ADDR | 0x7f) + 1) {
    /* Handles hold 48 address bits; no Linux allocator returns more unless
     * asked to (x86-64 5-level paging, arm64 52-bit VA). */
    rg_heap_free(ctx, s, bytes);
    rg_fail(ctx, RG_EUNSUPPORTED, fn, "tensor headers were allocated above 2^48");
    return NULL;
  }
  *s = (struct rg_slab){.n = n, .bytes = bytes, .slot = (struct rg_tensor *)first};
  memset(s->slot, 0, n * RG_SLOT_BYTES);
  for (size_t i = 0; i < n; i++) slot_at(s, i)->gen = RG_GEN_FIRST;
  ctx->slots_total += n;
  return s;
}

struct rg_tensor *rg_slot_new(rg_ctx *ctx, const char *fn) {
  for (;;) {
    struct rg_slab *s = ctx->slab_at;
    if (s && ctx->slot_at < s->n) {
      struct rg_tensor *t = slot_at(s, ctx->slot_at++);
      if (t->gen == 0) continue; /* retired */
      uint32_t gen = t->gen;
      memset(t, 0, sizeof *t);
      t->gen = gen;
      return t;
    }
    if (s && s->next) {
      ctx->slab_at = s->next;
      ctx->slot_at = 0;
      continue;
    }
    if (!s && ctx->slabs) { /* first slot after a reset */
      ctx->slab_at = ctx->slabs;
      ctx->slot_at = 0;
      continue;
    }
    struct rg_slab *grown = slab_new(ctx, fn, ctx->slots_total ? ctx->slots_total : FIRST_SLAB);
    if (!grown) return NULL;
    if (s)
      s->next = grown;
    else
      ctx->slabs = grown;
    ctx->slab_at = grown;
    ctx->slot_at = 0;
  }
}

void rg_slots_retire_all(rg_ctx *ctx) {
  for (struct rg_slab *s = ctx->slabs; s && ctx->slab_at; s = s->next) {
    size_t used = s == ctx->slab_at ? ctx->slot_at : s->n;
    for (size_t i = 0; i < used; i++) {
      struct rg_tensor *t = slot_at(s, i);
      if (t->gen) t->gen = t->gen == RG_GEN_LAST ? 0 : t->gen + 1;
      t->data = t->grad = NULL;
      t->node = NULL;
    }
    if (s == ctx->slab_at) break;
  }
  ctx->slab_at = NULL;
  ctx->slot_at = 0;
}

void rg_slots_release(rg_ctx *ctx) {
  for (struct rg_slab *s = ctx->slabs, *next; s; s = next) {
    next = s->next;
    rg_heap_free(ctx, s, s->bytes);
  }
  ctx->slabs = ctx->slab_at = NULL;
  ctx->slot_at = ctx->slots_total = 0;
}

rg_tensor *rg_ref_fail(rg_ctx *ctx, const char *fn, const char *arg, const rg_tensor *h) {
  if (!ctx) return NULL;
  if (!h) {
    rg_fail(ctx, RG_EINVAL, fn, "%s is NULL", arg);
    return NULL;
  }
  if (ctx->status != RG_OK) return NULL;
  struct rg_tensor *t = rg_deref(h);
  if (!t) {
    rg_fail(ctx, RG_ESTATE, fn, "%s is a stale tensor (freed by rg_tape_reset)", arg);
    return NULL;
  }
  if (t->owner != ctx) {
    /* Its memory (and the gradients backward would give it) belong to
     * another context, which may be freed or reset independently. */
    rg_fail(ctx, RG_EINVAL, fn, "%s belongs to another context", arg);
    return NULL;
  }
  return t; /* not reached: rg_ref only calls this for a failed check */
}
