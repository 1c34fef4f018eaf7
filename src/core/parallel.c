/* Splitting kernel calls over the context's threads. Work is cut over
 * output rows or columns (GEMM), elements (elementwise maps) or fixed chunks
 * (reductions), never over a summed axis, so the result is the same for any
 * thread count. */
#include "core/internal.h"
#include "core/pool.h"

/* Below GEMM_MIN_FLOPS a wake-up costs more than the work saves; from
 * GEMM_MANY_FLOPS on, two tasks per thread let the caller absorb a late
 * worker at little cost (docs/performance.md). */
#define GEMM_MIN_FLOPS (4 << 20)
#define GEMM_MANY_FLOPS (256 << 20)
#define COL_ALIGN 32 /* whole strips of every ISA's tile (16 on AVX2, 32 on AVX-512) */
#define ROW_ALIGN 16

struct gemm_job {
  const struct rg_kernels *k;
  int64_t m, n, kk, lda, ldb, ldc, block;
  int ta, tb, acc, by_rows;
  const float *a, *b;
  float *c;
  const struct rg_epilogue *ep; /* or NULL */
};

/* One kernel call on rows [0, m) and columns [0, n) of the job's C, whose
 * operands start at a and b and whose bias starts at column j0. */
static void gemm_call(const struct gemm_job *j, int64_t m, int64_t n, const float *a,
                      const float *b, float *c, int64_t j0) {
  struct rg_epilogue ep;
  if (j->ep) {
    ep = *j->ep;
    if (ep.bias) ep.bias += j0;
  }
  j->k->gemm(m, n, j->kk, j->ta, j->tb, a, j->lda, b, j->ldb, c, j->ldc, j->acc,
             j->ep ? &ep : NULL);
}

static void gemm_task(void *vp, int64_t t) {
  const struct gemm_job *j = vp;
  int64_t lo = t * j->block;
  int64_t len = (j->by_rows ? j->m : j->n) - lo;
  if (len > j->block) len = j->block;
  if (j->by_rows)
    gemm_call(j, len, j->n, j->ta ? j->a + lo : j->a + lo * j->lda, j->b, j->c + lo * j->ldc, 0);
  else
    gemm_call(j, j->m, len, j->a, j->tb ? j->b + lo * j->ldb : j->b + lo, j->c + lo, lo);
}

static int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

/* Each task is a kernel call of its own and packs its own operands: a slice
 * of columns packs all of op(A) again, a slice of rows all of op(B), and
 * packing a transposed operand (A [m, k], B stored [n, k]) costs about three
 * times a plain copy. The split takes the dimension whose extra packing is
 * smaller. */
static void gemm_run(rg_ctx *ctx, struct gemm_job *j) {
  int64_t m = j->m, n = j->n, k = j->kk;
  double flops = 2.0 * (double)m * (double)n * (double)k;
  int64_t tasks = (flops >= GEMM_MANY_FLOPS ? 2 : 1) * (int64_t)ctx->threads;
  bool cols = n >= 2 * COL_ALIGN, rows = m >= 2 * ROW_ALIGN;
  if (!ctx->pool || flops < GEMM_MIN_FLOPS || (!rows && !cols)) {
    gemm_call(j, m, n, j->a, j->b, j->c, 0);
    return;
  }
  double repack_a = (double)m * (double)k * (j->ta ? 1 : 3);
  double repack_b = (double)n * (double)k * (j->tb ? 3 : 1);
  j->by_rows = rows && (!cols || repack_b < repack_a);
  int64_t extent = j->by_rows ? m : n, align = j->by_rows ? ROW_ALIGN : COL_ALIGN;
  j->block = round_up((extent + tasks - 1) / tasks, align);
  rg_pool_run(ctx->pool, (extent + j->block - 1) / j->block, gemm_task, j);
}

