/* How to call each kernel slot, written once for the cross-ISA tests
 * (tests/test_kernels.c) and the kernel benchmarks (bench/bench_kernels.c).
 * A runner calls its slot on the operands of a struct rg_slot_io that the
 * harness fills: inputs drawn from each input's distribution (the test
 * draws special values and many magnitudes, the benchmark plain values of
 * the same domain), outputs pre-filled, shapes. Per slot:
 *   run   the call the benchmark times and the test compares first;
 *   more  further calls the test compares (other modes, in-place forms);
 *   prep  changes to the inputs both make first (amax_bwd's ties).
 * The list is expanded from kernels.def, so a slot without a runner does
 * not compile. The golden hashes (tests/golden/kernels.txt) are of these
 * exact calls: changing one changes them. */
#ifndef RG_TEST_SLOT_RUNNERS_H
#define RG_TEST_SLOT_RUNNERS_H
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

/* The domain of an input: any value (the test adds NaN, +-inf and +-0),
 * positive, [0, 1), [-2, 2), or the whole float range (sums of squares). */
enum rg_input_dist { RG_D_ANY, RG_D_POS, RG_D_UNIT, RG_D_SMALL, RG_D_WIDE };

/* The benchmark's sizes for a slot: activations, logits (10 classes at the
 * MLP size), parameters (the 784 x 256 layer), GEMM shapes. */
enum rg_shape_set { RG_S_ACT, RG_S_LOGITS, RG_S_PARAM, RG_S_GEMM };

struct rg_slot_io {
  int64_t m, n, k;       /* elementwise slots see n elements; rows: m x n */
  int ta, tb, acc;       /* gemm: the layout of run's call */
  float *in[6];          /* inputs, from their distributions (prep may write) */
  const int32_t *labels; /* m labels in [0, n) */
  float *out[3];         /* outputs, pre-filled: out[2] is >= 0 (Adam's v) */
  struct rg_rng_key key;
  float tie;    /* amax_bwd: max |in[0]| after prep */
  float ret;    /* reductions' float result */
  double dret;  /* sumsq's result */
  double *rows; /* grad_stats: m row sums of squares */
  struct rg_grad_stats stats[2];
};

typedef void (*rg_slot_fn)(const struct rg_kernels *k, struct rg_slot_io *io);

struct rg_slot_runner {
  const char *slot;
  rg_slot_fn run, more, prep;
  enum rg_input_dist dist[6]; /* of the first n_in inputs */
  int n_in, n_out;
  bool rows; /* an m x n slot */
  bool wide; /* results in dret, rows, stats */
  enum rg_shape_set set;
  int reads; /* benchmark: operands read, for GB/s; 0: elements/ns */
};

#define N io->n
#define M io->m
#define IN(i) io->in[i]
#define OUT(i) io->out[i]
/* A slot's entry: RG_RUNNER(name, .field = value, ...) after run_<name>. */
#define RG_RUNNER(name, ...)                              \
  static const struct rg_slot_runner rg_runner_##name = { \
      .slot = #name, .run = run_##name, __VA_ARGS__}
#define ONE_IN(d) .dist = {d}, .n_in = 1, .n_out = 1
#define TWO_IN(d0, d1) .dist = {d0, d1}, .n_in = 2, .n_out = 1

/* Outputs may alias inputs: the in-place forms clipping and diagnostics use,
 * on a copy of in[0] in out[1]. */
static inline float *rg_in_place(struct rg_slot_io *io) {
  memcpy(OUT(1), IN(0), (size_t)N * sizeof(float));
  return OUT(1);
}

