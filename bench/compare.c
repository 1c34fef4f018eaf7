/* regrad-compare: regrad side by side with OpenBLAS and PyTorch, in one run.
 *
 *   regrad-compare [--rounds N] [--sample-ms MS] [--only SUBSTR] [--json]
 *                  [--cpu-time] [--no-torch] [--data DIR] [--script compare_torch.py]
 *
 * Workload groups (every figure on one thread unless the group says so):
 *   openblas/  sgemm, regrad's gemm against cblas_sgemm: squares 256..2048
 *              and the GEMMs of an MLP 784-256-256-10 at batch 128 and 32
 *              (forward X W^T as NT, dX = dY W as NN, dW = dY^T X as TN),
 *              and one row through each layer, as NT and as NN (rg_predictor);
 *              GFLOP/s (2mnk / s).
 *   pytorch/   training and inference against PyTorch (bench/compare_torch.py,
 *              a co-process under /usr/bin/python3; see there for the list).
 *   threads/   regrad on 2 threads (figure) against regrad on 1 (baseline).
 * Rounds interleave every workload, alternating which side goes first, so
 * the load of a shared machine hits both sides alike; each sample lasts about
 * --sample-ms (calibrated once). Reported: median over rounds, min and max.
 * ratio is regrad's advantage: regrad/baseline for rates, baseline/regrad for
 * times, so > 1 means regrad is faster. --cpu-time measures process CPU time
 * instead of wall time on both sides (threads/ always uses wall time). */
#include <cblas.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "regrad.h"

#define MAX_ROUNDS 64
#define MAX_WORKLOADS 64
#define BATCH 128
#define CHAIN 100

enum group { G_BLAS, G_TORCH, G_THREADS };
static const char *const group_names[] = {"openblas", "pytorch", "threads"};
enum kind { K_GEMM, K_TRAIN, K_INFER1, K_INFER1_GRAPH, K_ADD1, K_ADD_CHAIN, K_EPOCH };

struct model { /* a trained model: (a) plain or regularized, or (b) */
  int hidden, width;
  rg_nonlinearity act;
  float dropout;
  bool clip;
};
static const struct model mlp_a = {2, 256, RG_RELU, 0.0f, false};
static const struct model mlp_a_reg = {2, 256, RG_RELU, 0.5f, true};
static const struct model deep_b = {20, 64, RG_TANH, 0.0f, false};

struct workload {
  char name[64];
  const char *unit, *torch_name;
  enum group group;
  enum kind kind;
  bool higher_better;
  int m, n, k, ta, tb; /* gemm */
  const struct model *model;
  int64_t reps[2];
  int rounds[2];
  double samples[2][MAX_ROUNDS];
  struct side_state *state[2];
};

struct opts {
  int rounds;
  double sample_ms;
  const char *only, *data, *script;
  bool json, cpu_time, torch;
};
static struct opts opt = {7, 100.0, NULL, RG_DEFAULT_DATA_DIR, RG_COMPARE_TORCH, false, false,
                          true};

