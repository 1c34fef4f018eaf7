/* rg_predictor: an inference snapshot of an rg_mlp with every weight stored
 * transposed, [in, out]. rg_mlp_forward computes x W^T with W [out, in]; for
 * one row of x that product can only put outputs in vector lanes by
 * transposing W on the fly, a shuffle per few values. With W^T stored, the
 * same product is x W^T as an NN gemm: a broadcast of x[p] times a contiguous
 * row of W^T, no shuffles. Every logit is still the chain of rg_mlp_forward:
 * start from the bias, add x[p] w[j][p] for p = 0 .. in-1 in order with fused
 * multiply-adds; batch norm (running statistics) and the activation run the
 * same kernels on the same values, and dropout is off, as in evaluation mode.
 * So the logits are bit-identical, on every ISA and thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "train/mlp.h"

#define BLOCK_ROWS 16 /* rows per pass through the layers: the scratch stays in L1/L2 */
#define ALIGN_FLOATS 16

struct pred_layer {
  int64_t in, out;
  float *wt, *bias;                    /* [in, out], [out] */
  float *mean, *invstd, *gamma, *beta; /* batch norm, or NULL */
};

struct rg_predictor {
  rg_ctx *ctx;
  rg_mlp *mlp;
  int depth;
  rg_nonlinearity act;
  float *store; /* every array below, in one allocation */
  float *scratch[2]; /* BLOCK_ROWS x the widest hidden layer, each */
  struct pred_layer layers[RG_MLP_MAX_LAYERS + 1];
};

static int64_t aligned(int64_t floats) {
  return (floats + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

/* Lays the arrays out in store (or only counts them when store is NULL);
 * returns the floats needed. */
static int64_t layout(rg_predictor *p, float *store) {
  int64_t used = 0, widest = 0;
#define TAKE(ptr, n) (ptr = store ? store + used : NULL, used += aligned(n))
  for (int i = 0; i < p->depth; i++) {
    const struct rg_mlp_layer *l = &p->mlp->layers[i];
    struct pred_layer *q = &p->layers[i];
    q->out = l->w->shape.dim[0], q->in = l->w->shape.dim[1];
    TAKE(q->wt, q->in * q->out);
    TAKE(q->bias, q->out);
    q->mean = q->invstd = q->gamma = q->beta = NULL;
    if (l->gamma) {
      TAKE(q->mean, q->out);
      TAKE(q->invstd, q->out);
      TAKE(q->gamma, q->out);
      TAKE(q->beta, q->out);
    }
    if (i < p->depth - 1 && q->out > widest) widest = q->out;
  }
  TAKE(p->scratch[0], BLOCK_ROWS * widest);
  TAKE(p->scratch[1], BLOCK_ROWS * widest);
#undef TAKE
  return used;
}

static void copy(float *dst, const rg_tensor *t) {
  memcpy(dst, t->data, (size_t)t->numel * sizeof(float));
}

rg_status rg_predictor_refresh(rg_predictor *p) {
  if (!p) return RG_EINVAL;
  if (!rg_ctx_ok(p->ctx)) return p->ctx->status;
  for (int i = 0; i < p->depth; i++) {
    const struct rg_mlp_layer *l = &p->mlp->layers[i];
    struct pred_layer *q = &p->layers[i];
    const float *w = l->w->data;
    for (int64_t j = 0; j < q->out; j++)
      for (int64_t k = 0; k < q->in; k++) q->wt[k * q->out + j] = w[j * q->in + k];
    copy(q->bias, l->b);
    if (!l->gamma) continue;
    copy(q->mean, l->rmean);
    copy(q->gamma, l->gamma);
    copy(q->beta, l->beta);
    /* as rg_batch_norm computes it in evaluation mode */
    for (int64_t j = 0; j < q->out; j++)
      q->invstd[j] = 1.0f / sqrtf(l->rvar->data[j] + RG_MLP_BN_EPS);
  }
  return RG_OK;
}

rg_predictor *rg_predictor_new(rg_mlp *m) {
  static const char fn[] = "rg_predictor_new";
  if (!m || !rg_ctx_ok(m->ctx)) return NULL;
  rg_ctx *ctx = m->ctx;
  rg_predictor *p = rg_heap_alloc(ctx, fn, sizeof *p);
  if (!p) return NULL;
  *p = (rg_predictor){.ctx = ctx, .mlp = m, .depth = m->depth, .act = m->cfg.activation};
  size_t bytes = (size_t)layout(p, NULL) * sizeof(float);
  p->store = rg_heap_alloc(ctx, fn, bytes);
  if (!p->store) {
    rg_heap_free(ctx, p, sizeof *p);
    return NULL;
  }
  layout(p, p->store);
  rg_predictor_refresh(p);
  return p;
}

void rg_predictor_free(rg_predictor *p) {
  if (!p) return;
  free(p->store);
  free(p);
}

/* rows <= BLOCK_ROWS rows of x through every layer into logits. */
static void run_block(rg_predictor *p, const float *x, int64_t rows, float *logits) {
  rg_ctx *ctx = p->ctx;
  const float *h = x;
  int cur = 0; /* the scratch buffer the next layer writes */
  for (int i = 0; i < p->depth; i++) {
    const struct pred_layer *q = &p->layers[i];
    bool last = i == p->depth - 1;
    float *y = last ? logits : p->scratch[cur];
    /* The activation rides in the gemm's epilogue unless batch norm comes first. */
    float slope = p->mlp->cfg.leaky_slope;
    struct rg_epilogue ep = {q->bias, last || q->mean ? RG_LINEAR : p->act,
                             slope};
    rg_gemm_epi(ctx, rows, q->out, q->in, 0, 0, h, q->in, q->wt, q->out, y, q->out, &ep);
    if (last) break;
    if (q->mean) {
      cur = !cur;
      ctx->k->bn_apply(rows, q->out, y, q->mean, q->invstd, q->gamma, q->beta, p->scratch[cur]);
      y = p->scratch[cur];
      rg_apply_act(ctx->k, p->act, slope, rows * q->out, y);
    }
    h = y;
    cur = !cur;
  }
}

rg_status rg_predict(rg_predictor *p, const float *x, int64_t rows, float *logits) {
  static const char fn[] = "rg_predict";
  if (!p) return RG_EINVAL;
  rg_ctx *ctx = p->ctx;
  if (!rg_ctx_ok(ctx)) return ctx->status;
  if (!x || !logits) {
    rg_fail(ctx, RG_EINVAL, fn, "x is %s and logits %s, both are required", x ? "set" : "NULL",
            logits ? "set" : "NULL");
    return ctx->status;
  }
  if (rows < 1) {
    rg_fail(ctx, RG_EINVAL, fn, "rows is %lld, expected >= 1", (long long)rows);
    return ctx->status;
  }
  int64_t in = p->layers[0].in, out = p->layers[p->depth - 1].out;
  for (int64_t r = 0; r < rows; r += BLOCK_ROWS) {
    int64_t n = rows - r < BLOCK_ROWS ? rows - r : BLOCK_ROWS;
    run_block(p, x + r * in, n, logits + r * out);
  }
  return RG_OK;
}