static void run_relu_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->relu_fwd(N, IN(0), OUT(0));
}
RG_RUNNER(relu_fwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_relu_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->relu_bwd(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(relu_bwd, TWO_IN(RG_D_ANY, RG_D_ANY), .set = RG_S_ACT);
static void run_leaky_relu_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->leaky_relu_fwd(N, 0.01f, IN(0), OUT(0));
}
RG_RUNNER(leaky_relu_fwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_leaky_relu_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->leaky_relu_bwd(N, 0.2f, IN(0), IN(1), OUT(0));
}
RG_RUNNER(leaky_relu_bwd, TWO_IN(RG_D_ANY, RG_D_ANY), .set = RG_S_ACT);
static void run_sigmoid_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->sigmoid_fwd(N, IN(0), OUT(0));
}
RG_RUNNER(sigmoid_fwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_sigmoid_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->sigmoid_bwd(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(sigmoid_bwd, TWO_IN(RG_D_UNIT, RG_D_ANY), .set = RG_S_ACT);
static void run_tanh_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->tanh_fwd(N, IN(0), OUT(0));
}
RG_RUNNER(tanh_fwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_tanh_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->tanh_bwd(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(tanh_bwd, TWO_IN(RG_D_SMALL, RG_D_ANY), .set = RG_S_ACT);
static void run_gelu_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->gelu_fwd(N, IN(0), OUT(0));
}
RG_RUNNER(gelu_fwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_gelu_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->gelu_bwd(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(gelu_bwd, TWO_IN(RG_D_ANY, RG_D_ANY), .set = RG_S_ACT);
static void run_exp_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->exp_fwd(N, IN(0), OUT(0));
}
RG_RUNNER(exp_fwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_log_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->log_fwd(N, IN(0), OUT(0));
}
RG_RUNNER(log_fwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_log_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->log_bwd(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(log_bwd, TWO_IN(RG_D_POS, RG_D_ANY), .set = RG_S_ACT);

static void run_clamp_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->clamp_fwd(N, -0.5f, 0.75f, IN(0), OUT(0));
}
static void more_clamp_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  float *y = rg_in_place(io);
  k->clamp_fwd(N, -0.25f, 0.25f, y, y);
}
RG_RUNNER(clamp_fwd, .more = more_clamp_fwd, .dist = {RG_D_ANY}, .n_in = 1, .n_out = 2,
          .set = RG_S_ACT);
static void run_clamp_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->clamp_bwd(N, -0.5f, 0.75f, IN(0), IN(1), OUT(0));
}
RG_RUNNER(clamp_bwd, TWO_IN(RG_D_SMALL, RG_D_ANY), .set = RG_S_ACT);

static void run_add(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->add(N, IN(0), IN(1), OUT(0));
}
static void more_add(const struct rg_kernels *k, struct rg_slot_io *io) {
  float *y = rg_in_place(io);
  k->add(N, y, IN(1), y);
}
RG_RUNNER(add, .more = more_add, .dist = {RG_D_ANY, RG_D_ANY}, .n_in = 2, .n_out = 2,
          .set = RG_S_ACT);
static void run_sub(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->sub(N, IN(0), IN(1), OUT(0));
}
static void more_sub(const struct rg_kernels *k, struct rg_slot_io *io) {
  float *y = rg_in_place(io);
  k->sub(N, IN(1), y, y);
}
RG_RUNNER(sub, .more = more_sub, .dist = {RG_D_ANY, RG_D_ANY}, .n_in = 2, .n_out = 2,
          .set = RG_S_ACT);
static void run_mul(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->mul(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(mul, TWO_IN(RG_D_ANY, RG_D_ANY), .set = RG_S_ACT);
static void run_scale(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->scale(N, -1.7f, IN(0), OUT(0));
}
static void more_scale(const struct rg_kernels *k, struct rg_slot_io *io) {
  float *y = rg_in_place(io);
  k->scale(N, 0.3f, y, y);
}
RG_RUNNER(scale, .more = more_scale, .dist = {RG_D_ANY}, .n_in = 1, .n_out = 2, .set = RG_S_ACT);
static void run_axpy(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->axpy(N, 0.3f, IN(0), OUT(0));
}
RG_RUNNER(axpy, ONE_IN(RG_D_ANY), .set = RG_S_PARAM);
static void run_mul_acc(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->mul_acc(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(mul_acc, TWO_IN(RG_D_ANY, RG_D_ANY), .set = RG_S_ACT);
static void run_sign_acc(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->sign_acc(N, 0.125f, IN(0), OUT(0));
}
RG_RUNNER(sign_acc, ONE_IN(RG_D_ANY), .set = RG_S_PARAM);
static void run_colsum_acc(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->colsum_acc(M, N, IN(0), OUT(0));
}
RG_RUNNER(colsum_acc, ONE_IN(RG_D_ANY), .rows = true, .set = RG_S_ACT);

static void run_sum(const struct rg_kernels *k, struct rg_slot_io *io) {
  io->ret = k->sum(N, IN(0));
}
RG_RUNNER(sum, ONE_IN(RG_D_ANY), .set = RG_S_ACT, .reads = 1);
static void run_sumsq(const struct rg_kernels *k, struct rg_slot_io *io) {
  io->dret = k->sumsq(N, IN(0));
}
RG_RUNNER(sumsq, ONE_IN(RG_D_WIDE), .wide = true, .set = RG_S_PARAM, .reads = 1);
static void run_asum(const struct rg_kernels *k, struct rg_slot_io *io) {
  io->ret = k->asum(N, IN(0));
}
RG_RUNNER(asum, ONE_IN(RG_D_ANY), .set = RG_S_PARAM, .reads = 1);
static void run_amax(const struct rg_kernels *k, struct rg_slot_io *io) {
  io->ret = k->amax(N, IN(0));
}
RG_RUNNER(amax, ONE_IN(RG_D_ANY), .set = RG_S_PARAM, .reads = 1);
static void run_dot(const struct rg_kernels *k, struct rg_slot_io *io) {
  io->ret = k->dot(N, IN(0), IN(1));
}
RG_RUNNER(dot, TWO_IN(RG_D_ANY, RG_D_ANY), .set = RG_S_ACT, .reads = 2);

/* Ties, so that the shared-gradient path runs: every third element is
 * +-2.5. */
static void prep_amax_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  (void)k;
  io->tie = 0.0f;
  for (int64_t i = 0; i < N; i += 3) IN(0)[i] = (i % 2) ? 2.5f : -2.5f;
  for (int64_t i = 0; i < N; i++) io->tie = fabsf(IN(0)[i]) > io->tie ? fabsf(IN(0)[i]) : io->tie;
}
static void run_amax_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->amax_bwd(N, io->tie, 0.7f, IN(0), OUT(0));
}
/* All zeros: max 0, and no element may take a share (sign(0) = 0). */
static void more_amax_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  memset(IN(1), 0, (size_t)N * sizeof(float));
  k->amax_bwd(N, 0.0f, 0.7f, IN(1), OUT(1));
}
RG_RUNNER(amax_bwd, .more = more_amax_bwd, .prep = prep_amax_bwd, ONE_IN(RG_D_SMALL),
          .set = RG_S_PARAM);

static void run_grad_stats(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->grad_stats(M, N, IN(0), io->rows, &io->stats[0]);
}
static void more_grad_stats(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->grad_stats(M, N, IN(0), NULL, &io->stats[1]);
}
RG_RUNNER(grad_stats, .more = more_grad_stats, .dist = {RG_D_WIDE}, .n_in = 1, .rows = true,
          .wide = true, .set = RG_S_PARAM, .reads = 1);

static void run_softmax_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->softmax_fwd(M, N, IN(0), OUT(0));
}
RG_RUNNER(softmax_fwd, ONE_IN(RG_D_ANY), .rows = true, .set = RG_S_LOGITS);
static void run_softmax_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->softmax_bwd(M, N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(softmax_bwd, TWO_IN(RG_D_UNIT, RG_D_ANY), .rows = true, .set = RG_S_LOGITS);
static void run_log_softmax_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->log_softmax_fwd(M, N, IN(0), OUT(0));
}
RG_RUNNER(log_softmax_fwd, ONE_IN(RG_D_ANY), .rows = true, .set = RG_S_LOGITS);
static void run_log_softmax_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->log_softmax_bwd(M, N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(log_softmax_bwd, TWO_IN(RG_D_SMALL, RG_D_ANY), .rows = true, .set = RG_S_LOGITS);

static void run_xent_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->xent_fwd(M, N, 0.0f, IN(0), io->labels, OUT(0), OUT(1));
}
/* Label smoothing. */
static void more_xent_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->xent_fwd(M, N, 0.1f, IN(1), io->labels, OUT(2), OUT(1) + M);
}
RG_RUNNER(xent_fwd, .more = more_xent_fwd, .dist = {RG_D_ANY, RG_D_SMALL}, .n_in = 2, .n_out = 3,
          .rows = true, .set = RG_S_LOGITS);
static void run_xent_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->xent_bwd(M, N, 0.0f, 0.25f, IN(0), io->labels, OUT(0));
}
static void more_xent_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->xent_bwd(M, N, 0.1f, -0.5f, IN(0), io->labels, OUT(1));
}
RG_RUNNER(xent_bwd, .more = more_xent_bwd, .dist = {RG_D_UNIT}, .n_in = 1, .n_out = 2, .rows = true,
          .set = RG_S_LOGITS);
