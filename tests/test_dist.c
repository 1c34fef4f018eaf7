/* Data-parallel training under MPI (docs/distributed.md), run by meson as
 * `mpiexec -np 2 test_dist`. A plain program, not a Criterion suite:
 * Criterion forks its workers, which MPI does not survive.
 *
 * The property: in deterministic mode, N ranks training on B / N rows each
 * end with parameters (and losses) byte-identical to one process (comm
 * NULL) training on all B rows with the same shard count. Also: the ranks
 * agree with each other in both modes, rg_dist_allreduce of hand-computed
 * rank gradients equals rg_dist_backward with S = N, and errors on one rank
 * (bad configuration, different models, a failing loss) reach every rank
 * instead of leaving one waiting. Every rank prints its checks; the exit
 * status is 1 if any check failed on any rank.
 *
 * `test_dist --bench` (not run by meson) times the gradient exchange
 * instead: the figures of docs/distributed.md. */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regrad.h"
#include "regrad_dist.h"

#define ROWS 256
#define IN 12
#define CLASSES 5
#define BATCH 30 /* not a multiple of the shard counts: shards of 7 and 8 rows */
#define STEPS 12
#define MAX_FLOATS 8192

static int rank, failures;

static void check(bool ok, const char *what) {
  printf("rank %d: %s - %s\n", rank, ok ? "ok" : "FAIL", what);
  failures += !ok;
}

/* A fixed synthetic classification set: x uniform in [-1, 1), y from a
 * linear rule, both from a splitmix64 stream. */
static float xs[ROWS * IN];
static int32_t ys[ROWS];

static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void make_data(void) {
  uint64_t s = 7;
  for (int i = 0; i < ROWS * IN; i++) xs[i] = (float)(mix(&s) >> 40) * 0x1p-23f - 1.0f;
  for (int r = 0; r < ROWS; r++) {
    float score = 0.0f;
    for (int j = 0; j < IN; j++) score += xs[r * IN + j] * (float)((j % 3) - 1);
    ys[r] = (int32_t)((score + 4.0f) * 0.7f) % CLASSES;
  }
}

typedef struct run_opts {
  rg_dist_config dist;
  bool batch_norm, dropout;
  int threads;
  int fail_rank; /* the loss fails on this rank at step 3 (-1: never) */
  int width;     /* hidden width (a rank may be given another: a different model) */
} run_opts;

typedef struct run_out {
  rg_status new_status, step_status;
  int shards;            /* rg_dist_shards */
  uint64_t step_allocs;  /* heap allocations by the steps after the first */
  bool freed;            /* rg_dist_free returned every byte rg_dist_new took */
  int n;                 /* floats in params */
  float params[MAX_FLOATS];
  float losses[STEPS];
} run_out;

typedef struct shard_data {
  rg_mlp *mlp;
  int64_t step;
  bool fail;
} shard_data;

/* Row i of step t's global batch: a fixed walk through the set. */
static int64_t batch_row(int64_t step, int64_t i) { return (step * BATCH + i * 7) % ROWS; }

static rg_tensor *shard_loss(rg_ctx *ctx, int64_t row0, int64_t rows, void *user) {
  shard_data *sd = user;
  if (sd->fail) return NULL;
  float x[BATCH * IN];
  int32_t y[BATCH];
  for (int64_t i = 0; i < rows; i++) {
    int64_t r = batch_row(sd->step, row0 + i);
    memcpy(x + i * IN, xs + r * IN, sizeof(float) * IN);
    y[i] = ys[r];
  }
  rg_tensor *in = rg_tensor_new(ctx, rg_shape2(rows, IN), x);
  return rg_cross_entropy(ctx, rg_mlp_forward(sd->mlp, in), y, 0.0f);
}

/* The trainable parameters (into list, when not NULL) and their values or
 * gradients concatenated into out; the float count, -1 if over MAX_FLOATS. */
static int trainable(rg_ctx *ctx, rg_tensor **list, int *n_list, bool grads, float *out) {
  int n, used = 0, count = 0;
  rg_tensor *const *all = rg_params(ctx, &n);
  for (int i = 0; i < n; i++) {
    if (!rg_tensor_is_param(all[i])) continue;
    int64_t k = rg_tensor_numel(all[i]);
    if (used + k > MAX_FLOATS) return -1;
    memcpy(out + used, grads ? rg_tensor_grad(all[i]) : rg_tensor_data(all[i]),
           (size_t)k * sizeof(float));
    used += (int)k;
    if (list) list[count] = all[i];
    count++;
  }
  if (n_list) *n_list = count;
  return used;
}

