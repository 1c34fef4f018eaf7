/* Parameter initialization through the rand_uniform / rand_normal slots.
 * The Philox stream of a parameter is a hash of its name, so its values do
 * not depend on creation order. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "train/init.h"

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

/* The fans of a decoded header. */
static void fans(const rg_tensor *t, int64_t *fan_in, int64_t *fan_out) {
  if (t->shape.rank == 1) {
    *fan_in = *fan_out = t->numel;
    return;
  }
  int64_t field = t->numel / (t->shape.dim[0] * t->shape.dim[1]);
  *fan_in = t->shape.dim[1] * field;
  *fan_out = t->shape.dim[0] * field;
}

void rg_fans(const rg_tensor *t, int64_t *fan_in, int64_t *fan_out) {
  int64_t unused;
  if (!fan_in) fan_in = &unused;
  if (!fan_out) fan_out = &unused;
  t = rg_deref(t);
  if (!t) {
    *fan_in = *fan_out = 0;
    return;
  }
  fans(t, fan_in, fan_out);
}

/* Decodes the handle *t in place (each function below takes a handle). */
static bool target_ok(rg_ctx *ctx, const char *fn, rg_tensor **t) {
  return rg_check(ctx, fn, "t", t);
}

static bool finite_args(rg_ctx *ctx, const char *fn, const char *a_name, float a,
                        const char *b_name, float b) {
  return rg_finite_arg(ctx, fn, a_name, a) && rg_finite_arg(ctx, fn, b_name, b);
}

static rg_status constant(rg_ctx *ctx, const char *fn, rg_tensor *t, float value) {
  if (!target_ok(ctx, fn, &t) || !rg_finite_arg(ctx, fn, "value", value)) return rg_ctx_status(ctx);
  for (int64_t i = 0; i < t->numel; i++) t->data[i] = value;
  return RG_OK;
}

rg_status rg_init_constant(rg_ctx *ctx, rg_tensor *t, float value) {
  return constant(ctx, "rg_init_constant", t, value);
}

rg_status rg_init_zeros(rg_ctx *ctx, rg_tensor *t) { return constant(ctx, "rg_init_zeros", t, 0.0f); }

/* The initializers below take the public function's name for messages. */
static rg_status uniform(rg_ctx *ctx, const char *fn, rg_tensor *t, float lo, float hi) {
  if (!target_ok(ctx, fn, &t) || !finite_args(ctx, fn, "lo", lo, "hi", hi))
    return rg_ctx_status(ctx);
  if (!(lo <= hi) || !(hi - lo <= FLT_MAX)) {
    rg_fail(ctx, RG_EINVAL, fn, "lo is %g and hi %g, expected lo <= hi with hi - lo finite",
            (double)lo, (double)hi);
    return ctx->status;
  }
  struct rg_rng_key key = {ctx->seed, name_stream(t), 0};
  ctx->k->rand_uniform(t->numel, &key, lo, hi, t->data);
  return RG_OK;
}

rg_status rg_init_uniform(rg_ctx *ctx, rg_tensor *t, float lo, float hi) {
  return uniform(ctx, "rg_init_uniform", t, lo, hi);
}

/* Draws reach about 6 standard deviations (Philox's 24-bit uniforms): keep
 * mean +- 8 std finite. */
static bool std_ok(rg_ctx *ctx, const char *fn, float mean, float std) {
  if (!finite_args(ctx, fn, "mean", mean, "std", std)) return false;
  if (std >= 0.0f && fabs((double)mean) + 8.0 * std <= FLT_MAX) return true;
  rg_fail(ctx, RG_EINVAL, fn, "std is %g with mean %g, expected std >= 0 and |mean| + 8 std "
          "finite in float", (double)std, (double)mean);
  return false;
}