static double now(bool wall) {
  struct timespec t;
  clock_gettime(opt.cpu_time && !wall ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what, const char *why) {
  fprintf(stderr, "regrad-compare: %s: %s\n", what, why);
  exit(1);
}

/* ------------------------------------------------------------ regrad side */

/* State of one side of a workload: a context, a model with its optimizer,
 * a batch of data, and for the epoch the dataset and its batcher. */
struct side_state {
  rg_ctx *ctx;
  rg_mlp *mlp;
  rg_predictor *predictor;
  rg_optim *opt;
  rg_tensor *params[2 * (RG_MLP_MAX_LAYERS + 1)];
  int n_params;
  rg_tensor *w, *c; /* add: a parameter and a constant */
  rg_dataset *ds;
  rg_batcher *batcher;
  const struct model *model;
  float *x;
  float logits[10];
  int32_t y[BATCH];
};

static void check(rg_ctx *ctx, const char *what) {
  if (rg_ctx_status(ctx) != RG_OK) die(what, rg_ctx_message(ctx));
}

static float uniform01(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (float)(*s >> 40) / (float)(1 << 24);
}

static struct side_state *state_new(const struct workload *w, int threads) {
  struct side_state *s = calloc(1, sizeof *s);
  if (!s) die(w->name, "out of memory");
  s->ctx = rg_ctx_new(&(rg_config){.seed = 7, .threads = threads});
  if (!s->ctx) die(w->name, "out of memory");
  check(s->ctx, "rg_ctx_new");
  if (w->kind == K_ADD1 || w->kind == K_ADD_CHAIN) {
    s->w = rg_param_new(s->ctx, "w", rg_shape1(1), NULL);
    s->c = rg_buffer_new(s->ctx, "c", rg_shape1(1), (const float[]){1.0f});
    check(s->ctx, w->name);
    return s;
  }
  if (!w->model) return s;
  const struct model *md = s->model = w->model;
  rg_mlp_config mc = {.in = 784, .out = 10, .hidden = md->hidden, .activation = md->act,
                      .dropout = md->dropout};
  for (int i = 0; i < md->hidden; i++) mc.widths[i] = md->width;
  s->mlp = rg_mlp_new(s->ctx, "mlp", &mc);
  /* zero_grad: the step leaves the gradients zeroed, for the next backward */
  s->opt = rg_optim_new(s->ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.01f, .momentum = 0.9f,
                                                  .weight_decay = 5e-4f, .zero_grad = true});
  /* Copied: the optimizer's momentum buffers come next and move the list. */
  rg_tensor *const *all = rg_params(s->ctx, &s->n_params);
  memcpy(s->params, all, (size_t)s->n_params * sizeof *all);
  rg_optim_add(s->opt, s->params, s->n_params, NULL); /* decay on all, as torch.optim.SGD */
  s->x = malloc(BATCH * 784 * sizeof *s->x);
  if (!s->x) die(w->name, "out of memory");
  uint64_t seed = 1;
  for (int i = 0; i < BATCH * 784; i++) s->x[i] = uniform01(&seed);
  for (int i = 0; i < BATCH; i++) s->y[i] = (int32_t)(uniform01(&seed) * 10.0f);
  if (w->kind == K_EPOCH) {
    s->ds = rg_dataset_load_mnist(s->ctx, opt.data, true);
    s->batcher = rg_batcher_new(s->ctx, s->ds, BATCH, true, 11);
  }
  if (w->kind == K_INFER1 || w->kind == K_INFER1_GRAPH)
    rg_set_grad_enabled(s->ctx, false), rg_set_training(s->ctx, false);
  if (w->kind == K_INFER1) s->predictor = rg_predictor_new(s->mlp);
  check(s->ctx, w->name);
  return s;
}

/* One SGD step of the model on a batch of b rows. */
static void train_step(struct side_state *s, const float *x, const int32_t *y, int64_t b) {
  rg_ctx *ctx = s->ctx;
  rg_tensor *logits = rg_mlp_forward(s->mlp, rg_tensor_view(ctx, rg_shape2(b, 784), x));
  rg_backward(ctx, rg_cross_entropy(ctx, logits, y, 0.0f));
  rg_clip_result clip = {.scale = 1.0f};
  if (s->model->clip)
    rg_clip_grad_norm(ctx, s->params, s->n_params, 1.0f, 2.0f,
                      &(rg_clip_opts){.defer_scale = true}, &clip);
  rg_optim_step(s->opt, 0.01f, clip.scale);
  rg_tape_reset(ctx);
}

static float *mat[3]; /* gemm operands, 2048 x 2048 each */