/* Builds the model, trains STEPS steps (clip by global norm, Adam) through
 * rg_dist on comm (NULL: one process), and records the result. */
static void train(MPI_Comm *comm, const run_opts *o, run_out *out) {
  memset(out, 0, sizeof *out);
  rg_config cc = {.seed = 42, .threads = o->threads};
  rg_ctx *ctx = rg_ctx_new(&cc);
  rg_mlp_config mc = {.in = IN, .out = CLASSES, .hidden = 2, .widths = {o->width, o->width},
                      .activation = RG_TANH, .batch_norm = o->batch_norm,
                      .dropout = o->dropout ? 0.2f : 0.0f};
  rg_mlp *mlp = rg_mlp_new(ctx, "net", &mc);
  rg_optim *opt = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_ADAM, .lr = 0.01f});
  rg_optim_add_all(opt);
  uint64_t held = rg_ctx_stats(ctx).heap_bytes, allocs = 0;
  rg_dist *d = rg_dist_new(ctx, comm, &o->dist);
  uint64_t taken = rg_ctx_stats(ctx).heap_bytes - held;
  out->new_status = rg_ctx_status(ctx);
  out->shards = rg_dist_shards(d);
  shard_data sd = {.mlp = mlp};
  rg_tensor *params[16];
  int n_params = 0;
  trainable(ctx, params, &n_params, false, out->params);
  for (int t = 0; d && t < STEPS && rg_ctx_status(ctx) == RG_OK; t++) {
    sd.step = t;
    sd.fail = t == 3 && rank == o->fail_rank;
    if (rg_dist_backward(d, BATCH, shard_loss, &sd, &out->losses[t]) != RG_OK) break;
    rg_clip_result cr;
    rg_clip_grad_norm(ctx, params, n_params, 1.0f, 2.0f, &(rg_clip_opts){.defer_scale = true},
                      &cr);
    rg_optim_step(opt, 0.01f, cr.scale);
    if (t == 0) allocs = rg_ctx_stats(ctx).heap_allocs;
  }
  out->step_allocs = rg_ctx_stats(ctx).heap_allocs - allocs;
  out->step_status = rg_ctx_status(ctx);
  out->n = trainable(ctx, NULL, NULL, false, out->params);
  held = rg_ctx_stats(ctx).heap_bytes;
  rg_dist_free(d);
  out->freed = held - rg_ctx_stats(ctx).heap_bytes == taken;
  rg_optim_free(opt);
  rg_mlp_free(mlp);
  rg_ctx_free(ctx);
}

static bool same_run(const run_out *a, const run_out *b) {
  return a->n > 0 && a->n == b->n && !memcmp(a->params, b->params, sizeof(float) * (size_t)a->n) &&
         !memcmp(a->losses, b->losses, sizeof a->losses);
}

/* Rank 0's run equals every rank's run, byte for byte. */
static bool ranks_agree(const run_out *mine) {
  static run_out theirs;
  theirs = *mine;
  MPI_Bcast(&theirs, (int)sizeof theirs, MPI_BYTE, 0, MPI_COMM_WORLD);
  int same = same_run(mine, &theirs), all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all;
}

static void deterministic_case(const char *what, run_opts o) {
  static run_out dist, ref;
  char line[200];
  MPI_Comm world = MPI_COMM_WORLD;
  train(&world, &o, &dist);
  snprintf(line, sizeof line, "%s: trains (status %s)", what, rg_status_name(dist.step_status));
  check(dist.step_status == RG_OK, line);
  snprintf(line, sizeof line, "%s: no allocation after the first step; rg_dist_free frees all",
           what);
  check(dist.step_allocs == 0 && dist.freed, line);
  snprintf(line, sizeof line, "%s: every rank holds the same parameters and losses", what);
  check(ranks_agree(&dist), line);
  o.threads = 2; /* the reference also changes the thread count */
  o.dist.grad_shards = dist.shards;
  train(NULL, &o, &ref);
  snprintf(line, sizeof line, "%s: equal byte for byte to one process with the same shards", what);
  check(same_run(&dist, &ref), line);
}

static float max_diff(const run_out *a, const run_out *b) {
  float m = 0.0f;
  for (int i = 0; i < a->n && i < b->n; i++) m = fmaxf(m, fabsf(a->params[i] - b->params[i]));
  return m;
}

