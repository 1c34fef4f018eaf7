/* Library-internal types and helpers shared by core/, ops/ and train/. */
#ifndef RG_INTERNAL_H
#define RG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "kernels.h"
#include "regrad.h"
#include "regrad_dist.h"

/* Every op, with the name shown in messages and the diagnostics. */
#include "ops/ops.h"

#define RG_TENSOR_MAGIC 0x52475431u /* "RGT1" */

enum rg_kind { RG_TRANSIENT, RG_PARAM, RG_BUFFER };

struct rg_node;

/* A tensor's header. Parameters and buffers are heap objects, and the
 * rg_tensor * users hold is the header's address. Transients have their
 * header in a slot of the context's header pool (src/core/handle.c), and
 * users hold an encoded handle (rg_handle) that names the slot and its
 * generation; library code decodes it (rg_check, rg_ref) before use. */
struct rg_tensor {
  uint32_t magic; /* RG_TENSOR_MAGIC for parameters and buffers, 0 in slots */
  uint32_t gen;   /* transients: the slot's generation (0: retired slot) */
  enum rg_kind kind;
  bool requires_grad;
  rg_shape shape;
  int64_t numel;
  float *data;
  float *grad;
  struct rg_node *node; /* the op that produced it, when recorded */
  char *name;           /* parameters and buffers */
  const struct rg_ctx *owner; /* the context that made it */
};

/* ------------------------------------------------------------ handles
 *
 * A transient's handle is its slot address (128-byte aligned, below 2^48)
 * with the slot's 22-bit generation in the bits the address leaves free:
 *   bit 0        1 (a transient handle; parameter headers are 64-aligned)
 *   bits 1-6     generation bits 0-5
 *   bits 7-47    the slot address
 *   bits 48-63   generation bits 6-21 (never 0: generations start at 64,
 *                so a handle dereferenced by mistake is a non-canonical
 *                address and faults at once)
 * rg_tape_reset moves every used slot to its next generation, so a handle
 * from before names a generation its slot no longer has: stale, decided
 * without reading anything but the slot, which lives until rg_ctx_free. A
 * slot at the last generation is retired (never reused), so no handle value
 * ever means two tensors. */
#define RG_SLOT_BYTES 128
#define RG_GEN_FIRST 64u
#define RG_GEN_LAST ((1u << 22) - 1)
#define RG_HANDLE_ADDR 0x0000FFFFFFFFFF80ull
_Static_assert(sizeof(struct rg_tensor) <= RG_SLOT_BYTES, "a header fits its slot");
_Static_assert(sizeof(void *) == 8, "handles need 64-bit pointers");

/* The handle users get for t (a transient's encoded handle, a parameter's
 * or buffer's address, NULL for NULL). */
static inline rg_tensor *rg_handle(const struct rg_tensor *t) {
  if (!t || t->kind != RG_TRANSIENT) return (rg_tensor *)t;
  uint64_t g = t->gen;
  return (rg_tensor *)((uintptr_t)t | 1u | (g & 63u) << 1 | (g >> 6) << 48);
}

/* The header a handle names, when it is current: a transient whose slot
 * still has the handle's generation, or a live parameter or buffer; NULL
 * otherwise (stale, retired, not a handle). Reads only the slot or the
 * parameter's header. */
static inline struct rg_tensor *rg_deref(const rg_tensor *h) {
  uintptr_t v = (uintptr_t)h;
  if (v & 1u) {
    struct rg_tensor *t = (struct rg_tensor *)(v & RG_HANDLE_ADDR);
    uint32_t g = (uint32_t)((v >> 1) & 63u) | (uint32_t)(v >> 48) << 6;
    return t->gen == g ? t : NULL;
  }
  struct rg_tensor *t = (struct rg_tensor *)h;
  return t && t->magic == RG_TENSOR_MAGIC && t->kind != RG_TRANSIENT ? t : NULL;
}

/* A header slot for a new transient, every field but gen zeroed; NULL with
 * RG_ENOMEM naming fn when the pool must grow and cannot. */
struct rg_tensor *rg_slot_new(rg_ctx *ctx, const char *fn);
/* rg_tape_reset: every slot used since the last reset moves to its next
 * generation. */