static void run_bce_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->bce_fwd(N, IN(0), IN(1), OUT(0));
}
RG_RUNNER(bce_fwd, TWO_IN(RG_D_ANY, RG_D_UNIT), .set = RG_S_ACT);
static void run_bce_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->bce_bwd(N, 0.3f, IN(0), IN(1), OUT(0));
}
RG_RUNNER(bce_bwd, TWO_IN(RG_D_ANY, RG_D_UNIT), .set = RG_S_ACT);

static void run_dropout_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->dropout_fwd(N, &io->key, 8388608u, 2.0f, IN(0), OUT(0));
}
/* A threshold near 2^24, and a counter whose low word carries into the
 * high word mid-call. */
static void more_dropout_fwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  struct rg_rng_key key = io->key;
  k->dropout_fwd(N, &key, 16777000u, 1.0f / 0.9999f, IN(0), OUT(1));
  key.offset = (int64_t)(0xFFFFFFFFull * 4 - 6);
  k->dropout_fwd(N, &key, 4194304u, 4.0f / 3.0f, IN(0), OUT(2));
}
RG_RUNNER(dropout_fwd, .more = more_dropout_fwd, .dist = {RG_D_ANY}, .n_in = 1, .n_out = 2,
          .set = RG_S_ACT);
static void run_dropout_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->dropout_bwd(N, &io->key, 5033165u, 1.0f / 0.7f, IN(0), OUT(0));
}
RG_RUNNER(dropout_bwd, ONE_IN(RG_D_ANY), .set = RG_S_ACT);
static void run_rand_uniform(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->rand_uniform(N, &io->key, -0.3f, 0.7f, OUT(0));
}
RG_RUNNER(rand_uniform, .n_out = 1, .set = RG_S_PARAM);
static void run_rand_normal(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->rand_normal(N, &io->key, 0.5f, 2.0f, OUT(0));
}
RG_RUNNER(rand_normal, .n_out = 1, .set = RG_S_PARAM);

