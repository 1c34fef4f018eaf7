/* Cross-ISA bit identity: every kernel slot, on every ISA this machine can
 * run, must produce the same bytes as the scalar reference, over random
 * inputs with special values, every length from 1 to 2 x 16 + 1, longer odd
 * lengths and unaligned pointers; the sums of squares also over the whole
 * float range, subnormals to FLT_MAX. NaN payloads are not part of the
 * contract: any NaN matches any NaN. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_slots.h"
#include "core/cpu.h"
#include "kernels.h"

#define MAXN 4200
#define PAD 1 /* floats: every buffer starts one float past 64-byte alignment */

enum dist { D_ANY, D_POS, D_UNIT, D_SMALL, D_WIDE };

/* The double results of the sums of squares: sumsq's return value, and
 * grad_stats' row sums and statistics (with rows stored, and without). */
#define MAXROWS 64
struct wide {
  double ret;
  double rows[MAXROWS];
  struct rg_grad_stats stats[2];
};

struct io {
  float *in[6];
  int32_t *labels;
  float *out[3];
  int64_t out_len[3];
  float ret; /* return value of reductions */
  struct wide wide;
  int64_t n, m, k;
  uint64_t seed;
};

static uint64_t rng_next(uint64_t *s) {
  *s += 0x9E3779B97F4A7C15ull;
  uint64_t z = *s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static float rng_unit(uint64_t *s) { return (float)(rng_next(s) >> 40) * 0x1p-24f; }

/* Values spread over many magnitudes, with zeros of both signs, infinities
 * and NaNs sprinkled in for D_ANY. */
static float draw(uint64_t *s, enum dist d) {
  float u = rng_unit(s);
  switch (d) {
    case D_POS: return ldexpf(0.5f + u, (int)(rng_next(s) % 16) - 8);
    case D_UNIT: return u;
    case D_SMALL: return 4.0f * u - 2.0f;
    default: break;
  }
  uint64_t r = rng_next(s) % 200;
  if (r == 0) return NAN;
  if (r == 1) return INFINITY;
  if (r == 2) return -INFINITY;
  if (r == 3) return 0.0f;
  if (r == 4) return -0.0f;
  return ldexpf(2.0f * u - 1.0f, (int)(rng_next(s) % 24) - 12);
}

/* For the sums of squares, whose squares span 2^-298 to 2^256: per buffer, a
 * scale 2^e (e from -150, where most values underflow to subnormals or
 * zero, to 115, where squares pass FLT_MAX) times values over 24 binades,
 * so the sums still round and their order shows; in half of the buffers
 * also elements of any finite magnitude and +-FLT_MAX, in a quarter D_ANY's
 * NaNs, infinities and signed zeros. */
static void fill_wide(float *p, int64_t n, uint64_t *s) {
  static const int scales[] = {-150, -140, -126, -100, -64, 0, 40, 64, 100, 115};
  int e = scales[rng_next(s) % (sizeof scales / sizeof *scales)];
  bool wild = rng_next(s) % 2, specials = rng_next(s) % 4 == 0;
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = rng_next(s) % 64;
    float sign = (rng_next(s) & 1) ? -1.0f : 1.0f;
    if (wild && r == 0) {
      p[i] = sign * FLT_MAX;
    } else if (wild && r == 1) {
      uint32_t bits = (uint32_t)rng_next(s) & 0x807fffffu; /* sign and mantissa */
      bits |= (uint32_t)(rng_next(s) % 255) << 23;          /* exponent field 0 .. 254 */
      memcpy(&p[i], &bits, sizeof bits);
    } else if (specials && r == 2) {
      p[i] = draw(s, D_ANY);
    } else { /* one draw a statement: the same order on every compiler */
      float m = sign * (0.5f + 0.5f * rng_unit(s));
      p[i] = ldexpf(m, e + (int)(rng_next(s) % 24) - 12);
    }
  }
}

static void fill(float *p, int64_t n, uint64_t *s, enum dist d) {
  if (d == D_WIDE) {
    fill_wide(p, n, s);
    return;
  }
  for (int64_t i = 0; i < n; i++) p[i] = draw(s, d);
}

static bool same_float(float a, float b) {
  if (isnan(a) && isnan(b)) return true;
  return memcmp(&a, &b, sizeof a) == 0;
}

static bool same_double(double a, double b) {
  if (isnan(a) && isnan(b)) return true;
  return memcmp(&a, &b, sizeof a) == 0;
}

/* The first field where two sets of double results differ, or NULL. */
static const char *wide_diff(const struct wide *a, const struct wide *b, int64_t m) {
  if (!same_double(a->ret, b->ret)) return "sumsq";
  for (int64_t r = 0; r < m; r++)
    if (!same_double(a->rows[r], b->rows[r])) return "row_sumsq";
  for (int i = 0; i < 2; i++) {
    if (!same_double(a->stats[i].sumsq, b->stats[i].sumsq)) return "stats.sumsq";
    if (!same_float(a->stats[i].asum, b->stats[i].asum)) return "stats.asum";
    if (!same_float(a->stats[i].amax, b->stats[i].amax)) return "stats.amax";
  }
  return NULL;
}

typedef void (*runner)(const struct rg_kernels *k, struct io *io);