void rg_slots_retire_all(rg_ctx *ctx);
void rg_slots_release(rg_ctx *ctx);

/* One recorded op. Inputs are the tensors gradients flow to; state holds
 * what the backward rule needs beyond the inputs and output. */
typedef struct rg_node {
  enum rg_op op;
  int n_in;
  rg_tensor **in;
  rg_tensor *out;
  void *state; /* the op's saved state, a struct <op>_state of its file (or NULL) */
  struct rg_node *prev;
} rg_node;

/* State that decides the next step, held by a library object (an
 * optimizer's step count, a clipper's running statistics, a batcher's place
 * in the data) and registered with the context, so that checkpoints carry it
 * and an interrupted run resumes bit for bit (src/core/state.c). A kind
 * describes a fixed-size record, little-endian (core/bytes.h). */
#define RG_STATE_MAX_BYTES 1024
typedef struct rg_state_kind {
  const char *kind; /* records are named "<kind>.<n>", n the smallest free */
  size_t bytes;     /* the size of a record, at most RG_STATE_MAX_BYTES */
  void (*save)(const void *obj, uint8_t *rec);
  /* Whether rec fits obj (ranges, sizes): false with the context's error set,
   * naming fn and `where` (the file and the record). */
  bool (*check)(rg_ctx *ctx, const char *fn, const char *where, const void *obj,
                const uint8_t *rec);
  void (*load)(void *obj, const uint8_t *rec);
} rg_state_kind;

typedef struct rg_state {
  char name[48];
  const rg_state_kind *kind;
  void *obj;
} rg_state;

typedef struct rg_attr {
  char *key, *value;
} rg_attr;

struct rg_ctx {
  rg_status status;
  char message[512];
  const struct rg_kernels *k;
  int isa;
  uint64_t seed;
  uint64_t dropout_stream; /* next Philox stream for dropout masks */
  int threads;
  bool training, grad_enabled, anomaly;
  rg_arena arena;
  struct rg_slab *slabs;   /* transient header pool (handle.c) */
  struct rg_slab *slab_at; /* the slab the next slot comes from */
  size_t slot_at;          /* its index there */
  size_t slots_total;
  bool backward_done;
  rg_node *tape; /* last recorded node */
  uint64_t tape_nodes;
  rg_tensor **params;
  int n_params, cap_params;
  const rg_backward_fn *rules;
  rg_state *states; /* registered in creation order */
  int n_states, cap_states;
  rg_attr *attrs; /* rg_ctx_set_attr, in the order first set */
  int n_attrs, cap_attrs;
  struct rg_pool *pool; /* NULL with one thread */
  rg_stats stats;
  size_t mem_limit;    /* rg_config.mem_limit: most heap bytes held at once, 0 = none */
  uint64_t alloc_seen; /* counted allocations so far (heap, dataset and arena) */
  uint64_t fail_alloc; /* test hook: the allocation whose count this is fails, 0 = none */
  bool save_named;     /* test hook: rg_save_atomic skips O_TMPFILE (named temporary files) */
};