static void run_bn_stats(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->bn_stats(M, N, IN(0), OUT(0), OUT(1));
}
RG_RUNNER(bn_stats, .dist = {RG_D_SMALL}, .n_in = 1, .n_out = 2, .rows = true, .set = RG_S_ACT);
static void run_bn_apply(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->bn_apply(M, N, IN(0), IN(1), IN(2), IN(3), IN(4), OUT(0));
}
RG_RUNNER(bn_apply, .dist = {RG_D_ANY, RG_D_SMALL, RG_D_POS, RG_D_SMALL, RG_D_SMALL}, .n_in = 5,
          .n_out = 1, .rows = true, .set = RG_S_ACT);
static void run_bn_bwd(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->bn_bwd(M, N, IN(0), IN(1), IN(2), IN(3), IN(4), OUT(0), OUT(1), OUT(2));
}
RG_RUNNER(bn_bwd, .dist = {RG_D_SMALL, RG_D_SMALL, RG_D_POS, RG_D_SMALL, RG_D_ANY}, .n_in = 5,
          .n_out = 3, .rows = true, .set = RG_S_ACT);

/* The test sweeps gemm's shapes on its own (test_kernels.c); here one call
 * in the layout of io, and the test's other two layouts. */
static void run_gemm(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->gemm(M, N, io->k, io->ta, io->tb, IN(0), io->ta ? M : io->k, IN(1), io->tb ? io->k : N, OUT(0),
          N, io->acc, NULL);
}
static void more_gemm(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->gemm(M, N, io->k, 0, 1, IN(0), io->k, IN(1), io->k, OUT(1), N, 0, NULL);
  k->gemm(M, N, io->k, 1, 0, IN(0), M, IN(1), N, OUT(2), N, 1, NULL);
}
RG_RUNNER(gemm, .more = more_gemm, .dist = {RG_D_SMALL, RG_D_SMALL}, .n_in = 2, .n_out = 3,
          .rows = true, .set = RG_S_GEMM);

