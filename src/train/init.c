/* Parameter initialization through the rand_uniform / rand_normal slots.
 * The Philox stream of a parameter is a hash of its name, so its values do
 * not depend on creation order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define ATTEMPT_STRIDE 0x9E3779B97F4A7C15ull

static uint64_t name_stream(const rg_tensor *t) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (const char *c = t->name ? t->name : ""; *c; c++) h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
  return h | (1ull << 63); /* init streams never meet dropout's counter */
}

float rg_calculate_gain(rg_nonlinearity nl, float a) {
  switch (nl) {
    case RG_RELU: return sqrtf(2.0f);
    case RG_LEAKY_RELU: return sqrtf(2.0f / (1.0f + a * a));
    case RG_TANH: return 5.0f / 3.0f;
    default: return 1.0f;
  }
}

void rg_fans(const rg_tensor *t, int64_t *fan_in, int64_t *fan_out) {
  if (t->shape.rank == 1) {
    *fan_in = *fan_out = t->numel;
    return;
  }
  int64_t field = t->numel / (t->shape.dim[0] * t->shape.dim[1]);
  *fan_in = t->shape.dim[1] * field;
  *fan_out = t->shape.dim[0] * field;
}

static bool target_ok(rg_ctx *ctx, const char *fn, rg_tensor *t) {
  return rg_check(ctx, fn, "t", t);
}

static bool finite_args(rg_ctx *ctx, const char *fn, float a, float b) {
  return rg_finite_arg(ctx, fn, "first parameter", a) && rg_finite_arg(ctx, fn, "second parameter", b);
}

rg_status rg_init_constant(rg_ctx *ctx, rg_tensor *t, float value) {
  if (!target_ok(ctx, "rg_init_constant", t)) return rg_ctx_status(ctx);
  for (int64_t i = 0; i < t->numel; i++) t->data[i] = value;
  return RG_OK;
}

rg_status rg_init_zeros(rg_ctx *ctx, rg_tensor *t) { return rg_init_constant(ctx, t, 0.0f); }

rg_status rg_init_uniform(rg_ctx *ctx, rg_tensor *t, float lo, float hi) {
  static const char fn[] = "rg_init_uniform";
  if (!target_ok(ctx, fn, t) || !finite_args(ctx, fn, lo, hi)) return rg_ctx_status(ctx);
  if (!(lo <= hi)) {
    rg_fail(ctx, RG_EINVAL, fn, "lo is %g and hi %g, expected lo <= hi", (double)lo, (double)hi);
    return ctx->status;
  }
  struct rg_rng_key key = {ctx->seed, name_stream(t), 0};
  ctx->k->rand_uniform(t->numel, &key, lo, hi, t->data);
  return RG_OK;
}

static bool std_ok(rg_ctx *ctx, const char *fn, float mean, float std) {
  if (!finite_args(ctx, fn, mean, std)) return false;
  if (std >= 0.0f) return true;
  rg_fail(ctx, RG_EINVAL, fn, "std is %g, expected >= 0", (double)std);
  return false;
}

rg_status rg_init_normal(rg_ctx *ctx, rg_tensor *t, float mean, float std) {
  static const char fn[] = "rg_init_normal";
  if (!target_ok(ctx, fn, t) || !std_ok(ctx, fn, mean, std)) return rg_ctx_status(ctx);
  struct rg_rng_key key = {ctx->seed, name_stream(t), 0};
  ctx->k->rand_normal(t->numel, &key, mean, std, t->data);
  return RG_OK;
}

/* Elements outside [lo, hi] are redrawn, element by element, from stream +
 * attempt * stride: still a pure function of (seed, name, index). */
rg_status rg_init_trunc_normal(rg_ctx *ctx, rg_tensor *t, float mean, float std, float lo,
                               float hi) {
  static const char fn[] = "rg_init_trunc_normal";
  if (!target_ok(ctx, fn, t) || !std_ok(ctx, fn, mean, std) || !finite_args(ctx, fn, lo, hi))
    return rg_ctx_status(ctx);
  if (!(lo < hi) || !(mean + 4.0f * std > lo && mean - 4.0f * std < hi)) {
    rg_fail(ctx, RG_EINVAL, fn, "[lo, hi] = [%g, %g] must be non-empty and near the mean %g",
            (double)lo, (double)hi, (double)mean);
    return ctx->status;
  }
  uint64_t stream = name_stream(t);
  rg_init_normal(ctx, t, mean, std);
  for (int64_t i = 0; i < t->numel; i++)
    for (uint64_t attempt = 1; !(t->data[i] >= lo && t->data[i] <= hi); attempt++) {
      struct rg_rng_key key = {ctx->seed, stream + attempt * ATTEMPT_STRIDE, i};
      ctx->k->rand_normal(1, &key, mean, std, &t->data[i]);
    }
  return RG_OK;
}