/* Input distributions for each of a case's inputs, and how many outputs. */
struct kcase {
  const char *slot;
  runner run;
  enum dist dist[6];
  int n_in, n_out;
  bool rows; /* m x n shape */
};

#define N io->n
#define M io->m
#define IN(i) io->in[i]
#define OUT(i) io->out[i]

static void r_relu_fwd(const struct rg_kernels *k, struct io *io) { k->relu_fwd(N, IN(0), OUT(0)); }
static void r_relu_bwd(const struct rg_kernels *k, struct io *io) { k->relu_bwd(N, IN(0), IN(1), OUT(0)); }
static void r_leaky_relu_fwd(const struct rg_kernels *k, struct io *io) { k->leaky_relu_fwd(N, 0.01f, IN(0), OUT(0)); }
static void r_leaky_relu_bwd(const struct rg_kernels *k, struct io *io) { k->leaky_relu_bwd(N, 0.2f, IN(0), IN(1), OUT(0)); }
static void r_sigmoid_fwd(const struct rg_kernels *k, struct io *io) { k->sigmoid_fwd(N, IN(0), OUT(0)); }
static void r_sigmoid_bwd(const struct rg_kernels *k, struct io *io) { k->sigmoid_bwd(N, IN(0), IN(1), OUT(0)); }
static void r_tanh_fwd(const struct rg_kernels *k, struct io *io) { k->tanh_fwd(N, IN(0), OUT(0)); }
static void r_tanh_bwd(const struct rg_kernels *k, struct io *io) { k->tanh_bwd(N, IN(0), IN(1), OUT(0)); }
static void r_gelu_fwd(const struct rg_kernels *k, struct io *io) { k->gelu_fwd(N, IN(0), OUT(0)); }
static void r_gelu_bwd(const struct rg_kernels *k, struct io *io) { k->gelu_bwd(N, IN(0), IN(1), OUT(0)); }
static void r_exp_fwd(const struct rg_kernels *k, struct io *io) { k->exp_fwd(N, IN(0), OUT(0)); }
static void r_log_fwd(const struct rg_kernels *k, struct io *io) { k->log_fwd(N, IN(0), OUT(0)); }
static void r_log_bwd(const struct rg_kernels *k, struct io *io) { k->log_bwd(N, IN(0), IN(1), OUT(0)); }
/* Outputs may alias inputs: the in-place forms clipping and diagnostics use. */
static void in_place_copy(struct io *io) { memcpy(OUT(1), IN(0), (size_t)N * sizeof(float)); }

static void r_clamp_fwd(const struct rg_kernels *k, struct io *io) {
  k->clamp_fwd(N, -0.5f, 0.75f, IN(0), OUT(0));
  in_place_copy(io);
  k->clamp_fwd(N, -0.25f, 0.25f, OUT(1), OUT(1));
}
static void r_clamp_bwd(const struct rg_kernels *k, struct io *io) { k->clamp_bwd(N, -0.5f, 0.75f, IN(0), IN(1), OUT(0)); }
static void r_add(const struct rg_kernels *k, struct io *io) {
  k->add(N, IN(0), IN(1), OUT(0));
  in_place_copy(io);
  k->add(N, OUT(1), IN(1), OUT(1));
}
static void r_sub(const struct rg_kernels *k, struct io *io) {
  k->sub(N, IN(0), IN(1), OUT(0));
  in_place_copy(io);
  k->sub(N, IN(1), OUT(1), OUT(1));
}
static void r_mul(const struct rg_kernels *k, struct io *io) { k->mul(N, IN(0), IN(1), OUT(0)); }
static void r_scale(const struct rg_kernels *k, struct io *io) {
  k->scale(N, -1.7f, IN(0), OUT(0));
  in_place_copy(io);
  k->scale(N, 0.3f, OUT(1), OUT(1));
}
static void r_axpy(const struct rg_kernels *k, struct io *io) { k->axpy(N, 0.3f, IN(0), OUT(0)); }
static void r_mul_acc(const struct rg_kernels *k, struct io *io) { k->mul_acc(N, IN(0), IN(1), OUT(0)); }
static void r_sign_acc(const struct rg_kernels *k, struct io *io) { k->sign_acc(N, 0.125f, IN(0), OUT(0)); }
static void r_colsum_acc(const struct rg_kernels *k, struct io *io) { k->colsum_acc(M, N, IN(0), OUT(0)); }
static void r_sum(const struct rg_kernels *k, struct io *io) { io->ret = k->sum(N, IN(0)); }
static void r_sumsq(const struct rg_kernels *k, struct io *io) { io->wide.ret = k->sumsq(N, IN(0)); }
static void r_asum(const struct rg_kernels *k, struct io *io) { io->ret = k->asum(N, IN(0)); }
static void r_amax(const struct rg_kernels *k, struct io *io) { io->ret = k->amax(N, IN(0)); }
static void r_dot(const struct rg_kernels *k, struct io *io) { io->ret = k->dot(N, IN(0), IN(1)); }

