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
#include "../tests/slot_runners.h"

/* A tensor of m x n (elementwise kernels see m * n elements), or for gemm
 * C[m,n] (+)= op(A)[m,k] op(B)[k,n] with transposes ta, tb. */
struct shape {
  const char *size;
  int64_t m, n, k;
  int ta, tb, acc;
};

#define TENSOR(size, m, n) {size, m, n, 0, 0, 0, 0}
/* L1: 4096 floats (16 KiB) per operand; L2: 65536 (256 KiB); MLP: an
 * activation of batch 128 x 256 units, the logits of 10 classes, or the
 * 256 x 784 first-layer weights (optimizer, penalty and clipping slots). */
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
    [RG_S_ACT] = {act_shapes, COUNT(act_shapes)},
    [RG_S_LOGITS] = {logit_shapes, COUNT(logit_shapes)},
    [RG_S_PARAM] = {param_shapes, COUNT(param_shapes)},
    [RG_S_GEMM] = {gemm_shapes, COUNT(gemm_shapes)},
};

static const struct rg_rng_key bench_key = {20240601u, 3u, 0};

/* Operand pools, filled once, large enough for every shape: per input
 * place, one pool per domain (signed values in [-3, 3) for RG_D_ANY,
 * RG_D_SMALL and RG_D_WIDE; [0.05, 4) for RG_D_POS; [0, 1) for RG_D_UNIT),
 * so that no two inputs of a slot alias; the outputs' starting values; and
 * a scratch copy for slots whose prep writes their inputs. */
enum domain { SIGNED, POS, UNIT, DOMAINS };
#define INPUTS 6
static struct {
  int64_t len;
  float *in[INPUTS][DOMAINS], *scratch[INPUTS], *out[3], *out_start[3];
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
  static const float lo[DOMAINS] = {-3.0f, 0.05f, 0.0f}, hi[DOMAINS] = {3.0f, 4.0f, 1.0f};
  pool.len = pool_len();
  uint64_t seed = 1;
  for (int i = 0; i < INPUTS; i++) {
    for (int d = 0; d < DOMAINS; d++) {
      pool.in[i][d] = pool_alloc(pool.len, sizeof(float));
      fill_uniform(pool.in[i][d], pool.len, lo[d], hi[d], seed++);
    }
    pool.scratch[i] = pool_alloc(pool.len, sizeof(float));
  }
  for (int o = 0; o < 3; o++) {
    pool.out[o] = pool_alloc(pool.len, sizeof(float));
    pool.out_start[o] = pool_alloc(pool.len, sizeof(float));
    /* the third output starts non-negative: Adam's v */
    fill_uniform(pool.out_start[o], pool.len, o == 2 ? 0.0f : -3.0f, 3.0f, seed++);
  }
  pool.labels = pool_alloc(pool.len, sizeof(int32_t));
  pool.rows = pool_alloc(pool.len, sizeof(double));
}

static enum domain domain_of(enum rg_input_dist d) {
  return d == RG_D_POS ? POS : d == RG_D_UNIT ? UNIT : SIGNED;
}

/* Operands for one slot and shape: elementwise slots see m * n elements;
 * outputs reset, labels in [0, n), the slot's prep applied. Accumulating
 * slots then keep adding to their outputs, which stays finite and normal
 * for any iteration count. */
static struct rg_slot_io io_for(const struct rg_slot_runner *r, const struct rg_kernels *k,
                                const struct shape *sh) {
  struct rg_slot_io io = {.m = r->rows ? sh->m : 1, .n = r->rows ? sh->n : sh->m * sh->n,
                          .k = sh->k, .ta = sh->ta, .tb = sh->tb, .acc = sh->acc,
                          .labels = pool.labels, .key = bench_key, .rows = pool.rows};
  size_t bytes = (size_t)(sh->m * sh->n) * sizeof(float);
  for (int i = 0; i < INPUTS; i++) {
    io.in[i] = pool.in[i][domain_of(i < r->n_in ? r->dist[i] : RG_D_SMALL)];
    if (r->prep) io.in[i] = memcpy(pool.scratch[i], io.in[i], (size_t)pool.len * sizeof(float));
  }
  for (int o = 0; o < 3; o++) io.out[o] = memcpy(pool.out[o], pool.out_start[o], bytes);
  for (int64_t row = 0; row < io.m; row++) pool.labels[row] = (int32_t)((row * 7) % io.n);
  if (r->prep) r->prep(k, &io);
  return io;
}

struct bench_case {
  const struct rg_slot_runner *slot;
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
  struct rg_slot_io io = io_for(c->slot, c->table, c->shape);
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
  for (int s = 0; s < RG_SLOT_COUNT; s++)
    cases += shape_sets[rg_slot_runners[s]->set].count * isas;
  struct bench_case *c = calloc((size_t)cases, sizeof *c);
  if (!c) return 1;
  for (int s = 0; s < RG_SLOT_COUNT; s++) {
    const struct rg_slot_runner *r = rg_slot_runners[s];
    for (int i = 0; i < shape_sets[r->set].count; i++)
      for (int t = 0; t < isas; t++, c++) {
        *c = (struct bench_case){r, tables[t], &shape_sets[r->set].v[i]};
        char name[128];
        snprintf(name, sizeof name, "%s/%s/%s", c->slot->slot, c->table->isa, c->shape->size);
        rg_bench_register(name, bench_case, c);
      }
  }
  return rg_bench_main(argc, argv);
}