static void run_regrad(const struct workload *w, struct side_state *s, int64_t reps) {
  rg_ctx *ctx = s->ctx;
  for (int64_t r = 0; r < reps; r++) switch (w->kind) {
      case K_GEMM:
        rg_gemm(ctx, w->m, w->n, w->k, w->ta, w->tb, mat[0], w->ta ? w->m : w->k, mat[1],
                w->tb ? w->k : w->n, mat[2], w->n, 0);
        break;
      case K_TRAIN: train_step(s, s->x, s->y, BATCH); break;
      case K_INFER1: rg_predict(s->predictor, s->x, 1, s->logits); break;
      case K_INFER1_GRAPH:
        rg_mlp_forward(s->mlp, rg_tensor_view(ctx, rg_shape2(1, 784), s->x));
        rg_tape_reset(ctx);
        break;
      case K_ADD1:
      case K_ADD_CHAIN: {
        rg_tensor *y = s->w;
        for (int i = 0; i < (w->kind == K_ADD1 ? 1 : CHAIN); i++) y = rg_add(ctx, y, s->c);
        rg_backward(ctx, y);
        rg_tape_reset(ctx);
        break;
      }
      case K_EPOCH: {
        const float *x;
        const int32_t *y;
        for (int64_t b; (b = rg_batcher_next(s->batcher, &x, &y)) > 0;) train_step(s, x, y, b);
        break;
      }
    }
  check(ctx, w->name);
}

static void run_openblas(const struct workload *w, int64_t reps) {
  for (int64_t r = 0; r < reps; r++)
    cblas_sgemm(CblasRowMajor, w->ta ? CblasTrans : CblasNoTrans,
                w->tb ? CblasTrans : CblasNoTrans, w->m, w->n, w->k, 1.0f, mat[0],
                w->ta ? w->m : w->k, mat[1], w->tb ? w->k : w->n, 0.0f, mat[2], w->n);
}

/* ----------------------------------------------------------- torch side */

static struct {
  FILE *to, *from;
  pid_t pid;
  bool ok;
  char version[256], why[256];
} torch;