static rg_status normal(rg_ctx *ctx, const char *fn, rg_tensor *t, float mean, float std) {
  if (!target_ok(ctx, fn, &t) || !std_ok(ctx, fn, mean, std)) return rg_ctx_status(ctx);
  struct rg_rng_key key = {ctx->seed, name_stream(t), 0};
  ctx->k->rand_normal(t->numel, &key, mean, std, t->data);
  return RG_OK;
}

rg_status rg_init_normal(rg_ctx *ctx, rg_tensor *t, float mean, float std) {
  return normal(ctx, "rg_init_normal", t, mean, std);
}

/* The probability that N(mean, std^2) falls in [lo, hi]. */
static double normal_mass(float mean, float std, float lo, float hi) {
  double s = std * sqrt(2.0);
  return 0.5 * (erfc(((double)lo - mean) / s) - erfc(((double)hi - mean) / s));
}

/* Elements outside [lo, hi] are redrawn, element by element, from stream +
 * attempt * stride: still a pure function of (seed, name, index). */
rg_status rg_init_trunc_normal(rg_ctx *ctx, rg_tensor *t, float mean, float std, float lo,
                               float hi) {
  static const char fn[] = "rg_init_trunc_normal";
  if (!target_ok(ctx, fn, &t) || !std_ok(ctx, fn, mean, std) ||
      !finite_args(ctx, fn, "lo", lo, "hi", hi))
    return rg_ctx_status(ctx);
  /* Redrawing needs a fair chance to land inside: an interval far in a tail
   * (or a sliver) would loop for ever. */
  if (!(lo < hi) || !(mean + 4.0f * std > lo && mean - 4.0f * std < hi) ||
      (std > 0.0f && !(normal_mass(mean, std, lo, hi) >= 1e-3))) {
    rg_fail(ctx, RG_EINVAL, fn,
            "[lo, hi] = [%g, %g] must be non-empty, near the mean %g and hold at least 0.1%% "
            "of the distribution (std %g)",
            (double)lo, (double)hi, (double)mean, (double)std);
    return ctx->status;
  }
  uint64_t stream = name_stream(t);
  normal(ctx, fn, t, mean, std);
  for (int64_t i = 0; i < t->numel; i++)
    for (uint64_t attempt = 1; !(t->data[i] >= lo && t->data[i] <= hi); attempt++) {
      struct rg_rng_key key = {ctx->seed, stream + attempt * ATTEMPT_STRIDE, i};
      ctx->k->rand_normal(1, &key, mean, std, &t->data[i]);
    }
  return RG_OK;
}

static bool fans_for(rg_ctx *ctx, const char *fn, rg_tensor *t, int64_t *in, int64_t *out) {
  if (!target_ok(ctx, fn, &t)) return false;
  fans(t, in, out);
  return true;
}

/* The gain of a Xavier (or rg_init_kaiming_gain) initializer must be finite and >= 0. */
static bool gain_ok(rg_ctx *ctx, const char *fn, float gain) {
  if (!rg_finite_arg(ctx, fn, "gain", gain)) return false;
  if (gain >= 0.0f) return true;
  rg_fail(ctx, RG_EINVAL, fn, "gain is %g, expected >= 0", (double)gain);
  return false;
}

rg_status rg_init_xavier_uniform(rg_ctx *ctx, rg_tensor *t, float gain) {
  static const char fn[] = "rg_init_xavier_uniform";
  int64_t in, out;
  if (!fans_for(ctx, fn, t, &in, &out) || !gain_ok(ctx, fn, gain)) return rg_ctx_status(ctx);
  float bound = gain * sqrtf(6.0f / (float)(in + out));
  return uniform(ctx, fn, t, -bound, bound);
}

rg_status rg_init_xavier_normal(rg_ctx *ctx, rg_tensor *t, float gain) {
  static const char fn[] = "rg_init_xavier_normal";
  int64_t in, out;
  if (!fans_for(ctx, fn, t, &in, &out) || !gain_ok(ctx, fn, gain)) return rg_ctx_status(ctx);
  return normal(ctx, fn, t, 0.0f, gain * sqrtf(2.0f / (float)(in + out)));
}