static void r_amax_bwd(const struct rg_kernels *k, struct io *io) {
  /* Plant ties so the shared-gradient path runs. */
  float m = 0.0f;
  for (int64_t i = 0; i < N; i += 3) IN(0)[i] = (i % 2) ? 2.5f : -2.5f;
  for (int64_t i = 0; i < N; i++) m = fabsf(IN(0)[i]) > m ? fabsf(IN(0)[i]) : m;
  k->amax_bwd(N, m, 0.7f, IN(0), OUT(0));
  /* All zeros: max 0, and no element may take a share (sign(0) = 0). */
  memset(IN(1), 0, (size_t)N * sizeof(float));
  k->amax_bwd(N, 0.0f, 0.7f, IN(1), OUT(1));
}

static void r_grad_stats(const struct rg_kernels *k, struct io *io) {
  k->grad_stats(M, N, IN(0), io->wide.rows, &io->wide.stats[0]);
  k->grad_stats(M, N, IN(0), NULL, &io->wide.stats[1]);
}

static void r_softmax_fwd(const struct rg_kernels *k, struct io *io) { k->softmax_fwd(M, N, IN(0), OUT(0)); }
static void r_softmax_bwd(const struct rg_kernels *k, struct io *io) { k->softmax_bwd(M, N, IN(0), IN(1), OUT(0)); }
static void r_log_softmax_fwd(const struct rg_kernels *k, struct io *io) { k->log_softmax_fwd(M, N, IN(0), OUT(0)); }
static void r_log_softmax_bwd(const struct rg_kernels *k, struct io *io) { k->log_softmax_bwd(M, N, IN(0), IN(1), OUT(0)); }

static void r_xent_fwd(const struct rg_kernels *k, struct io *io) {
  k->xent_fwd(M, N, 0.0f, IN(0), io->labels, OUT(0), OUT(1));
  k->xent_fwd(M, N, 0.1f, IN(1), io->labels, OUT(2), OUT(1) + M);
}

static void r_xent_bwd(const struct rg_kernels *k, struct io *io) {
  k->xent_bwd(M, N, 0.0f, 0.25f, IN(0), io->labels, OUT(0));
  k->xent_bwd(M, N, 0.1f, -0.5f, IN(0), io->labels, OUT(1));
}

static void r_bce_fwd(const struct rg_kernels *k, struct io *io) { k->bce_fwd(N, IN(0), IN(1), OUT(0)); }
static void r_bce_bwd(const struct rg_kernels *k, struct io *io) { k->bce_bwd(N, 0.3f, IN(0), IN(1), OUT(0)); }

static struct rg_rng_key key_for(const struct io *io) {
  struct rg_rng_key key = {io->seed, io->seed % 7, (int64_t)(io->seed % 13)};
  return key;
}

static void r_dropout_fwd(const struct rg_kernels *k, struct io *io) {
  struct rg_rng_key key = key_for(io);
  k->dropout_fwd(N, &key, 8388608u, 2.0f, IN(0), OUT(0));
  k->dropout_fwd(N, &key, 16777000u, 1.0f / 0.9999f, IN(0), OUT(1));
  /* A counter whose low word carries into the high word mid-call. */
  key.offset = (int64_t)(0xFFFFFFFFull * 4 - 6);
  k->dropout_fwd(N, &key, 4194304u, 4.0f / 3.0f, IN(0), OUT(2));
}

static void r_dropout_bwd(const struct rg_kernels *k, struct io *io) {
  struct rg_rng_key key = key_for(io);
  k->dropout_bwd(N, &key, 5033165u, 1.0f / 0.7f, IN(0), OUT(0));
}

static void r_rand_uniform(const struct rg_kernels *k, struct io *io) {
  struct rg_rng_key key = key_for(io);
  k->rand_uniform(N, &key, -0.3f, 0.7f, OUT(0));
}

static void r_rand_normal(const struct rg_kernels *k, struct io *io) {
  struct rg_rng_key key = key_for(io);
  k->rand_normal(N, &key, 0.5f, 2.0f, OUT(0));
}

static void r_bn_stats(const struct rg_kernels *k, struct io *io) { k->bn_stats(M, N, IN(0), OUT(0), OUT(1)); }

static void r_bn_apply(const struct rg_kernels *k, struct io *io) {
  k->bn_apply(M, N, IN(0), IN(1), IN(2), IN(3), IN(4), OUT(0));
}

static void r_bn_bwd(const struct rg_kernels *k, struct io *io) {
  k->bn_bwd(M, N, IN(0), IN(1), IN(2), IN(3), IN(4), OUT(0), OUT(1), OUT(2));
}

static void r_sgd_step(const struct rg_kernels *k, struct io *io) {
  struct rg_sgd_hyper h = {.lr = 0.05f, .momentum = 0.9f, .dampening = 0.1f,
                           .weight_decay = 5e-4f, .decoupled_decay = 0.0f,
                           .grad_scale = 0.75f, .nesterov = 0, .first = 0};
  k->sgd_step(N, &h, OUT(0), IN(0), OUT(1));
  h.nesterov = 1, h.first = 1, h.decoupled_decay = 0.01f, h.weight_decay = 0.0f;
  k->sgd_step(N, &h, OUT(0), IN(1), OUT(1));
  h.momentum = 0.0f;
  k->sgd_step(N, &h, OUT(0), IN(0), OUT(1));
}