void rg_gemm(rg_ctx *ctx, int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
             int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc) {
  struct gemm_job j = {ctx->k, m, n, k, lda, ldb, ldc, 0, ta, tb, acc, 0, a, b, c, NULL};
  gemm_run(ctx, &j);
}

void rg_gemm_epi(rg_ctx *ctx, int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                 int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                 const struct rg_epilogue *ep) {
  struct gemm_job j = {ctx->k, m, n, k, lda, ldb, ldc, 0, ta, tb, 0, 0, a, b, c, ep};
  gemm_run(ctx, &j);
}

struct range_job {
  rg_range_fn fn;
  void *arg;
  int64_t n, block;
};

static void range_task(void *vp, int64_t t) {
  const struct range_job *j = vp;
  int64_t lo = t * j->block, hi = lo + j->block < j->n ? lo + j->block : j->n;
  j->fn(j->arg, lo, hi);
}

/* Pieces of whole cache lines (64 floats), at least grain elements each,
 * two per thread so the caller can take over what a late worker has not
 * started. */
void rg_parallel_range(rg_ctx *ctx, int64_t n, int64_t grain, rg_range_fn fn, void *arg) {
  if (!ctx->pool || n < 2 * grain) {
    fn(arg, 0, n);
    return;
  }
  int64_t tasks = 2 * (int64_t)ctx->threads;
  if (tasks > n / grain) tasks = n / grain;
  struct range_job j = {fn, arg, n, round_up((n + tasks - 1) / tasks, 64)};
  rg_pool_run(ctx->pool, (n + j.block - 1) / j.block, range_task, &j);
}

struct reduce_job {
  rg_reduce_fn fn;       /* float partials, or */
  rg_sumsq_fn sumsq_fn;  /* double partials (fn NULL) */
  const float *x;
  int64_t n;
  float *partial;
  double *partial_d;
};

static void reduce_task(void *vp, int64_t t) {
  const struct reduce_job *j = vp;
  int64_t at = t * RG_CHUNK, len = j->n - at < RG_CHUNK ? j->n - at : RG_CHUNK;
  if (j->fn)
    j->partial[t] = j->fn(len, j->x + at);
  else
    j->partial_d[t] = j->sumsq_fn(len, j->x + at);
}

/* Chunks of RG_CHUNK elements, their partial results added in order; chunks
 * run on the pool in batches whose partials fit on the stack. */
enum { BATCH = 256 };

/* Runs the chunks of the batch at x[at, at + len); returns its chunk count. */
static int64_t reduce_batch(rg_ctx *ctx, struct reduce_job j, int64_t at, int64_t n) {
  j.x += at;
  j.n = n - at < (int64_t)BATCH * RG_CHUNK ? n - at : (int64_t)BATCH * RG_CHUNK;
  int64_t chunks = (j.n + RG_CHUNK - 1) / RG_CHUNK;
  rg_pool_run(chunks >= 4 ? ctx->pool : NULL, chunks, reduce_task, &j);
  return chunks;
}

float rg_reduce(rg_ctx *ctx, rg_reduce_fn fn, int64_t n, const float *x) {
  float partial[BATCH], total = 0.0f;
  struct reduce_job j = {.fn = fn, .x = x, .partial = partial};
  for (int64_t at = 0; at < n; at += (int64_t)BATCH * RG_CHUNK) {
    int64_t chunks = reduce_batch(ctx, j, at, n);
    for (int64_t c = 0; c < chunks; c++) total = total + partial[c];
  }
  return total;
}

double rg_reduce_sumsq(rg_ctx *ctx, int64_t n, const float *x) {
  double partial[BATCH], total = 0.0;
  struct reduce_job j = {.sumsq_fn = ctx->k->sumsq, .x = x, .partial_d = partial};
  for (int64_t at = 0; at < n; at += (int64_t)BATCH * RG_CHUNK) {
    int64_t chunks = reduce_batch(ctx, j, at, n);
    for (int64_t c = 0; c < chunks; c++) total = total + partial[c];
  }
  return total;
}