static void fast_case(int size) {
  static run_out fast, ref;
  MPI_Comm world = MPI_COMM_WORLD;
  run_opts o = {.dist = {.mode = RG_DIST_FAST}, .dropout = true, .threads = 1, .fail_rank = -1,
                .width = 16};
  train(&world, &o, &fast);
  check(fast.step_status == RG_OK && ranks_agree(&fast), "fast mode: the ranks agree");
  o.dist = (rg_dist_config){.grad_shards = size};
  train(NULL, &o, &ref);
  printf("rank %d: fast mode differs from the deterministic reference by at most %g\n", rank,
         (double)max_diff(&fast, &ref));
  check(fast.n == ref.n && max_diff(&fast, &ref) < 1e-3f, "fast mode: close to the reference");
}

/* rg_dist_allreduce of gradients each rank computed over its own rows
 * equals rg_dist_backward with one shard per rank. */
static void allreduce_case(void) {
  MPI_Comm world = MPI_COMM_WORLD;
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 5});
  rg_mlp *mlp = rg_mlp_new(ctx, "net", &(rg_mlp_config){.in = IN, .out = CLASSES, .hidden = 1,
                                                       .widths = {8}, .activation = RG_RELU});
  rg_dist *d = rg_dist_new(ctx, &world, NULL);
  shard_data sd = {.mlp = mlp, .step = 2};
  static float by_backward[MAX_FLOATS], by_hand[MAX_FLOATS];
  float loss1 = 0.0f, loss2 = 0.0f;
  rg_dist_backward(d, BATCH, shard_loss, &sd, &loss1);
  int used = trainable(ctx, NULL, NULL, true, by_backward);
  int64_t lo, hi;
  rg_dist_rows(d, BATCH, &lo, &hi);
  rg_zero_grad(ctx);
  rg_tensor *loss = shard_loss(ctx, lo, hi - lo, &sd);
  rg_backward(ctx, loss);
  loss2 = rg_tensor_data(loss)[0];
  rg_tape_reset(ctx);
  rg_dist_allreduce(d, hi - lo, BATCH, &loss2);
  trainable(ctx, NULL, NULL, true, by_hand);
  check(rg_ctx_status(ctx) == RG_OK && used > 0 &&
            !memcmp(by_backward, by_hand, sizeof(float) * (size_t)used) &&
            loss1 == loss2,
        "rg_dist_allreduce of per-rank gradients equals rg_dist_backward (S = N)");
  /* Rows that do not add up to the batch fail on every rank. */
  rg_status st = rg_dist_allreduce(d, 1, BATCH, NULL);
  check(st == RG_EINVAL,
        "rg_dist_allreduce: rows not adding up to the batch is RG_EINVAL everywhere");
  rg_dist_free(d);
  rg_mlp_free(mlp);
  rg_ctx_free(ctx);
}

static void error_cases(int size) {
  static run_out out;
  MPI_Comm world = MPI_COMM_WORLD;
  run_opts o = {.threads = 1, .fail_rank = -1, .width = 16};
  o.dist.grad_shards = 3;
  train(&world, &o, &out);
  check(out.new_status == RG_EINVAL, "grad_shards 3 is RG_EINVAL");
  o.dist.grad_shards = 0;
  o.width = rank == size - 1 ? 17 : 16;
  train(&world, &o, &out);
  check(size == 1 || out.new_status == RG_ESHAPE,
        "ranks with different models: RG_ESHAPE everywhere");
  o.width = 16;
  o.fail_rank = size - 1;
  train(&world, &o, &out);
  check(out.new_status == RG_OK && out.step_status != RG_OK,
        "a loss failing on one rank fails the step on every rank");
}

/* --bench (not run by meson): the cost of one gradient reduction of P
 * floats, deterministic and fast modes interleaved, each timed from a
 * barrier to the slowest rank's return; medians of REPS, with bare
 * MPI_Allreduce and MPI_Allgather of the same size for comparison. */
#define REPS 41

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  return v[n / 2];
}

/* The first two are the rg_dist modes, so that dist[op] works. */
enum bench_op {
  DETERMINISTIC = RG_DIST_DETERMINISTIC,
  FAST = RG_DIST_FAST,
  BARE_ALLREDUCE,
  BARE_ALLGATHER,
  OPS
};

typedef struct bench {
  rg_dist *dist[2]; /* deterministic, fast */
  float *grad, *gathered;
  int64_t p, rows;
} bench;

