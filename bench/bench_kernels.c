/* Kernel benchmarks: every slot of src/kernels.def, on every ISA this build
 * contains and this CPU runs, at an L1-resident, an L2-resident and an MLP
 * size (gemm: the four GEMMs of an MLP 784-256-256-10 step at batch 128,
 * plus squares 256 and 512). Names are slot/isa/size, the label is the
 * shape. Rates: elements per second (items_per_second) for elementwise and
 * row kernels, bytes read per second for reductions, GFLOP/s (2mnk) for
 * gemm. The ISAs of one slot and size run back to back, so that the noise
 * of a shared machine hits them alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "kernels.h"
#include "shim.h"

/* A tensor of m x n (elementwise kernels see m * n elements), or for gemm
 * C[m,n] (+)= op(A)[m,k] op(B)[k,n] with transposes ta, tb. */
struct shape {
  const char *size;
  int64_t m, n, k;
  int ta, tb, acc;
};

enum shape_set { ACT, LOGITS, PARAM, GEMM };

/* L1: 4096 floats (16 KiB) per operand; L2: 65536 (256 KiB); MLP: an
 * activation of batch 128 x 256 units, the logits of 10 classes, or the
 * 256 x 784 first-layer weights (optimizer, penalty and clipping slots). */
#define TENSOR(size, m, n) {size, m, n, 0, 0, 0, 0}
static const struct shape act_shapes[] = {
    TENSOR("L1", 32, 128), TENSOR("L2", 256, 256), TENSOR("MLP", 128, 256)};
static const struct shape logit_shapes[] = {
    TENSOR("L1", 32, 128), TENSOR("L2", 256, 256), TENSOR("MLP", 128, 10)};
static const struct shape param_shapes[] = {
    TENSOR("L1", 32, 128), TENSOR("L2", 256, 256), TENSOR("MLP", 256, 784)};
/* Forward X W^T, classifier forward, dX += dY W, dW += dY^T X; squares. */
static const struct shape gemm_shapes[] = {
    {"128x256x784_NT", 128, 256, 784, 0, 1, 0}, {"128x10x256_NT", 128, 10, 256, 0, 1, 0},
    {"128x256x256_NN", 128, 256, 256, 0, 0, 1}, {"256x784x128_TN", 256, 784, 128, 1, 0, 1},
    {"256x256x256_NN", 256, 256, 256, 0, 0, 0}, {"512x512x512_NN", 512, 512, 512, 0, 0, 0},
};

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))
static const struct {
  const struct shape *v;
  int count;
} shape_sets[] = {
    [ACT] = {act_shapes, COUNT(act_shapes)},
    [LOGITS] = {logit_shapes, COUNT(logit_shapes)},
    [PARAM] = {param_shapes, COUNT(param_shapes)},
    [GEMM] = {gemm_shapes, COUNT(gemm_shapes)},
};

/* The operands of one run, carved from the pools; len = m * n. Outputs are
 * reset before each run; accumulating slots then keep adding to them,
 * which stays finite and normal for any iteration count. */
struct io {
  int64_t m, n, k, len;
  int ta, tb, acc;
  const float *x, *x2;   /* signed, uniform in [-3, 3) */
  const float *pos;      /* in [0.05, 4): log inputs, inverse std */
  const float *unit;     /* in [0, 1): probabilities, sigmoid outputs, targets */
  const int32_t *labels; /* in [0, n) */
  float absmax;          /* max |x[i]| over len: amax_bwd's tie value */
  float *y, *y2, *y3;    /* y3 starts non-negative (Adam's v) */
  float ret;             /* reductions' results */
  double dret;           /* sumsq's result */
  double *rows;          /* grad_stats' row sums of squares, m of them */
  struct rg_grad_stats stats;
};

static const struct rg_rng_key bench_key = {20240601u, 3u, 0};
static const struct rg_sgd_hyper sgd = {.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f,
                                        .grad_scale = 1.0f};
static const struct rg_adam_hyper adamw = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f,
                                           .eps = 1e-8f, .decoupled_decay = 0.01f,
                                           .grad_scale = 1.0f, .bias_c1 = 0.1f,
                                           .sqrt_bias_c2 = 0.0316f};

/* One runner per slot: SLOT(name, shape set, operands read for GB/s, or 0
 * to report elements/ns). The table below is expanded from kernels.def, so
 * a new slot without a runner here does not compile. */