static void r_adam_step(const struct rg_kernels *k, struct io *io) {
  struct rg_adam_hyper h = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                            .weight_decay = 1e-4f, .decoupled_decay = 0.0f,
                            .grad_scale = 1.0f, .bias_c1 = 0.1f, .sqrt_bias_c2 = 0.0316f};
  k->adam_step(N, &h, OUT(0), IN(0), OUT(1), OUT(2));
  h.weight_decay = 0.0f, h.decoupled_decay = 0.01f, h.grad_scale = 0.5f;
  k->adam_step(N, &h, OUT(0), IN(1), OUT(1), OUT(2));
}

static void r_prox_l1(const struct rg_kernels *k, struct io *io) { k->prox_l1(N, 0.01f, OUT(0)); }

/* gemm gets its own sweep of (m, n, k) below; here one mid-size shape of each
 * transpose combination, sized from n. */
static void r_gemm(const struct rg_kernels *k, struct io *io) {
  int64_t mm = M, nn = N, kk = io->k;
  k->gemm(mm, nn, kk, 0, 0, IN(0), kk, IN(1), nn, OUT(0), nn, 1, NULL);
  k->gemm(mm, nn, kk, 0, 1, IN(0), kk, IN(1), kk, OUT(1), nn, 0, NULL);
  k->gemm(mm, nn, kk, 1, 0, IN(0), mm, IN(1), nn, OUT(2), nn, 1, NULL);
}

#define C1(s, d0) {#s, r_##s, {d0}, 1, 1, false}
#define C2(s, d0, d1) {#s, r_##s, {d0, d1}, 2, 1, false}