/* He's std for a gain, gain / sqrt(fan) (t decoded). */
static float he_std(const rg_tensor *t, float gain, rg_fan_mode mode) {
  int64_t in, out;
  fans(t, &in, &out);
  return gain / sqrtf((float)(mode == RG_FAN_IN ? in : out));
}

/* He's draw for a std (t a handle); the uniform one has the same variance:
 * bound sqrt(3) std. */
static rg_status he_draw(rg_ctx *ctx, const char *fn, rg_tensor *t, float std, bool is_normal) {
  if (is_normal) return normal(ctx, fn, t, 0.0f, std);
  return uniform(ctx, fn, t, -sqrtf(3.0f) * std, sqrtf(3.0f) * std);
}

/* The Kaiming std, or a negative value with the error set for a bad slope,
 * mode or nonlinearity. */
static float kaiming_std(rg_ctx *ctx, const char *fn, rg_tensor *t, float a, rg_fan_mode mode,
                         rg_nonlinearity nl) {
  if (!target_ok(ctx, fn, &t) || !rg_finite_arg(ctx, fn, "a", a)) return -1.0f;
  if ((mode != RG_FAN_IN && mode != RG_FAN_OUT) || (unsigned)nl > RG_SIGMOID) {
    rg_fail(ctx, RG_EINVAL, fn, "mode is %d and nl %d, expected RG_FAN_IN or RG_FAN_OUT and an "
            "rg_nonlinearity", (int)mode, (int)nl);
    return -1.0f;
  }
  return he_std(t, rg_calculate_gain(nl, a), mode);
}

rg_status rg_init_kaiming_uniform(rg_ctx *ctx, rg_tensor *t, float a, rg_fan_mode mode,
                                  rg_nonlinearity nl) {
  static const char fn[] = "rg_init_kaiming_uniform";
  float std = kaiming_std(ctx, fn, t, a, mode, nl);
  if (std < 0.0f) return rg_ctx_status(ctx);
  return he_draw(ctx, fn, t, std, false);
}

rg_status rg_init_kaiming_normal(rg_ctx *ctx, rg_tensor *t, float a, rg_fan_mode mode,
                                 rg_nonlinearity nl) {
  static const char fn[] = "rg_init_kaiming_normal";
  float std = kaiming_std(ctx, fn, t, a, mode, nl);
  if (std < 0.0f) return rg_ctx_status(ctx);
  return he_draw(ctx, fn, t, std, true);
}

rg_status rg_init_kaiming_gain(rg_ctx *ctx, const char *fn, rg_tensor *t, float gain,
                               bool is_normal) {
  rg_tensor *d = t;
  if (!target_ok(ctx, fn, &d) || !gain_ok(ctx, fn, gain)) return rg_ctx_status(ctx);
  return he_draw(ctx, fn, t, he_std(d, gain, RG_FAN_IN), is_normal);
}

rg_status rg_init_standard(rg_ctx *ctx, const char *fn, rg_tensor *t) {
  int64_t in, out;
  if (!fans_for(ctx, fn, t, &in, &out)) return rg_ctx_status(ctx);
  float bound = 1.0f / sqrtf((float)in);
  return uniform(ctx, fn, t, -bound, bound);
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
  if (!target_ok(ctx, fn, &t)) return rg_ctx_status(ctx);
  if (t->shape.rank < 2) {
    rg_fail(ctx, RG_ESHAPE, fn, "t is %s, expected rank >= 2", RG_SHAPE_STR(t->shape));
    return ctx->status;
  }
  int64_t rows = t->shape.dim[0], cols = t->numel / rows;
  if (!rg_finite_arg(ctx, fn, "gain", gain)) return ctx->status;
  double *q = rg_heap_alloc(ctx, fn, (size_t)t->numel * sizeof(double));
  if (!q) return ctx->status;
  normal(ctx, fn, rg_handle(t), 0.0f, 1.0f);
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
