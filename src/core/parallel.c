/* Splitting kernel calls over the context's threads. Work is cut over
 * output rows or columns (GEMM) or fixed chunks (reductions), never over a
 * summed axis, so the result is the same for any thread count. */
#include "core/internal.h"
#include "core/pool.h"

/* Below these sizes a wake-up costs more than the work saves. */
#define GEMM_MIN_FLOPS (1 << 21)
#define ROW_BLOCK 16
#define COL_BLOCK 64

struct gemm_job {
  const struct rg_kernels *k;
  int64_t m, n, kk, lda, ldb, ldc, block;
  int ta, tb, acc, by_rows;
  const float *a, *b;
  float *c;
};

static void gemm_task(void *vp, int64_t t) {
  const struct gemm_job *j = vp;
  int64_t lo = t * j->block;
  int64_t len = (j->by_rows ? j->m : j->n) - lo;
  if (len > j->block) len = j->block;
  if (j->by_rows) {
    const float *a = j->ta ? j->a + lo : j->a + lo * j->lda;
    j->k->gemm(len, j->n, j->kk, j->ta, j->tb, a, j->lda, j->b, j->ldb, j->c + lo * j->ldc, j->ldc,
               j->acc);
  } else {
    const float *b = j->tb ? j->b + lo * j->ldb : j->b + lo;
    j->k->gemm(j->m, len, j->kk, j->ta, j->tb, j->a, j->lda, b, j->ldb, j->c + lo, j->ldc, j->acc);
  }
}

static int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

void rg_gemm(rg_ctx *ctx, int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
             int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc) {
  double flops = 2.0 * (double)m * (double)n * (double)k;
  bool rows = m >= 2 * ROW_BLOCK, cols = n >= 2 * COL_BLOCK;
  if (!ctx->pool || flops < GEMM_MIN_FLOPS || (!rows && !cols)) {
    ctx->k->gemm(m, n, k, ta, tb, a, lda, b, ldb, c, ldc, acc);
    return;
  }
  struct gemm_job j = {ctx->k, m, n, k, lda, ldb, ldc, 0, ta, tb, acc, rows, a, b, c};
  /* Twice as many tasks as threads, so the caller can absorb a straggler. */
  int64_t extent = rows ? m : n, align = rows ? ROW_BLOCK : COL_BLOCK;
  j.block = round_up((extent + 2 * ctx->threads - 1) / (2 * ctx->threads), align);
  rg_pool_run(ctx->pool, (extent + j.block - 1) / j.block, gemm_task, &j);
}

struct reduce_job {
  rg_reduce_fn fn;
  const float *x;
  int64_t n;
  float *partial;
};

static void reduce_task(void *vp, int64_t t) {
  const struct reduce_job *j = vp;
  int64_t at = t * RG_CHUNK, len = j->n - at < RG_CHUNK ? j->n - at : RG_CHUNK;
  j->partial[t] = j->fn(len, j->x + at);
}

/* Chunks of RG_CHUNK elements, their partial results added in order; chunks
 * run on the pool in batches whose partials fit on the stack. */
float rg_reduce(rg_ctx *ctx, rg_reduce_fn fn, int64_t n, const float *x) {
  enum { BATCH = 256 };
  float partial[BATCH], total = 0.0f;
  for (int64_t at = 0; at < n; at += (int64_t)BATCH * RG_CHUNK) {
    int64_t len = n - at < (int64_t)BATCH * RG_CHUNK ? n - at : (int64_t)BATCH * RG_CHUNK;
    struct reduce_job j = {fn, x + at, len, partial};
    int64_t chunks = (len + RG_CHUNK - 1) / RG_CHUNK;
    rg_pool_run(chunks >= 4 ? ctx->pool : NULL, chunks, reduce_task, &j);
    for (int64_t c = 0; c < chunks; c++) total = total + partial[c];
  }
  return total;
}