static void torch_start(void) {
  int in[2], out[2];
  if (pipe(in) || pipe(out)) die("pipe", "failed");
  fflush(NULL);
  torch.pid = fork();
  if (torch.pid < 0) die("fork", "failed");
  if (torch.pid == 0) {
    dup2(in[0], 0), dup2(out[1], 1);
    close(in[1]), close(out[0]);
    setenv("OMP_NUM_THREADS", "1", 1), setenv("MKL_NUM_THREADS", "1", 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    if (opt.cpu_time) setenv("REGRAD_BENCH_CPU_TIME", "1", 1);
    execl("/usr/bin/python3", "python3", opt.script, opt.data, (char *)NULL);
    printf("skip cannot run /usr/bin/python3\n");
    _exit(1);
  }
  close(in[0]), close(out[1]);
  torch.to = fdopen(in[1], "w"), torch.from = fdopen(out[0], "r");
  char line[256] = "";
  if (!fgets(line, sizeof line, torch.from))
    snprintf(line, sizeof line, "skip %s gave no answer", opt.script);
  line[strcspn(line, "\n")] = 0;
  torch.ok = strncmp(line, "ready ", 6) == 0;
  if (torch.ok)
    snprintf(torch.version, sizeof torch.version, "%s", line + 6);
  else
    snprintf(torch.why, sizeof torch.why, "%s", strncmp(line, "skip ", 5) ? line : line + 5);
}

static double torch_sample(const struct workload *w) {
  char line[256];
  fprintf(torch.to, "%s %g\n", w->torch_name, opt.sample_ms);
  fflush(torch.to);
  if (!fgets(line, sizeof line, torch.from)) die(w->name, "the PyTorch process died");
  if (strncmp(line, "error", 5) == 0) die(w->name, line);
  return atof(line);
}

static void torch_stop(void) {
  if (!torch.to) return;
  fprintf(torch.to, "quit\n");
  fclose(torch.to), fclose(torch.from);
  waitpid(torch.pid, NULL, 0);
}

/* -------------------------------------------------------------- sampling */

/* Units of work in one rep, as counted by the unit. */
static double work_per_rep(const struct workload *w) {
  switch (w->kind) {
    case K_GEMM: return 2.0 * w->m * w->n * w->k / 1e9;
    case K_TRAIN: return BATCH;
    case K_ADD_CHAIN: return CHAIN;
    default: return 1;
  }
}

/* Seconds for reps reps of one side (0: regrad or 2 threads, 1: baseline). */
static double timed(struct workload *w, int side, int64_t reps) {
  bool wall = w->group == G_THREADS;
  if (!w->state[side] && (side == 0 || w->group != G_BLAS))
    w->state[side] = state_new(w, w->group == G_THREADS && side == 0 ? 2 : 1);
  double t0 = now(wall);
  if (side == 1 && w->group == G_BLAS)
    run_openblas(w, reps);
  else
    run_regrad(w, w->state[side], reps);
  return now(wall) - t0;
}

static void sample(struct workload *w, int side) {
  double fig;
  if (side == 1 && w->group == G_TORCH) {
    if (!torch.ok) return;
    fig = torch_sample(w);
  } else {
    if (!w->reps[side]) { /* calibrate: about sample_ms per sample */
      int64_t reps = 1;
      double dt = timed(w, side, 1);
      if (w->kind != K_EPOCH)
        while ((dt = timed(w, side, reps)) < opt.sample_ms / 4000.0) reps *= 2;
      reps = (int64_t)ceil(reps * opt.sample_ms / 1000.0 / dt);
      w->reps[side] = reps < 1 || w->kind == K_EPOCH ? 1 : reps;
    }
    double dt = timed(w, side, w->reps[side]), work = w->reps[side] * work_per_rep(w);
    fig = w->higher_better ? work / dt : dt / work * (w->kind == K_EPOCH ? 1.0 : 1e6);
  }
  w->samples[side][w->rounds[side]++] = fig;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

struct stats {
  double med, lo, hi;
  bool ok;
};

static struct stats summarize(const struct workload *w, int side) {
  struct stats s = {NAN, NAN, NAN, w->rounds[side] > 0};
  if (!s.ok) return s;
  double v[MAX_ROUNDS];
  int n = w->rounds[side];
  memcpy(v, w->samples[side], (size_t)n * sizeof *v);
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  s.med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.lo = v[0], s.hi = v[n - 1];
  return s;
}

/* ------------------------------------------------------------- workloads */

static struct workload list[MAX_WORKLOADS];
static int n_list;

static struct workload *add(enum group g, enum kind k, const char *unit, bool higher_better) {
  if (n_list == MAX_WORKLOADS) die("workloads", "too many");
  struct workload *w = &list[n_list++];
  *w = (struct workload){.group = g, .kind = k, .unit = unit, .higher_better = higher_better};
  return w;
}

static void add_gemm(enum group g, int m, int n, int k, int ta, int tb, const char *what) {
  struct workload *w = add(g, K_GEMM, "GFLOP/s", true);
  w->m = m, w->n = n, w->k = k, w->ta = ta, w->tb = tb;
  snprintf(w->name, sizeof w->name, "%s/sgemm_%dx%dx%d_%c%c%s%s", group_names[g], m, n, k,
           ta ? 'T' : 'N', tb ? 'T' : 'N', *what ? "_" : "", what);
}

static void add_model(enum group g, enum kind k, const char *name, const char *unit,
                      const struct model *md) {
  struct workload *w = add(g, k, unit, k == K_TRAIN);
  snprintf(w->name, sizeof w->name, "%s/%s", group_names[g], name);
  w->torch_name = name, w->model = md;
}

static void build_list(void) {
  static const int squares[] = {256, 512, 1024, 2048};
  for (int i = 0; i < 4; i++) add_gemm(G_BLAS, squares[i], squares[i], squares[i], 0, 0, "");
  /* Layers (in -> out) of the MLP at batch b: forward, dX, dW. */
  static const int layers[3][2] = {{784, 256}, {256, 256}, {256, 10}};
  static const int batches[2] = {128, 32};
  for (int bi = 0; bi < 2; bi++)
    for (int l = 0; l < 3; l++) {
      int b = batches[bi], in = layers[l][0], out = layers[l][1];
      add_gemm(G_BLAS, b, out, in, 0, 1, "fwd");
      add_gemm(G_BLAS, b, in, out, 0, 0, "dX");
      add_gemm(G_BLAS, out, in, b, 1, 0, "dW");
    }
  /* Batch-1 inference: forward against W [out, in] (the tape's NT) and
   * against W^T [in, out] (rg_predictor's NN). */
  for (int l = 0; l < 3; l++) {
    add_gemm(G_BLAS, 1, layers[l][1], layers[l][0], 0, 1, "fwd1");
    add_gemm(G_BLAS, 1, layers[l][1], layers[l][0], 0, 0, "pred1");
  }
  add_model(G_TORCH, K_TRAIN, "mlp", "samples/s", &mlp_a);
  add_model(G_TORCH, K_TRAIN, "mlp_reg", "samples/s", &mlp_a_reg);
  add_model(G_TORCH, K_TRAIN, "deep", "samples/s", &deep_b);
  add_model(G_TORCH, K_INFER1, "infer1", "us", &mlp_a);
  add_model(G_TORCH, K_INFER1_GRAPH, "infer1_graph", "us", &mlp_a);
  list[n_list - 1].torch_name = "infer1"; /* the same PyTorch figure */
  add_model(G_TORCH, K_ADD1, "add1", "us", NULL);
  add_model(G_TORCH, K_ADD_CHAIN, "add_chain", "us/op", NULL);
  add_model(G_TORCH, K_EPOCH, "epoch", "s", &mlp_a);
  for (int i = 1; i < 4; i++) add_gemm(G_THREADS, squares[i], squares[i], squares[i], 0, 0, "");
  add_gemm(G_THREADS, 128, 256, 784, 0, 1, "fwd");
  add_gemm(G_THREADS, 256, 784, 128, 1, 0, "dW");
  add_model(G_THREADS, K_TRAIN, "mlp", "samples/s", &mlp_a);
  add_model(G_THREADS, K_TRAIN, "deep", "samples/s", &deep_b);
  if (!opt.only) return;
  int kept = 0; /* --only: keep the workloads whose name contains the text */
  for (int i = 0; i < n_list; i++)
    if (strstr(list[i].name, opt.only)) list[kept++] = list[i];
  n_list = kept;
}

/* --------------------------------------------------------------- report */

static void machine(char *cpu, size_t len) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  snprintf(cpu, len, "unknown CPU");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      char *v = strchr(line, ':');
      snprintf(cpu, len, "%.200s", v ? v + 2 : line);
      cpu[strcspn(cpu, "\n")] = 0;
      break;
    }
  if (f) fclose(f);
}