static const struct kcase cases[] = {
    C1(relu_fwd, D_ANY), C2(relu_bwd, D_ANY, D_ANY),
    C1(leaky_relu_fwd, D_ANY), C2(leaky_relu_bwd, D_ANY, D_ANY),
    C1(sigmoid_fwd, D_ANY), C2(sigmoid_bwd, D_UNIT, D_ANY),
    C1(tanh_fwd, D_ANY), C2(tanh_bwd, D_SMALL, D_ANY),
    C1(gelu_fwd, D_ANY), C2(gelu_bwd, D_ANY, D_ANY),
    C1(exp_fwd, D_ANY), C1(log_fwd, D_ANY), C2(log_bwd, D_POS, D_ANY),
    {"clamp_fwd", r_clamp_fwd, {D_ANY}, 1, 2, false}, C2(clamp_bwd, D_SMALL, D_ANY),
    {"add", r_add, {D_ANY, D_ANY}, 2, 2, false}, {"sub", r_sub, {D_ANY, D_ANY}, 2, 2, false}, C2(mul, D_ANY, D_ANY),
    {"scale", r_scale, {D_ANY}, 1, 2, false}, C1(axpy, D_ANY), C2(mul_acc, D_ANY, D_ANY), C1(sign_acc, D_ANY),
    {"colsum_acc", r_colsum_acc, {D_ANY}, 1, 1, true},
    C1(sum, D_ANY), C1(sumsq, D_WIDE), C1(asum, D_ANY),
    C1(amax, D_ANY), C2(dot, D_ANY, D_ANY), C1(amax_bwd, D_SMALL),
    {"grad_stats", r_grad_stats, {D_WIDE}, 1, 0, true},
    {"softmax_fwd", r_softmax_fwd, {D_ANY}, 1, 1, true},
    {"softmax_bwd", r_softmax_bwd, {D_UNIT, D_ANY}, 2, 1, true},
    {"log_softmax_fwd", r_log_softmax_fwd, {D_ANY}, 1, 1, true},
    {"log_softmax_bwd", r_log_softmax_bwd, {D_SMALL, D_ANY}, 2, 1, true},
    {"xent_fwd", r_xent_fwd, {D_ANY, D_SMALL}, 2, 3, true},
    {"xent_bwd", r_xent_bwd, {D_UNIT}, 1, 2, true},
    C2(bce_fwd, D_ANY, D_UNIT), C2(bce_bwd, D_ANY, D_UNIT),
    {"dropout_fwd", r_dropout_fwd, {D_ANY}, 1, 2, false},
    {"dropout_bwd", r_dropout_bwd, {D_ANY}, 1, 1, false},
    {"rand_uniform", r_rand_uniform, {0}, 0, 1, false},
    {"rand_normal", r_rand_normal, {0}, 0, 1, false},
    {"bn_stats", r_bn_stats, {D_SMALL}, 1, 2, true},
    {"bn_apply", r_bn_apply, {D_ANY, D_SMALL, D_POS, D_SMALL, D_SMALL}, 5, 1, true},
    {"bn_bwd", r_bn_bwd, {D_SMALL, D_SMALL, D_POS, D_SMALL, D_ANY}, 5, 3, true},
    {"gemm", r_gemm, {D_SMALL, D_SMALL}, 2, 3, true},
    {"sgd_step", r_sgd_step, {D_ANY, D_ANY}, 2, 2, false},
    {"adam_step", r_adam_step, {D_ANY, D_ANY}, 2, 3, false},
    {"prox_l1", r_prox_l1, {0}, 0, 1, false},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* The slots whose results are doubles, in io->wide. */
static bool writes_wide(const struct kcase *c) {
  return c->run == r_sumsq || c->run == r_grad_stats;
}

static float *buf_at(float *base, int slot) { return base + PAD + (int64_t)slot * (4 * MAXN + 64); }

/* Runs one case with a table, writing into outputs pre-filled from the seed. */
static void run_with(const struct kcase *c, const struct rg_kernels *k, struct io *io,
                     float *outbase) {
  uint64_t s = io->seed ^ 0xABCDEFull;
  for (int o = 0; o < 3; o++) {
    io->out[o] = buf_at(outbase, o);
    /* The third output is Adam's second moment, which must be >= 0. */
    fill(io->out[o], 4 * MAXN, &s, o == 2 ? D_POS : D_SMALL);
  }
  memset(&io->wide, 0, sizeof io->wide);
  c->run(k, io);
}

static void prepare_inputs(const struct kcase *c, struct io *io, float *inbase,
                           int32_t *labels) {
  uint64_t s = io->seed;
  for (int i = 0; i < 6; i++) {
    io->in[i] = buf_at(inbase, i);
    fill(io->in[i], 4 * MAXN, &s, i < c->n_in ? c->dist[i] : D_SMALL);
  }
  for (int64_t r = 0; r < 64; r++) labels[r] = (int32_t)(rng_next(&s) % (uint64_t)io->n);
  io->labels = labels;
}

static int64_t compare(const float *a, const float *b, int64_t len) {
  for (int64_t i = 0; i < len; i++)
    if (!same_float(a[i], b[i])) return i;
  return -1;
}

static void check_case(const struct kcase *c, enum rg_isa isa, int64_t m, int64_t n, int64_t kk,
                       uint64_t seed) {
  static float inbase[6 * (4 * MAXN + 64) + 64], ref[3 * (4 * MAXN + 64) + 64],
      got[3 * (4 * MAXN + 64) + 64];
  static int32_t labels[64];
  struct io io = {.n = n, .m = m, .k = kk, .seed = seed};
  prepare_inputs(c, &io, inbase, labels);
  run_with(c, &rg_kernels_scalar, &io, ref);
  float ref_ret = io.ret;
  struct wide ref_wide = io.wide;
  prepare_inputs(c, &io, inbase, labels); /* some runners plant values */
  run_with(c, rg_isa_table(isa), &io, got);
  cr_assert(same_float(ref_ret, io.ret), "%s on %s: n=%lld returns %a, scalar %a", c->slot,
            rg_isa_name(isa), (long long)n, io.ret, ref_ret);
  const char *bad_wide = writes_wide(c) ? wide_diff(&ref_wide, &io.wide, m) : NULL;
  cr_assert(!bad_wide, "%s on %s: m=%lld n=%lld: %s differs from scalar (sumsq %a vs %a)",
            c->slot, rg_isa_name(isa), (long long)m, (long long)n, bad_wide, io.wide.ret,
            ref_wide.ret);
  for (int o = 0; o < 3; o++) {
    int64_t bad = compare(buf_at(ref, o), buf_at(got, o), 4 * MAXN);
    cr_assert(bad < 0, "%s on %s: m=%lld n=%lld k=%lld output %d differs at %lld: %a vs scalar %a",
              c->slot, rg_isa_name(isa), (long long)m, (long long)n, (long long)kk, o,
              (long long)bad, buf_at(got, o)[bad], buf_at(ref, o)[bad]);
  }
}

static void check_all_sizes(const struct kcase *c, enum rg_isa isa) {
  static const int64_t longs[] = {63, 64, 65, 100, 127, 255, 257, 1000, 1023, 4099};
  static const int64_t rows[] = {1, 2, 3, 5};
  uint64_t seed = 12345;
  if (strcmp(c->slot, "gemm") == 0) {
    static const int64_t ms[] = {1, 2, 3, 4, 5, 13, 14, 15, 29};
    static const int64_t ns[] = {1, 7, 8, 15, 16, 17, 31, 32, 33, 48, 65};
    static const int64_t ks[] = {1, 2, 5, 16, 33, 70};
    for (unsigned a = 0; a < sizeof ms / sizeof *ms; a++)
      for (unsigned b = 0; b < sizeof ns / sizeof *ns; b++)
        for (unsigned d = 0; d < sizeof ks / sizeof *ks; d++)
          check_case(c, isa, ms[a], ns[b], ks[d], seed++);
    /* Past the k-blocks (256) and row blocks of the packed kernels. */
    static const int64_t big[][3] = {
        {20, 24, 600}, {60, 40, 257}, {1, 40, 300},  {6, 16, 513},  {100, 16, 160},
        {4, 40, 70},   {4, 65, 33},   {1, 65, 33},   {2, 300, 7},   {3, 100, 5},
        {1, 260, 20},  {4, 260, 20},  {10, 65, 40},  {128, 10, 40}, {40, 100, 10},
        {17, 70, 3},   {130, 70, 40}};
    for (unsigned i = 0; i < sizeof big / sizeof *big; i++)
      check_case(c, isa, big[i][0], big[i][1], big[i][2], seed++);
    return;
  }
  for (int64_t n = 1; n <= 2 * 16 + 1; n++)
    for (unsigned r = 0; r < (c->rows ? 4u : 1u); r++) check_case(c, isa, rows[r], n, 0, seed++);
  for (unsigned i = 0; i < sizeof longs / sizeof *longs; i++)
    check_case(c, isa, c->rows ? 3 : 1, c->rows ? longs[i] / 3 + 1 : longs[i], 0, seed++);
}

ParameterizedTestParameters(kernels, bit_identical) {
  static int idx[N_CASES];
  for (int i = 0; i < N_CASES; i++) idx[i] = i;
  return cr_make_param_array(int, idx, N_CASES);
}

ParameterizedTest(int *i, kernels, bit_identical) {
  const struct kcase *c = &cases[*i];
  for (int isa = 0; isa < RG_ISA_COUNT; isa++) {
    if (isa == RG_ISA_SCALAR) continue;
    if (!rg_isa_usable(isa)) {
      if (rg_isa_table(isa)) cr_log_info("%s: skipped, CPU lacks it", rg_isa_name(isa));
      continue;
    }
    check_all_sizes(c, isa);
  }
}

/* The case table names every slot of kernels.def exactly once. */
Test(kernels, every_slot_has_a_case) {
  cr_assert_eq(N_CASES, RG_SLOT_COUNT, "%d cases for %d slots", N_CASES, RG_SLOT_COUNT);
  for (int s = 0; s < RG_SLOT_COUNT; s++) {
    int found = 0;
    for (int i = 0; i < N_CASES; i++) found += strcmp(cases[i].slot, rg_slot_names[s]) == 0;
    cr_assert_eq(found, 1, "slot %s has %d cases", rg_slot_names[s], found);
  }
}

/* Each table is complete and serves every slot with its own ISA's body. */
Test(kernels, tables_use_their_own_bodies) {
  for (int isa = 0; isa < RG_ISA_COUNT; isa++) {
    const struct rg_kernels *k = rg_isa_table(isa);
    if (!k) continue;
    cr_assert_str_eq(k->isa, rg_isa_name(isa));
    char suffix[32];
    snprintf(suffix, sizeof suffix, "__%s", k->isa);
    for (int s = 0; s < RG_SLOT_COUNT; s++) {
      const char *sym = k->symbols[s];
      cr_assert(strstr(sym, suffix) != NULL, "%s slot %s served by %s", k->isa,
                rg_slot_names[s], sym);
    }
  }
}

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t len) {
  const unsigned char *b = p;
  for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* The double results of a wide case, NaNs canonicalized, field by field. */
static uint64_t wide_hash(uint64_t h, const struct wide *w, int64_t m) {
  static const double qnan = NAN;
  for (int64_t i = -1; i < m; i++) {
    double v = i < 0 ? w->ret : w->rows[i];
    h = fnv_bytes(h, isnan(v) ? &qnan : &v, sizeof v);
  }
  for (int i = 0; i < 2; i++) {
    double v = isnan(w->stats[i].sumsq) ? qnan : w->stats[i].sumsq;
    float f[2] = {w->stats[i].asum, w->stats[i].amax};
    for (int j = 0; j < 2; j++)
      if (isnan(f[j])) f[j] = NAN;
    h = fnv_bytes(fnv_bytes(h, &v, sizeof v), f, sizeof f);
  }
  return h;
}

/* Every activation slot at extreme finite inputs (issue 15 item 7), on every
 * ISA: no NaN where the mathematical result is finite (act_slots.h), the
 * scalar bits, and gelu's derivative at its limits: exactly dy for x >= 10,
 * 0 for x <= -10. Backward slots take dy = 1, -0.5 and 1e30, and sigmoid's
 * and tanh's (which read y) both the raw values and their forward outputs. */
Test(kernels, activations_at_extreme_inputs) {
  static const float mags[] = {FLT_MAX, 1e38f, 1.85e19f, 0x1.000002p+64f, 0x1.fffffep+63f,
                               1e19f, 1e10f, 100.0f, 20.0f, 10.0f, 5.5f, 1.0f, 1e-3f,
                               FLT_MIN, 1e-40f, 1e-45f, 0.0f};
  enum { NM = sizeof mags / sizeof *mags, NX = 2 * NM };
  static const float dys[] = {1.0f, -0.5f, 1e30f};
  float x[NX], y[NX], dy[NX], want[NX], got[NX];
  for (int i = 0; i < NM; i++) x[2 * i] = mags[i], x[2 * i + 1] = -mags[i];
  const struct rg_kernels *sc = rg_isa_table(RG_ISA_SCALAR);
  for (int isa = 0; isa < RG_ISA_COUNT; isa++) {
    if (!rg_isa_usable(isa)) continue;
    const struct rg_kernels *k = rg_isa_table(isa);
    for (int s = 0; s < RG_A_COUNT; s++)
      for (unsigned d = 0; d < sizeof dys / sizeof *dys; d++)
        for (int from_fwd = 0; from_fwd < 2; from_fwd++) {
          bool reads_y = s == RG_A_SIGMOID_BWD || s == RG_A_TANH_BWD;
          if (from_fwd && !reads_y) continue;
          const float *in = x;
          if (from_fwd) {
            rg_act_run(k, s == RG_A_TANH_BWD ? RG_A_TANH_FWD : RG_A_SIGMOID_FWD, NX, x, NULL, y);
            in = y;
          }
          for (int i = 0; i < NX; i++) dy[i] = dys[d];
          rg_act_run(sc, s, NX, in, dy, want);
          rg_act_run(k, s, NX, in, dy, got);
          for (int i = 0; i < NX; i++) {
            cr_assert(!isnan(got[i]) || rg_act_nan_allowed(s, in[i]),
                      "%s on %s: NaN at input %a (dy %g)", rg_act_names[s], rg_isa_name(isa),
                      in[i], dys[d]);
            cr_assert(same_float(got[i], want[i]), "%s on %s: input %a gives %a, scalar %a",
                      rg_act_names[s], rg_isa_name(isa), in[i], got[i], want[i]);
            if (s == RG_A_GELU_BWD && fabsf(x[i]) >= 10.0f)
              cr_assert(got[i] == (x[i] > 0 ? dys[d] : 0.0f),
                        "gelu_bwd on %s: input %a gives %a, the limit is %g", rg_isa_name(isa),
                        x[i], got[i], x[i] > 0 ? dys[d] : 0.0f);
          }
        }
  }
}

/* Output hash of one slot on fixed inputs, NaNs canonicalized (payloads
 * are outside the contract). */
static uint64_t case_hash(const struct kcase *c, const struct rg_kernels *k) {
  static float inbase[6 * (4 * MAXN + 64) + 64], out[3 * (4 * MAXN + 64) + 64];
  static int32_t labels[64];
  struct io io = {.n = 37, .m = 3, .k = 19, .seed = 777};
  prepare_inputs(c, &io, inbase, labels);
  run_with(c, k, &io, out);
  uint64_t h = 0xcbf29ce484222325ull;
  for (int o = 0; o < 3; o++)
    for (int64_t i = -1; i < 4 * MAXN; i++) {
      float v = i < 0 ? (o == 0 ? io.ret : 0.0f) : buf_at(out, o)[i];
      uint32_t u;
      memcpy(&u, &v, sizeof u);
      if (isnan(v)) u = 0x7fc00000u;
      for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xff)) * 0x100000001b3ull;
    }
  if (!writes_wide(c)) return h;
  /* The sums of squares: also 16 more inputs of 300 elements, whose scales
   * (fill_wide) reach the subnormal and the past-FLT_MAX squares. */
  h = wide_hash(h, &io.wide, io.m);
  for (uint64_t seed = 1; seed <= 16; seed++) {
    io = (struct io){.n = 100, .m = 3, .seed = seed};
    prepare_inputs(c, &io, inbase, labels);
    run_with(c, k, &io, out);
    h = wide_hash(h, &io.wide, io.m);
  }
  return h;
}

