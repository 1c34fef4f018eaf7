/* Contexts share nothing: runs trained at the same time in several threads
 * (each with its own context, some with their own worker pools) give the
 * same bytes as the same runs done one after the other. */
#define RG_TEST_MAIN
#include <math.h>
#include <pthread.h>

#include "core/internal.h" /* rg_reduce_sumsq: the double before rounding */
#include "helpers.h"

#define BATCH 32
#define IN 24
#define CLASSES 5
#define STEPS 30
#define RUNS 4

struct run {
  uint64_t seed;
  int threads;     /* the context's own worker threads */
  const char *isa; /* NULL: the best */
  uint64_t hash;   /* of every parameter and buffer after training */
  rg_status status;
  char message[256];
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t len) {
  const unsigned char *b = p;
  for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* Learnable synthetic batches: the label is the class whose feature (one of
 * the first CLASSES, shifted by a per-seed offset) is largest. */
static void make_batch(uint64_t seed, int step, float *x, int32_t *y) {
  th_fill(x, BATCH * IN, seed * 1000 + (uint64_t)step, -1, 1);
  for (int r = 0; r < BATCH; r++) {
    const float *row = x + r * IN + seed % (IN - CLASSES);
    y[r] = 0;
    for (int c = 1; c < CLASSES; c++)
      if (row[c] > row[y[r]]) y[r] = c;
  }
}

/* A whole run: MLP with batch norm and dropout, AdamW, clipping. No
 * Criterion assertion here: it may run outside the test's main thread. */
static void *train(void *arg) {
  struct run *r = arg;
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = r->seed, .threads = r->threads, .isa = r->isa});
  rg_mlp_config mc = {.in = IN, .out = CLASSES, .hidden = 2, .widths = {64, 32},
                      .activation = RG_LEAKY_RELU, .leaky_slope = 0.1f, .batch_norm = true,
                      .dropout = 0.1f};
  rg_mlp *m = rg_mlp_new(ctx, "mlp", &mc);
  rg_optim *opt = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_ADAMW, .lr = 1e-2f,
                                                       .weight_decay = 1e-2f});
  rg_optim_add_all(opt);
  rg_tensor *weights[3] = {rg_mlp_weight(m, 0), rg_mlp_weight(m, 1), rg_mlp_weight(m, 2)};
  float x[BATCH * IN];
  int32_t y[BATCH];
  for (int step = 0; step < STEPS && rg_ctx_status(ctx) == RG_OK; step++) {
    make_batch(r->seed, step, x, y);
    rg_tensor *logits = rg_mlp_forward(m, rg_tensor_new(ctx, rg_shape2(BATCH, IN), x));
    rg_backward(ctx, rg_cross_entropy(ctx, logits, y, 0.05f));
    rg_clip_result cr;
    rg_clip_grad_norm(ctx, weights, 3, 1.0f, 2.0f, NULL, &cr);
    rg_optim_step(opt, 1e-2f, 1.0f);
    rg_zero_grad(ctx);
    rg_tape_reset(ctx);
  }
  int n;
  rg_tensor *const *all = rg_params(ctx, &n);
  r->hash = 0xcbf29ce484222325ull;
  for (int i = 0; i < n; i++)
    r->hash = fnv1a(r->hash, rg_tensor_data(all[i]), (size_t)rg_tensor_numel(all[i]) * 4);
  r->status = rg_ctx_status(ctx);
  snprintf(r->message, sizeof r->message, "%s", rg_ctx_message(ctx));
  rg_optim_free(opt);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
  return NULL;
}

static void plan(struct run *runs) {
  for (int i = 0; i < RUNS; i++)
    runs[i] = (struct run){.seed = 100 + (uint64_t)i / 2, .threads = 1 + i % 2};
}

Test(threads, concurrent_runs_match_sequential_runs, .timeout = 600) {
  struct run seq[RUNS], par[RUNS];
  plan(seq);
  plan(par);
  for (int i = 0; i < RUNS; i++) {
    train(&seq[i]);
    cr_assert_eq(seq[i].status, RG_OK, "run %d: %s", i, seq[i].message);
  }
  /* Runs 2i and 2i+1 have the same seed and differ only in pool threads. */
  for (int i = 0; i + 1 < RUNS; i += 2)
    cr_assert_eq(seq[i].hash, seq[i + 1].hash, "run %d: the thread count changed the result", i);
  pthread_t th[RUNS];
  for (int i = 0; i < RUNS; i++) cr_assert_eq(pthread_create(&th[i], NULL, train, &par[i]), 0);
  for (int i = 0; i < RUNS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < RUNS; i++) {
    cr_assert_eq(par[i].status, RG_OK, "concurrent run %d: %s", i, par[i].message);
    cr_assert_eq(par[i].hash, seq[i].hash, "concurrent run %d differs from its sequential twin", i);
  }
}