static void loadavg(char *buf, size_t len) {
  FILE *f = fopen("/proc/loadavg", "r");
  if (!f || !fgets(buf, (int)len, f)) snprintf(buf, len, "?");
  if (f) fclose(f);
  buf[strcspn(buf, "\n")] = 0;
}

static double ratio(const struct workload *w, struct stats r, struct stats b) {
  return w->higher_better ? r.med / b.med : b.med / r.med;
}

static void print_text(const char *isa) {
  printf("%-36s %-9s %27s %27s %7s\n", "workload", "unit", "regrad median [min-max]",
         "baseline median [min-max]", "ratio");
  for (int i = 0; i < n_list; i++) {
    const struct workload *w = &list[i];
    struct stats r = summarize(w, 0), b = summarize(w, 1);
    char rs[64], bs[64] = "-", rt[16] = "-";
    snprintf(rs, sizeof rs, "%.4g [%.4g-%.4g]", r.med, r.lo, r.hi);
    if (b.ok) snprintf(bs, sizeof bs, "%.4g [%.4g-%.4g]", b.med, b.lo, b.hi);
    if (b.ok) snprintf(rt, sizeof rt, "%.2fx", ratio(w, r, b));
    printf("%-36s %-9s %27s %27s %7s\n", w->name, w->unit, rs, bs, rt);
  }
  printf("ratio: regrad's advantage (> 1: regrad faster); isa %s; threads/: 2 threads vs 1\n",
         isa);
}

static void print_json(void) {
  printf("[\n");
  for (int i = 0; i < n_list; i++) {
    const struct workload *w = &list[i];
    struct stats r = summarize(w, 0), b = summarize(w, 1);
    printf("  {\"name\": \"%s\", \"unit\": \"%s\", \"regrad\": %.6g, \"regrad_min\": %.6g, "
           "\"regrad_max\": %.6g, ",
           w->name, w->unit, r.med, r.lo, r.hi);
    if (b.ok)
      printf("\"baseline\": %.6g, \"baseline_min\": %.6g, \"baseline_max\": %.6g, "
             "\"ratio\": %.4f, ",
             b.med, b.lo, b.hi, ratio(w, r, b));
    else
      printf("\"baseline\": null, \"ratio\": null, ");
    printf("\"rounds\": %d}%s\n", w->rounds[0], i + 1 < n_list ? "," : "");
  }
  printf("]\n");
}