/* Every slot's output on fixed inputs hashes to the value recorded on x86
 * (tests/golden/kernels.txt), on every ISA this machine runs, so an aarch64
 * run is held to the x86 bits. REGRAD_WRITE_GOLDEN=1 rewrites the file from
 * the scalar reference. */
Test(kernels, outputs_match_the_x86_golden_hashes) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/golden/kernels.txt", RG_SOURCE_ROOT);
  if (getenv("REGRAD_WRITE_GOLDEN")) {
    FILE *w = fopen(path, "w");
    cr_assert(w);
    for (int i = 0; i < N_CASES; i++)
      fprintf(w, "%s %016llx\n", cases[i].slot, (unsigned long long)case_hash(&cases[i], &rg_kernels_scalar));
    fclose(w);
  }
  FILE *f = fopen(path, "r");
  cr_assert(f, "missing %s", path);
  char slot[64];
  unsigned long long want;
  int seen = 0;
  while (fscanf(f, "%63s %llx", slot, &want) == 2) {
    const struct kcase *c = NULL;
    for (int i = 0; i < N_CASES; i++)
      if (!strcmp(cases[i].slot, slot)) c = &cases[i];
    cr_assert(c, "golden file names unknown slot %s", slot);
    seen++;
    for (int isa = 0; isa < RG_ISA_COUNT; isa++) {
      if (!rg_isa_usable(isa)) continue;
      uint64_t got = case_hash(c, rg_isa_table(isa));
      cr_assert_eq(got, want, "%s on %s: hash %016llx, x86 golden %016llx", slot,
                   rg_isa_name(isa), (unsigned long long)got, want);
    }
  }
  fclose(f);
  cr_assert_eq(seen, N_CASES, "golden file covers %d of %d slots", seen, N_CASES);
}