static bool fans_for(rg_ctx *ctx, const char *fn, rg_tensor *t, int64_t *in, int64_t *out) {
  if (!target_ok(ctx, fn, t)) return false;
  rg_fans(t, in, out);
  return true;
}

rg_status rg_init_xavier_uniform(rg_ctx *ctx, rg_tensor *t, float gain) {
  int64_t in, out;
  if (!fans_for(ctx, "rg_init_xavier_uniform", t, &in, &out)) return rg_ctx_status(ctx);
  float bound = gain * sqrtf(6.0f / (float)(in + out));
  return rg_init_uniform(ctx, t, -bound, bound);
}

rg_status rg_init_xavier_normal(rg_ctx *ctx, rg_tensor *t, float gain) {
  int64_t in, out;
  if (!fans_for(ctx, "rg_init_xavier_normal", t, &in, &out)) return rg_ctx_status(ctx);
  return rg_init_normal(ctx, t, 0.0f, gain * sqrtf(2.0f / (float)(in + out)));
}

static float kaiming_std(rg_tensor *t, float a, rg_fan_mode mode, rg_nonlinearity nl) {
  int64_t in, out;
  rg_fans(t, &in, &out);
  return rg_calculate_gain(nl, a) / sqrtf((float)(mode == RG_FAN_IN ? in : out));
}

rg_status rg_init_kaiming_uniform(rg_ctx *ctx, rg_tensor *t, float a, rg_fan_mode mode,
                                  rg_nonlinearity nl) {
  if (!target_ok(ctx, "rg_init_kaiming_uniform", t)) return rg_ctx_status(ctx);
  float bound = sqrtf(3.0f) * kaiming_std(t, a, mode, nl);
  return rg_init_uniform(ctx, t, -bound, bound);
}

rg_status rg_init_kaiming_normal(rg_ctx *ctx, rg_tensor *t, float a, rg_fan_mode mode,
                                 rg_nonlinearity nl) {
  if (!target_ok(ctx, "rg_init_kaiming_normal", t)) return rg_ctx_status(ctx);
  return rg_init_normal(ctx, t, 0.0f, kaiming_std(t, a, mode, nl));
}

/* Modified Gram-Schmidt over the `count` vectors of length `len` at stride
 * (vec_stride, elem_stride) in q (double). */
static void gram_schmidt(double *q, int64_t count, int64_t len, int64_t vs, int64_t es) {
  for (int64_t i = 0; i < count; i++) {
    for (int64_t j = 0; j < i; j++) {
      double dot = 0.0;
      for (int64_t e = 0; e < len; e++) dot += q[i * vs + e * es] * q[j * vs + e * es];
      for (int64_t e = 0; e < len; e++) q[i * vs + e * es] -= dot * q[j * vs + e * es];
    }
    double norm = 0.0;
    for (int64_t e = 0; e < len; e++) norm += q[i * vs + e * es] * q[i * vs + e * es];
    norm = sqrt(norm);
    for (int64_t e = 0; e < len; e++) q[i * vs + e * es] /= norm > 0 ? norm : 1.0;
  }
}

rg_status rg_init_orthogonal(rg_ctx *ctx, rg_tensor *t, float gain) {
  static const char fn[] = "rg_init_orthogonal";
  if (!target_ok(ctx, fn, t)) return rg_ctx_status(ctx);
  if (t->shape.rank < 2) {
    rg_fail(ctx, RG_ESHAPE, fn, "t is %s, expected rank >= 2", RG_SHAPE_STR(t->shape));
    return ctx->status;
  }
  int64_t rows = t->shape.dim[0], cols = t->numel / rows;
  double *q = rg_heap_alloc(ctx, fn, (size_t)t->numel * sizeof(double));
  if (!q) return ctx->status;
  rg_init_normal(ctx, t, 0.0f, 1.0f);
  for (int64_t i = 0; i < t->numel; i++) q[i] = t->data[i];
  /* Orthonormal rows when rows <= cols, orthonormal columns otherwise. */
  if (rows <= cols)
    gram_schmidt(q, rows, cols, cols, 1);
  else
    gram_schmidt(q, cols, rows, 1, cols);
  for (int64_t i = 0; i < t->numel; i++) t->data[i] = (float)(q[i] * gain);
  rg_heap_free(ctx, q, (size_t)t->numel * sizeof(double));
  return RG_OK;
}