static void usage(void) {
  fprintf(stderr, "usage: regrad-compare [--rounds N] [--sample-ms MS] [--only SUBSTR] [--json]\n"
                  "                      [--cpu-time] [--no-torch] [--data DIR] [--script PY]\n");
  exit(2);
}

static void parse(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--json")) opt.json = true;
    else if (!strcmp(a, "--cpu-time")) opt.cpu_time = true;
    else if (!strcmp(a, "--no-torch")) opt.torch = false;
    else if (!strcmp(a, "--rounds") && v) opt.rounds = atoi(v), i++;
    else if (!strcmp(a, "--sample-ms") && v) opt.sample_ms = atof(v), i++;
    else if (!strcmp(a, "--only") && v) opt.only = v, i++;
    else if (!strcmp(a, "--data") && v) opt.data = v, i++;
    else if (!strcmp(a, "--script") && v) opt.script = v, i++;
    else usage();
  }
  if (opt.rounds < 1 || opt.rounds > MAX_ROUNDS || !(opt.sample_ms > 0)) usage();
}

int main(int argc, char **argv) {
  /* OpenBLAS starts its worker threads when it is loaded, per this variable,
   * and they spin a while before sleeping: start again with it set, so no
   * idle OpenBLAS thread shares the CPUs with the measurements. */
  const char *obt = getenv("OPENBLAS_NUM_THREADS");
  if (!obt || strcmp(obt, "1") != 0) {
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv); /* on failure, carry on */
  }
  parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  openblas_set_num_threads(1);
  build_list();
  for (int i = 0; i < 3; i++) {
    mat[i] = aligned_alloc(64, 2048 * 2048 * sizeof(float));
    if (!mat[i]) die("operands", "out of memory");
    uint64_t seed = 3 + (uint64_t)i;
    for (int j = 0; j < 2048 * 2048; j++) mat[i][j] = uniform01(&seed) - 0.5f;
  }
  bool want_torch = false;
  for (int i = 0; i < n_list; i++) want_torch |= list[i].group == G_TORCH;
  if (want_torch && opt.torch) torch_start();
  if (want_torch && !torch.ok) { /* the script's reason starts "python3-torch not installed" */
    bool missing = strncmp(torch.why, "python3-torch not installed", 27) == 0;
    fprintf(stderr, "pytorch: skipped (%s)\n",
            !opt.torch ? "--no-torch" : missing ? "python3-torch not installed" : torch.why);
    if (missing) fprintf(stderr, "  %s\n", torch.why);
  }
  char cpu[256], load0[128], load1[128];
  machine(cpu, sizeof cpu);
  loadavg(load0, sizeof load0);
  rg_ctx *probe = rg_ctx_new(NULL);
  const char *isa = probe ? rg_ctx_isa(probe) : "?";
  fprintf(stderr, "regrad-compare: %s, %ld CPUs online, isa %s, OpenBLAS %s (%s), torch %s\n", cpu,
          sysconf(_SC_NPROCESSORS_ONLN), isa, openblas_get_config(), openblas_get_corename(),
          torch.ok ? torch.version : "-");
  fprintf(stderr, "rounds %d, ~%g ms per sample, %s clock, load average %s\n", opt.rounds,
          opt.sample_ms, opt.cpu_time ? "process CPU" : "wall", load0);
  for (int r = 0; r < opt.rounds; r++) {
    for (int i = 0; i < n_list; i++) {
      int first = (r + i) % 2; /* alternate which side goes first */
      sample(&list[i], first);
      sample(&list[i], !first);
    }
    fprintf(stderr, "round %d/%d done\n", r + 1, opt.rounds);
  }
  loadavg(load1, sizeof load1);
  fprintf(stderr, "load average at the end %s\n", load1);
  if (opt.json)
    print_json();
  else
    print_text(isa);
  torch_stop();
  rg_ctx_free(probe);
  return 0;
}