/* Operands of the gemm comparisons below: A and B with at least m * k and
 * k * n values, C's starting values and the results with at least m * n. */
struct gemm_operands {
  const float *a, *b, *bias, *c0;
  float *want, *got;
};

typedef void (*gemm_fn)(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                        const struct rg_epilogue *ep);

/* The gemm slot by its definition (kernels.def), the oracle of the scalar
 * body: one fmaf chain per element in k order from its starting value, then
 * the scalar table's activation over each row. */
static void plain_gemm(int64_t m, int64_t n, int64_t k, int ta, int tb, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc, int acc,
                       const struct rg_epilogue *ep) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      float s = ep && ep->bias ? ep->bias[j] : acc ? c[i * ldc + j] : 0.0f;
      for (int64_t p = 0; p < k; p++)
        s = fmaf(ta ? a[p * lda + i] : a[i * lda + p], tb ? b[j * ldb + p] : b[p * ldb + j], s);
      c[i * ldc + j] = s;
    }
  const struct rg_kernels *sc = rg_isa_table(RG_ISA_SCALAR);
  for (int64_t i = 0; ep && i < m; i++) {
    float *row = c + i * ldc;
    switch (ep->act) {
      case RG_ACT_RELU: sc->relu_fwd(n, row, row); break;
      case RG_ACT_LEAKY_RELU: sc->leaky_relu_fwd(n, ep->alpha, row, row); break;
      case RG_ACT_TANH: sc->tanh_fwd(n, row, row); break;
      case RG_ACT_SIGMOID: sc->sigmoid_fwd(n, row, row); break;
      case RG_ACT_NONE: break;
    }
  }
}