typedef void (*slot_run)(const struct rg_kernels *k, struct io *io);
#define SLOT(name, set, reads)                         \
  enum { name##_set = (set), name##_reads = (reads) }; \
  static void run_##name(const struct rg_kernels *k, struct io *io)

SLOT(relu_fwd, ACT, 0) { k->relu_fwd(io->len, io->x, io->y); }
SLOT(relu_bwd, ACT, 0) { k->relu_bwd(io->len, io->x, io->x2, io->y); }
SLOT(leaky_relu_fwd, ACT, 0) { k->leaky_relu_fwd(io->len, 0.01f, io->x, io->y); }
SLOT(leaky_relu_bwd, ACT, 0) { k->leaky_relu_bwd(io->len, 0.01f, io->x, io->x2, io->y); }
SLOT(sigmoid_fwd, ACT, 0) { k->sigmoid_fwd(io->len, io->x, io->y); }
SLOT(sigmoid_bwd, ACT, 0) { k->sigmoid_bwd(io->len, io->unit, io->x2, io->y); }
SLOT(tanh_fwd, ACT, 0) { k->tanh_fwd(io->len, io->x, io->y); }
SLOT(tanh_bwd, ACT, 0) { k->tanh_bwd(io->len, io->unit, io->x2, io->y); }
SLOT(gelu_fwd, ACT, 0) { k->gelu_fwd(io->len, io->x, io->y); }
SLOT(gelu_bwd, ACT, 0) { k->gelu_bwd(io->len, io->x, io->x2, io->y); }
SLOT(exp_fwd, ACT, 0) { k->exp_fwd(io->len, io->x, io->y); }
SLOT(log_fwd, ACT, 0) { k->log_fwd(io->len, io->pos, io->y); }
SLOT(log_bwd, ACT, 0) { k->log_bwd(io->len, io->pos, io->x2, io->y); }
SLOT(clamp_fwd, ACT, 0) { k->clamp_fwd(io->len, -1.0f, 1.0f, io->x, io->y); }
SLOT(clamp_bwd, ACT, 0) { k->clamp_bwd(io->len, -1.0f, 1.0f, io->x, io->x2, io->y); }
SLOT(add, ACT, 0) { k->add(io->len, io->x, io->x2, io->y); }
SLOT(sub, ACT, 0) { k->sub(io->len, io->x, io->x2, io->y); }
SLOT(mul, ACT, 0) { k->mul(io->len, io->x, io->x2, io->y); }
SLOT(scale, ACT, 0) { k->scale(io->len, 0.5f, io->x, io->y); }
SLOT(axpy, PARAM, 0) { k->axpy(io->len, 1e-3f, io->x, io->y); }
SLOT(mul_acc, ACT, 0) { k->mul_acc(io->len, io->x, io->x2, io->y); }
SLOT(sign_acc, PARAM, 0) { k->sign_acc(io->len, 1e-4f, io->x, io->y); }
SLOT(colsum_acc, ACT, 0) { k->colsum_acc(io->m, io->n, io->x, io->y); }
SLOT(sum, ACT, 1) { io->ret = k->sum(io->len, io->x); }
SLOT(sumsq, PARAM, 1) { io->dret = k->sumsq(io->len, io->x); }
SLOT(asum, PARAM, 1) { io->ret = k->asum(io->len, io->x); }
SLOT(amax, PARAM, 1) { io->ret = k->amax(io->len, io->x); }
SLOT(dot, ACT, 2) { io->ret = k->dot(io->len, io->x, io->x2); }
SLOT(amax_bwd, PARAM, 0) { k->amax_bwd(io->len, io->absmax, 1.0f, io->x, io->y); }
SLOT(grad_stats, PARAM, 1) { k->grad_stats(io->m, io->n, io->x, io->rows, &io->stats); }
SLOT(softmax_fwd, LOGITS, 0) { k->softmax_fwd(io->m, io->n, io->x, io->y); }
SLOT(softmax_bwd, LOGITS, 0) { k->softmax_bwd(io->m, io->n, io->unit, io->x2, io->y); }
SLOT(log_softmax_fwd, LOGITS, 0) { k->log_softmax_fwd(io->m, io->n, io->x, io->y); }
SLOT(log_softmax_bwd, LOGITS, 0) { k->log_softmax_bwd(io->m, io->n, io->x, io->x2, io->y); }
SLOT(xent_fwd, LOGITS, 0) { k->xent_fwd(io->m, io->n, 0.0f, io->x, io->labels, io->y, io->y2); }
SLOT(xent_bwd, LOGITS, 0) { k->xent_bwd(io->m, io->n, 0.0f, 1.0f / 128, io->unit, io->labels, io->y); }
SLOT(bce_fwd, ACT, 0) { k->bce_fwd(io->len, io->x, io->unit, io->y); }
SLOT(bce_bwd, ACT, 0) { k->bce_bwd(io->len, 1e-3f, io->x, io->unit, io->y); }
SLOT(dropout_fwd, ACT, 0) { k->dropout_fwd(io->len, &bench_key, 1u << 23, 2.0f, io->x, io->y); }
SLOT(dropout_bwd, ACT, 0) { k->dropout_bwd(io->len, &bench_key, 1u << 23, 2.0f, io->x2, io->y); }
SLOT(rand_uniform, PARAM, 0) { k->rand_uniform(io->len, &bench_key, -0.05f, 0.05f, io->y); }
SLOT(rand_normal, PARAM, 0) { k->rand_normal(io->len, &bench_key, 0.0f, 0.05f, io->y); }
SLOT(bn_stats, ACT, 0) { k->bn_stats(io->m, io->n, io->x, io->y, io->y2); }
SLOT(bn_apply, ACT, 0) {
  k->bn_apply(io->m, io->n, io->x, io->x2, io->pos, io->unit, io->x2, io->y);
}
SLOT(bn_bwd, ACT, 0) {
  k->bn_bwd(io->m, io->n, io->x, io->unit, io->pos, io->pos, io->x2, io->y, io->y2, io->y3);
}
SLOT(gemm, GEMM, 0) {
  k->gemm(io->m, io->n, io->k, io->ta, io->tb, io->x, io->ta ? io->m : io->k, io->x2,
          io->tb ? io->k : io->n, io->y, io->n, io->acc, NULL);
}
SLOT(sgd_step, PARAM, 0) { k->sgd_step(io->len, &sgd, io->y, io->x, io->y2); }
SLOT(adam_step, PARAM, 0) { k->adam_step(io->len, &adamw, io->y, io->x, io->y2, io->y3); }
/* t far below half an ulp of most weights, so repeated calls keep them. */
SLOT(prox_l1, PARAM, 0) { k->prox_l1(io->len, 1e-8f, io->y); }

static const struct slot_bench {
  const char *name;
  enum shape_set set;
  int reads;
  slot_run run;
} slots[] = {
#define RG_KERNEL(name, ret, params) {#name, (enum shape_set)name##_set, name##_reads, run_##name},
#include "kernels.def"
#undef RG_KERNEL
};

/* Operand pools, filled once, large enough for every shape. */
static struct {
  int64_t len;
  float *x, *x2, *pos, *unit, *y, *y2, *y3;
  double *rows;
  int32_t *labels;
} pool;

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static int64_t pool_len(void) {
  int64_t len = 0;
  for (int s = 0; s < COUNT(shape_sets); s++)
    for (int i = 0; i < shape_sets[s].count; i++) {
      const struct shape *sh = &shape_sets[s].v[i];
      len = max64(len, max64(sh->m * sh->n, sh->k * max64(sh->m, sh->n)));
    }
  return len;
}

static void *pool_alloc(int64_t count, size_t size) {
  size_t bytes = ((size_t)count * size + 63) & ~(size_t)63;
  void *p = aligned_alloc(64, bytes);
  if (!p) {
    fprintf(stderr, "regrad-bench: out of memory\n");
    exit(1);
  }
  return p;
}

/* Uniform in [lo, hi), from splitmix64: fixed inputs on every machine. */
static void fill_uniform(float *p, int64_t n, float lo, float hi, uint64_t seed) {
  for (int64_t i = 0; i < n; i++) {
    uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    p[i] = lo + (hi - lo) * ((float)(z >> 40) * 0x1p-24f);
  }
}

static void pool_init(void) {
  pool.len = pool_len();
  float **bufs[] = {&pool.x, &pool.x2, &pool.pos, &pool.unit, &pool.y, &pool.y2, &pool.y3};
  for (int i = 0; i < COUNT(bufs); i++) *bufs[i] = pool_alloc(pool.len, sizeof(float));
  pool.labels = pool_alloc(pool.len, sizeof(int32_t));
  pool.rows = pool_alloc(pool.len, sizeof(double));
  fill_uniform(pool.x, pool.len, -3.0f, 3.0f, 1);
  fill_uniform(pool.x2, pool.len, -3.0f, 3.0f, 2);
  fill_uniform(pool.pos, pool.len, 0.05f, 4.0f, 3);
  fill_uniform(pool.unit, pool.len, 0.0f, 1.0f, 4);
}

/* Operands for one shape, with outputs reset and labels in [0, n). */
static struct io io_for(const struct shape *sh) {
  struct io io = {sh->m, sh->n, sh->k, sh->m * sh->n, sh->ta, sh->tb, sh->acc,
                  pool.x, pool.x2, pool.pos, pool.unit, pool.labels, 0.0f,
                  pool.y, pool.y2, pool.y3, 0.0f, 0.0, pool.rows, {0.0, 0.0f, 0.0f}};
  size_t bytes = (size_t)io.len * sizeof(float);
  memcpy(pool.y, pool.x, bytes);
  memcpy(pool.y2, pool.x2, bytes);
  memcpy(pool.y3, pool.unit, bytes);
  for (int64_t r = 0; r < io.m; r++) pool.labels[r] = (int32_t)((r * 7) % io.n);
  for (int64_t i = 0; i < io.len; i++) {
    float a = pool.x[i] < 0.0f ? -pool.x[i] : pool.x[i];
    io.absmax = a > io.absmax ? a : io.absmax;
  }
  return io;
}

struct bench_case {
  const struct slot_bench *slot;
  const struct rg_kernels *table;
  const struct shape *shape;
};

static void report(rg_bench_state *st, const struct bench_case *c) {
  const struct shape *sh = c->shape;
  double len = (double)(sh->m * sh->n);
  char label[64];
  if (sh->k) {
    rg_bench_set_rate(st, "GFLOP/s", 2.0 * len * (double)sh->k * 1e-9);
    snprintf(label, sizeof label, "%lldx%lldx%lld %s", (long long)sh->m, (long long)sh->n,
             (long long)sh->k, sh->ta ? "TN" : sh->tb ? "NT" : "NN");
  } else {
    if (c->slot->reads)
      rg_bench_set_bytes(st, (double)c->slot->reads * len * sizeof(float));
    else
      rg_bench_set_items(st, len);
    snprintf(label, sizeof label, "%lldx%lld", (long long)sh->m, (long long)sh->n);
  }
  rg_bench_set_label(st, label);
}

static void bench_case(rg_bench_state *st, void *user) {
  const struct bench_case *c = user;
  struct io io = io_for(c->shape);
  while (rg_bench_keep_running(st)) c->slot->run(c->table, &io);
  report(st, c);
}

/* The usable ISA tables, scalar first; notes the built-but-unusable ones. */
static int usable_tables(const struct rg_kernels **out) {
  int count = 0;
  char used[64] = "", skipped[64] = "";
  for (int isa = 0; isa < RG_ISA_COUNT; isa++) {
    const struct rg_kernels *t = rg_isa_table((enum rg_isa)isa);
    if (!t) continue;
    char *list = rg_isa_usable((enum rg_isa)isa) ? used : skipped;
    snprintf(list + strlen(list), 64 - strlen(list), "%s%s", *list ? "," : "", t->isa);
    if (list == used) out[count++] = t;
  }
  if (*skipped) fprintf(stderr, "regrad-bench: skipping %s: this CPU lacks it\n", skipped);
  rg_bench_add_context("regrad_isas", used);
  rg_bench_add_context("regrad_isas_skipped", skipped);
  return count;
}

int main(int argc, char **argv) {
  const struct rg_kernels *tables[RG_ISA_COUNT];
  int isas = usable_tables(tables);
  pool_init();
  int cases = 0;
  for (int s = 0; s < COUNT(slots); s++) cases += shape_sets[slots[s].set].count * isas;
  struct bench_case *c = calloc((size_t)cases, sizeof *c);
  if (!c) return 1;
  for (int s = 0; s < COUNT(slots); s++)
    for (int i = 0; i < shape_sets[slots[s].set].count; i++)
      for (int t = 0; t < isas; t++, c++) {
        *c = (struct bench_case){&slots[s], tables[t], &shape_sets[slots[s].set].v[i]};
        char name[128];
        snprintf(name, sizeof name, "%s/%s/%s", c->slot->name, c->table->isa, c->shape->size);
        rg_bench_register(name, bench_case, c);
      }
  return rg_bench_main(argc, argv);
}