/* Every ISA this CPU runs, concurrently: the same bytes everywhere. */
Test(threads, concurrent_isas_agree, .timeout = 600) {
  static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
  struct run runs[4];
  pthread_t th[4];
  int n = 0;
  for (int i = 0; i < 4; i++)
    if (rg_isa_supported(isas[i])) runs[n] = (struct run){.seed = 7, .threads = 1, .isa = isas[i]}, n++;
  for (int i = 0; i < n; i++) cr_assert_eq(pthread_create(&th[i], NULL, train, &runs[i]), 0);
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < n; i++) {
    cr_assert_eq(runs[i].status, RG_OK, "%s: %s", runs[i].isa, runs[i].message);
    cr_assert_eq(runs[i].hash, runs[0].hash, "%s differs from %s", runs[i].isa, runs[0].isa);
  }
}

/* The double sums of squares (rg_norm, the L2 penalty, MSE; docs/
 * reproducibility.md) over 9 chunks of the threaded reduction and a partial
 * one: the same bits with 1, 2 and 3 threads on every ISA, for the double
 * sum itself (a change of its last bits seldom reaches a float result) and
 * for what the ops make of it. Magnitudes 1e-40 to 1e30, then bands of one
 * decade (where every addition rounds, so any change of order shows) around
 * 1e-31 (vanishing gradients), 1 and 1e25 (squares past FLT_MAX). */
static uint64_t sumsq_run(const char *isa, int threads, const float *x, int64_t n) {
  static float zeros[9 * 16384 + 123];
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.isa = isa, .threads = threads});
  double sumsq = rg_reduce_sumsq(ctx, n, x);
  rg_tensor *p = rg_param_new(ctx, "x", rg_shape1(n), x);
  rg_tensor *norm = rg_norm(ctx, p, 2.0f);
  rg_tensor *penalty = rg_l2_penalty(ctx, &p, 1, 1e-30f);
  rg_tensor *mse = rg_mse(ctx, p, rg_tensor_new(ctx, rg_shape1(n), zeros));
  cr_assert_eq(rg_backward(ctx, norm), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert(isfinite(rg_tensor_data(norm)[0]) && rg_tensor_data(norm)[0] > 0.0f);
  uint64_t h = fnv1a(0xcbf29ce484222325ull, &sumsq, sizeof sumsq);
  h = fnv1a(h, rg_tensor_data(norm), sizeof(float));
  h = fnv1a(h, rg_tensor_data(penalty), sizeof(float));
  h = fnv1a(h, rg_tensor_data(mse), sizeof(float));
  h = fnv1a(h, rg_tensor_grad(p), (size_t)n * sizeof(float));
  rg_ctx_free(ctx);
  return h;
}

Test(threads, sums_of_squares_do_not_depend_on_the_thread_count) {
  static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
  static const double bands[][2] = {{-40, 30}, {-32, -31}, {-1, 0}, {25, 26}};
  enum { N = 9 * 16384 + 123 };
  static float x[N];
  uint64_t seed = 3;
  for (unsigned b = 0; b < sizeof bands / sizeof *bands; b++) {
    for (int i = 0; i < N; i++) {
      double u = (double)(th_next(&seed) >> 11) * 0x1p-53;
      double e = bands[b][0] + (bands[b][1] - bands[b][0]) * u;
      x[i] = (float)((th_next(&seed) & 1 ? -1 : 1) * pow(10.0, e));
    }
    uint64_t first = sumsq_run("scalar", 1, x, N);
    for (int i = 0; i < 4; i++)
      for (int threads = 1; threads <= 3 && rg_isa_supported(isas[i]); threads++)
        cr_assert_eq(sumsq_run(isas[i], threads, x, N), first,
                     "1e%g .. 1e%g: %s with %d threads differs from scalar with 1",
                     bands[b][0], bands[b][1], isas[i], threads);
  }
}