/* An m x n x k gemm on every usable ISA against scalar, and the scalar body
 * against plain_gemm, in every layout (ta, tb) and starting value (+0, the
 * bias, C itself, the bias when accumulating), with the first `acts`
 * activations (RG_ACT_NONE first). */
static void check_gemm_modes(int64_t m, int64_t n, int64_t kk, int acts,
                             const struct gemm_operands *g) {
  for (int isa = RG_ISA_SCALAR; isa < RG_ISA_COUNT; isa++) {
    if (!rg_isa_usable(isa)) continue;
    gemm_fn ref = isa == RG_ISA_SCALAR ? plain_gemm : rg_isa_table(RG_ISA_SCALAR)->gemm;
    const struct rg_kernels *k = rg_isa_table(isa);
    for (int mode = 0; mode < 4 * acts * 4; mode++) {
      int ta = mode & 1, tb = (mode >> 1) & 1, act = (mode / 4) % acts, start = mode / 4 / acts;
      /* start 0: from +0, 1: from the bias, 2: from C (acc), 3: acc with a
       * bias, which wins (kernels.def) */
      int acc = start >= 2;
      struct rg_epilogue ep = {start % 2 ? g->bias : NULL, (enum rg_act)act, 0.1f};
      int64_t lda = ta ? m : kk, ldb = tb ? kk : n;
      memcpy(g->want, g->c0, (size_t)(m * n) * sizeof *g->want);
      memcpy(g->got, g->c0, (size_t)(m * n) * sizeof *g->got);
      ref(m, n, kk, ta, tb, g->a, lda, g->b, ldb, g->want, n, acc, &ep);
      k->gemm(m, n, kk, ta, tb, g->a, lda, g->b, ldb, g->got, n, acc, &ep);
      int64_t bad = compare(g->want, g->got, m * n);
      cr_assert(bad < 0, "%s: m=%lld n=%lld k=%lld ta=%d tb=%d act=%d start=%d differs at %lld",
                rg_isa_name(isa), (long long)m, (long long)n, (long long)kk, ta, tb, act, start,
                (long long)bad);
    }
  }
}

/* The gemm epilogue (bias start, activation at the end; kernels.h) on every
 * ISA against scalar, over shapes that take each path of the ISA bodies:
 * one to four rows, narrow and wide strips, several k-blocks, k = 0, with
 * and without bias, and accumulation without an epilogue bias. */
Test(kernels, gemm_epilogue_bit_identical) {
  static const int64_t shapes[][3] = {{1, 40, 300}, {2, 17, 5},    {3, 64, 33},   {4, 256, 64},
                                      {13, 33, 70}, {29, 65, 16},  {20, 24, 600}, {100, 16, 160},
                                      {7, 10, 0},   {128, 10, 256}, {64, 130, 129},
                                      {16, 12, 5},  {33, 11, 200}, {7, 9, 33},    {9, 12, 301}};
  enum { MAXE = 128 * 600 };
  static float a[MAXE], b[MAXE], bias[256], c0[128 * 256], want[128 * 256], got[128 * 256];
  uint64_t seed = 99;
  fill(a, MAXE, &seed, D_SMALL);
  fill(b, MAXE, &seed, D_SMALL);
  fill(bias, 256, &seed, D_ANY); /* with zeros of both signs, infinities and NaNs */
  fill(c0, 128 * 256, &seed, D_SMALL);
  struct gemm_operands g = {a, b, bias, c0, want, got};
  for (unsigned s = 0; s < sizeof shapes / sizeof *shapes; s++)
    check_gemm_modes(shapes[s][0], shapes[s][1], shapes[s][2], 5, &g);
}

/* Shapes past the large-matrix blocking of the ISA bodies: more columns
 * than one column block (AVX2 and AVX-512: 1024), C larger than the size
 * from which C is prefetched (2^18 elements), several k-blocks. */
Test(kernels, gemm_large_bit_identical) {
  static const int64_t shapes[][3] = {{300, 1100, 40}, {530, 520, 200}};
  enum { MAXE = 300 * 1100 };
  float *buf = malloc(6 * MAXE * sizeof *buf);
  cr_assert(buf);
  uint64_t seed = 7;
  fill(buf, 2 * MAXE, &seed, D_SMALL);
  fill(buf + 2 * MAXE, 1100, &seed, D_ANY);
  fill(buf + 3 * MAXE, MAXE, &seed, D_SMALL);
  struct gemm_operands g = {buf, buf + MAXE, buf + 2 * MAXE, buf + 3 * MAXE, buf + 4 * MAXE,
                            buf + 5 * MAXE};
  for (unsigned s = 0; s < sizeof shapes / sizeof *shapes; s++)
    check_gemm_modes(shapes[s][0], shapes[s][1], shapes[s][2], 1, &g);
  free(buf);
}