/* Errors. rg_fail sets the sticky error unless one is already set. */
void rg_fail(rg_ctx *ctx, rg_status code, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Heap allocation counted in ctx->stats; NULL (with RG_ENOMEM set) on
 * failure, including over the memory limit. */
void *rg_heap_alloc(rg_ctx *ctx, const char *fn, size_t bytes);
void rg_heap_free(rg_ctx *ctx, void *p, size_t bytes);
/* Every heap and dataset allocation of the library asks this first: it
 * counts the allocation (ctx->alloc_seen), fails the one ctx->fail_alloc
 * names (fault injection in tests), and refuses bytes that would take the
 * heap past ctx->mem_limit; false with RG_ENOMEM set, naming fn and the
 * sizes. Arena requests are counted and injected too (rg_alloc_injected),
 * so tests reach every op's out-of-memory path. */
bool rg_alloc_allowed(rg_ctx *ctx, const char *fn, size_t bytes);
bool rg_alloc_injected(rg_ctx *ctx, const char *fn, size_t bytes);

/* Arena allocation (64-byte aligned); NULL with RG_ENOMEM set on failure. */
void *rg_arena_get(rg_ctx *ctx, const char *fn, size_t bytes);
void *rg_arena_zeroed(rg_ctx *ctx, const char *fn, size_t bytes);
void rg_arena_reset(rg_ctx *ctx);
void rg_arena_release(rg_ctx *ctx);

/* Registers obj's state under the next free "<kind>.<n>"; false with
 * RG_ENOMEM set. The object removes it before it is freed. */
bool rg_state_add(rg_ctx *ctx, const char *fn, const rg_state_kind *kind, void *obj);
void rg_state_remove(rg_ctx *ctx, const void *obj);
const rg_state *rg_state_find(const rg_ctx *ctx, const char *name);
/* Sets attribute key (key_len bytes) to value (value_len bytes, no NUL
 * inside): the checkpoint loader's way in. rg_attrs_clear drops them all. */
rg_status rg_attr_set(rg_ctx *ctx, const char *fn, const char *key, size_t key_len,
                      const char *value, size_t value_len);
void rg_attrs_clear(rg_ctx *ctx);

/* Validation of a tensor argument: the header the handle *t names, stored
 * back into *t, and true; or false with the error set. A NULL tensor sets
 * RG_EINVAL only when no error is pending (so a failed op upstream gives one
 * message); a stale transient (from before rg_tape_reset) sets RG_ESTATE, a
 * tensor of another context RG_EINVAL. Library code uses the decoded header
 * and gives users rg_handle(header). */
static inline bool rg_check(rg_ctx *ctx, const char *fn, const char *arg, rg_tensor **t);
/* The same for a handle that is not to be overwritten: the header or NULL. */
static inline rg_tensor *rg_ref(rg_ctx *ctx, const char *fn, const char *arg, const rg_tensor *h);
/* rg_ref's slow path: sets the error for a handle that failed the check. */
rg_tensor *rg_ref_fail(rg_ctx *ctx, const char *fn, const char *arg, const rg_tensor *h);
bool rg_ctx_ok(rg_ctx *ctx); /* non-NULL and no pending error */
bool rg_shape_valid(rg_ctx *ctx, const char *fn, const char *arg, rg_shape s, int64_t *numel);
bool rg_same_shape(rg_shape a, rg_shape b);
/* rg_param_new / rg_buffer_new with fn in messages (for constructors that
 * make tensors on the caller's behalf). */
rg_tensor *rg_persistent_new(rg_ctx *ctx, const char *fn, enum rg_kind kind, const char *name,
                             rg_shape shape, const float *data);
/* Frees the parameters and buffers created after the first n (newest
 * first), so a constructor that fails half way leaves no tensor behind. */
void rg_params_truncate(rg_ctx *ctx, int n);
/* "[128,784]" into buf. */
const char *rg_shape_str(rg_shape s, char *buf, size_t len);
#define RG_SHAPE_STR(s) rg_shape_str((s), (char[64]){0}, 64)
bool rg_finite_arg(rg_ctx *ctx, const char *fn, const char *arg, float v);

/* A new transient output of an op; requires_grad when any input requires it
 * and grad is enabled. */
rg_tensor *rg_new_output(rg_ctx *ctx, const char *fn, rg_shape shape, rg_tensor *const *in,
                         int n_in);
/* Records a node for out (NULL when out does not require grad, or with
 * RG_ENOMEM naming fn when the arena cannot hold it). Inputs are copied into
 * the arena, and state_bytes of zeroed state (the op's struct) made for the
 * op to fill: node->state, NULL for 0. */
rg_node *rg_record(rg_ctx *ctx, const char *fn, enum rg_op op, rg_tensor *out, rg_tensor *const *in,
                   int n_in, size_t state_bytes);
/* The gradient buffer of t for backward rules: allocated zeroed in the arena
 * on first use; NULL when t does not require grad. */
float *rg_grad_buf(rg_ctx *ctx, rg_tensor *t);
/* The same buffer for a rule that writes every element of it when *acc comes
 * back 0: a first gradient is left unzeroed (no pass over memory only to be
 * overwritten), a later one has *acc 1 and must be added to. */
float *rg_grad_dest(rg_ctx *ctx, rg_tensor *t, int *acc);
/* Scratch memory for a backward rule, in the arena. */
float *rg_scratch(rg_ctx *ctx, int64_t n);

/* Reductions over any length, cut into RG_CHUNK-element chunks whose partial
 * results add in order, so splitting work over threads never changes them. */
#define RG_CHUNK 16384
typedef float (*rg_reduce_fn)(int64_t n, const float *x);
float rg_reduce(rg_ctx *ctx, rg_reduce_fn fn, int64_t n, const float *x);
/* The sum of squares of x[0, n) in double (the sumsq slot per chunk, the
 * chunks' double partials added in order): exact squares, no overflow or
 * underflow for any finite x. An L2 norm is (float)sqrt of it. */
double rg_reduce_sumsq(rg_ctx *ctx, int64_t n, const float *x);
float rg_reduce_dot(rg_ctx *ctx, int64_t n, const float *x, const float *y);
float rg_reduce_amax(rg_ctx *ctx, int64_t n, const float *x);

/* gemm through the kernel table, split over the context's threads (over M
 * or N only, so results do not depend on the thread count). */
void rg_gemm(rg_ctx *ctx, int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
             int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc);
/* The same with a linear layer's epilogue (kernels.h): C = act(bias + op(A) op(B)). */
void rg_gemm_epi(rg_ctx *ctx, int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                 int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                 const struct rg_epilogue *ep);

/* Elementwise work fn(arg, lo, hi) over [0, n), split over the context's
 * threads in pieces of at least `grain` elements; each element's result does
 * not depend on the split. */
typedef void (*rg_range_fn)(void *arg, int64_t lo, int64_t hi);
void rg_parallel_range(rg_ctx *ctx, int64_t n, int64_t grain, rg_range_fn fn, void *arg);

/* The view of a tensor as rows: [shape[0], numel / shape[0]] (rank 1: one
 * row). */
void rg_rows(const rg_tensor *t, int64_t *m, int64_t *n);


/* The context of a distributed run (src/distributed/dist.c). */
rg_ctx *rg_dist_context(const rg_dist *d);

/* Rows of logits [rows, classes] whose first largest value is at the
 * label (src/train/evaluate.c). */
int64_t rg_count_correct(const float *logits, int64_t rows, int64_t classes,
                         const int32_t *labels);

/* The activations of the dense layers (src/ops/activation.c), one row per
 * rg_nonlinearity: the op that applies it alone (RG_OP_COUNT for
 * RG_LINEAR) and the public function's name.
 * rg_activation_of gives NULL for an unknown value. */
struct rg_activation {
  enum rg_op op;
  const char *fn;
};
const struct rg_activation *rg_activation_of(rg_nonlinearity nl);
/* x through activation nl as its own op (x itself for RG_LINEAR). */
rg_tensor *rg_activate(rg_ctx *ctx, rg_tensor *x, rg_nonlinearity nl, float alpha);
/* dx += f'(x) dy of activation nl from its output y alone (rg_linear_act's
 * backward). */
void rg_act_bwd_from_output(rg_ctx *ctx, rg_nonlinearity nl, float alpha, int64_t n,
                            const float *y, const float *dy, float *dx);
/* y = act(y) in place, by the activation slots of table k. */
void rg_apply_act(const struct rg_kernels *k, rg_nonlinearity nl, float alpha, int64_t n,
                  float *y);



static inline rg_tensor *rg_ref(rg_ctx *ctx, const char *fn, const char *arg,
                                const rg_tensor *h) {
  if (ctx && ctx->status == RG_OK && h) {
    struct rg_tensor *t = rg_deref(h);
    if (t && t->owner == ctx) return t;
  }
  return rg_ref_fail(ctx, fn, arg, h);
}

static inline bool rg_check(rg_ctx *ctx, const char *fn, const char *arg, rg_tensor **t) {
  rg_tensor *h = rg_ref(ctx, fn, arg, *t);
  if (h) *t = h;
  return h != NULL;
}

#endif