static void run_sgd_step(const struct rg_kernels *k, struct rg_slot_io *io) {
  struct rg_sgd_hyper h = {
      .lr = 0.05f, .momentum = 0.9f, .dampening = 0.1f, .weight_decay = 5e-4f, .grad_scale = 0.75f};
  k->sgd_step(N, &h, OUT(0), IN(0), OUT(1));
}
/* Nesterov, the first step, decoupled decay; then no momentum. */
static void more_sgd_step(const struct rg_kernels *k, struct rg_slot_io *io) {
  struct rg_sgd_hyper h = {.lr = 0.05f,
                           .momentum = 0.9f,
                           .dampening = 0.1f,
                           .decoupled_decay = 0.01f,
                           .grad_scale = 0.75f,
                           .nesterov = 1,
                           .first = 1};
  k->sgd_step(N, &h, OUT(0), IN(1), OUT(1));
  h.momentum = 0.0f;
  k->sgd_step(N, &h, OUT(0), IN(0), OUT(1));
}
RG_RUNNER(sgd_step, .more = more_sgd_step, .dist = {RG_D_ANY, RG_D_ANY}, .n_in = 2, .n_out = 2,
          .set = RG_S_PARAM);
static void run_adam_step(const struct rg_kernels *k, struct rg_slot_io *io) {
  struct rg_adam_hyper h = {.lr = 1e-3f,
                            .beta1 = 0.9f,
                            .beta2 = 0.999f,
                            .eps = 1e-8f,
                            .weight_decay = 1e-4f,
                            .grad_scale = 1.0f,
                            .bias_c1 = 0.1f,
                            .sqrt_bias_c2 = 0.0316f};
  k->adam_step(N, &h, OUT(0), IN(0), OUT(1), OUT(2));
}
/* AdamW: decoupled decay, and a gradient scale. */
static void more_adam_step(const struct rg_kernels *k, struct rg_slot_io *io) {
  struct rg_adam_hyper h = {.lr = 1e-3f,
                            .beta1 = 0.9f,
                            .beta2 = 0.999f,
                            .eps = 1e-8f,
                            .decoupled_decay = 0.01f,
                            .grad_scale = 0.5f,
                            .bias_c1 = 0.1f,
                            .sqrt_bias_c2 = 0.0316f};
  k->adam_step(N, &h, OUT(0), IN(1), OUT(1), OUT(2));
}
RG_RUNNER(adam_step, .more = more_adam_step, .dist = {RG_D_ANY, RG_D_ANY}, .n_in = 2, .n_out = 3,
          .set = RG_S_PARAM);
static void run_prox_l1(const struct rg_kernels *k, struct rg_slot_io *io) {
  k->prox_l1(N, 0.01f, OUT(0));
}
RG_RUNNER(prox_l1, .n_out = 1, .set = RG_S_PARAM);

#undef N
#undef M
#undef IN
#undef OUT
#undef RG_RUNNER
#undef ONE_IN
#undef TWO_IN

/* Every slot's runner, in kernels.def order. */
static const struct rg_slot_runner *const rg_slot_runners[RG_SLOT_COUNT] = {
#define RG_KERNEL(name, ret, params) &rg_runner_##name,
#include "kernels.def"
#undef RG_KERNEL
};
#endif