/* Seconds from a barrier until the slowest rank has finished op. */
static double timed(const bench *b, enum bench_op op) {
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  if (op == DETERMINISTIC || op == FAST) rg_dist_allreduce(b->dist[op], b->rows, 256, NULL);
  if (op == BARE_ALLREDUCE)
    MPI_Allreduce(MPI_IN_PLACE, b->grad, (int)b->p, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  if (op == BARE_ALLGATHER)
    MPI_Allgather(b->grad, (int)b->p, MPI_FLOAT, b->gathered, (int)b->p, MPI_FLOAT, MPI_COMM_WORLD);
  double dt = MPI_Wtime() - t0, worst;
  MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

static void bench_size(int64_t p, int size) {
  MPI_Comm world = MPI_COMM_WORLD;
  rg_ctx *ctx = rg_ctx_new(NULL);
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape1(p), NULL);
  bench b = {.p = p, .grad = rg_tensor_grad(w)};
  for (int mode = DETERMINISTIC; mode <= FAST; mode++)
    b.dist[mode] = rg_dist_new(ctx, &world, &(rg_dist_config){.mode = (rg_dist_mode)mode});
  b.gathered = malloc((size_t)p * (size_t)size * sizeof(float));
  int64_t lo, hi;
  rg_dist_rows(b.dist[0], 256, &lo, &hi);
  b.rows = hi - lo;
  static double t[OPS][REPS];
  for (int r = 0; r < REPS && b.dist[0] && b.dist[1] && b.gathered; r++) {
    for (int op = 0; op < OPS; op++) {
      uint64_t seed = (uint64_t)(r * size + rank);
      for (int64_t i = 0; i < p; i++) b.grad[i] = (float)(mix(&seed) >> 40) * 0x1p-24f;
      t[op][r] = timed(&b, (enum bench_op)op);
    }
  }
  static const char *const names[OPS] = {"deterministic", "fast", "bare MPI_Allreduce",
                                         "bare MPI_Allgather"};
  if (rank == 0) {
    printf("%d ranks, %lld floats (%.2f MiB), ms median (min) of %d:", size, (long long)p,
           (double)p * 4.0 / 1048576.0, REPS);
    for (int op = 0; op < OPS; op++) {
      double m = median(t[op], REPS); /* sorts t[op] */
      printf("%s %s %.3f (%.3f)", op ? "," : "", names[op], 1e3 * m, 1e3 * t[op][0]);
    }
    printf("\n");
  }
  free(b.gathered);
  rg_dist_free(b.dist[FAST]);
  rg_dist_free(b.dist[DETERMINISTIC]);
  rg_ctx_free(ctx);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (argc > 1 && !strcmp(argv[1], "--bench")) {
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* the 784-256-256-10 MLP of `regrad train`, 4 MiB (one bucket), 16 MiB (four) */
    const int64_t sizes[] = {269322, 1 << 20, 1 << 22};
    for (int i = 0; i < 3; i++) bench_size(sizes[i], size);
    MPI_Finalize();
    return 0;
  }
  int size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 4 || (size & (size - 1))) {
    if (rank == 0) fprintf(stderr, "SKIP: run with 1, 2 or 4 ranks, not %d\n", size);
    MPI_Finalize();
    return 77;
  }
  make_data();
  check(rg_dist_available(), "the library was built with MPI");
  run_opts base = {.dist = {.grad_shards = 4}, .dropout = true, .threads = 1, .fail_rank = -1,
                   .width = 16};
  deterministic_case("4 shards, dropout", base);
  {
    static run_out one, four;
    run_opts o = base;
    o.dist.grad_shards = 1;
    train(NULL, &o, &one);
    train(NULL, &base, &four);
    check(one.n == four.n && !same_run(&one, &four),
          "1 and 4 shards give different bits (the equalities are not vacuous)");
  }
  run_opts per_rank = base;
  per_rank.dist.grad_shards = 0;
  deterministic_case("one shard per rank", per_rank);
  run_opts bn = base;
  bn.batch_norm = true;
  deterministic_case("4 shards, batch norm", bn);
  run_opts small = base;
  small.width = 64;               /* 5317 gradient floats ... */
  small.dist.bucket_bytes = 4096; /* ... in 6 buckets */
  deterministic_case("4 shards, 6 buckets", small);
  fast_case(size);
  allreduce_case();
  error_cases(size);
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("%d failed check(s) over %d rank(s)\n", total, size);
  MPI_Finalize();
  return total ? 1 : 0;
}
