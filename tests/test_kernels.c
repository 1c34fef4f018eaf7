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
#include "slot_runners.h"

#define MAXN 4200
#define PAD 1 /* floats: every buffer starts one float past 64-byte alignment */

/* The double results of the sums of squares: sumsq's return value, and
 * grad_stats' row sums and statistics (with rows stored, and without). */
#define MAXROWS 64
struct wide {
  double ret;
  double rows[MAXROWS];
  struct rg_grad_stats stats[2];
};

/* A runner's operands (slot_runners.h), the seed they are drawn from, and
 * the row sums of squares grad_stats writes. */
struct io {
  struct rg_slot_io r;
  uint64_t seed;
  double rows[MAXROWS];
};

/* The double results of a run. */
static struct wide wide_of(const struct io *io) {
  struct wide w = {.ret = io->r.dret, .stats = {io->r.stats[0], io->r.stats[1]}};
  memcpy(w.rows, io->rows, sizeof w.rows);
  return w;
}

static uint64_t rng_next(uint64_t *s) {
  *s += 0x9E3779B97F4A7C15ull;
  uint64_t z = *s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static float rng_unit(uint64_t *s) { return (float)(rng_next(s) >> 40) * 0x1p-24f; }

/* Values spread over many magnitudes, with zeros of both signs, infinities
 * and NaNs sprinkled in for RG_D_ANY. */
static float draw(uint64_t *s, enum rg_input_dist d) {
  float u = rng_unit(s);
  switch (d) {
    case RG_D_POS: return ldexpf(0.5f + u, (int)(rng_next(s) % 16) - 8);
    case RG_D_UNIT: return u;
    case RG_D_SMALL: return 4.0f * u - 2.0f;
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
 * also elements of any finite magnitude and +-FLT_MAX, in a quarter RG_D_ANY's
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
      p[i] = draw(s, RG_D_ANY);
    } else { /* one draw a statement: the same order on every compiler */
      float m = sign * (0.5f + 0.5f * rng_unit(s));
      p[i] = ldexpf(m, e + (int)(rng_next(s) % 24) - 12);
    }
  }
}

static void fill(float *p, int64_t n, uint64_t *s, enum rg_input_dist d) {
  if (d == RG_D_WIDE) {
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


/* The slots whose results are doubles, in io->wide. */
static float *buf_at(float *base, int slot) { return base + PAD + (int64_t)slot * (4 * MAXN + 64); }

/* Runs one case with a table, writing into outputs pre-filled from the seed. */
static void run_with(const struct rg_slot_runner *c, const struct rg_kernels *k, struct io *io,
                     float *outbase) {
  uint64_t s = io->seed ^ 0xABCDEFull;
  for (int o = 0; o < 3; o++) {
    io->r.out[o] = buf_at(outbase, o);
    /* The third output is Adam's second moment, which must be >= 0. */
    fill(io->r.out[o], 4 * MAXN, &s, o == 2 ? RG_D_POS : RG_D_SMALL);
  }
  io->r.key = (struct rg_rng_key){io->seed, io->seed % 7, (int64_t)(io->seed % 13)};
  io->r.ret = 0.0f;
  io->r.dret = 0.0;
  memset(io->r.stats, 0, sizeof io->r.stats);
  memset(io->rows, 0, sizeof io->rows);
  io->r.rows = io->rows;
  if (c->prep) c->prep(k, &io->r);
  c->run(k, &io->r);
  if (c->more) c->more(k, &io->r);
}

static void prepare_inputs(const struct rg_slot_runner *c, struct io *io, float *inbase,
                           int32_t *labels) {
  uint64_t s = io->seed;
  for (int i = 0; i < 6; i++) {
    io->r.in[i] = buf_at(inbase, i);
    fill(io->r.in[i], 4 * MAXN, &s, i < c->n_in ? c->dist[i] : RG_D_SMALL);
  }
  for (int64_t r = 0; r < 64; r++) labels[r] = (int32_t)(rng_next(&s) % (uint64_t)io->r.n);
  io->r.labels = labels;
}

static int64_t compare(const float *a, const float *b, int64_t len) {
  for (int64_t i = 0; i < len; i++)
    if (!same_float(a[i], b[i])) return i;
  return -1;
}

static void check_case(const struct rg_slot_runner *c, enum rg_isa isa, int64_t m, int64_t n, int64_t kk,
                       uint64_t seed) {
  static float inbase[6 * (4 * MAXN + 64) + 64], ref[3 * (4 * MAXN + 64) + 64],
      got[3 * (4 * MAXN + 64) + 64];
  static int32_t labels[64];
  struct io io = {.r = {.n = n, .m = m, .k = kk, .acc = 1}, .seed = seed};
  prepare_inputs(c, &io, inbase, labels);
  run_with(c, &rg_kernels_scalar, &io, ref);
  float ref_ret = io.r.ret;
  struct wide ref_wide = wide_of(&io);
  prepare_inputs(c, &io, inbase, labels); /* prep may have planted values */
  run_with(c, rg_isa_table(isa), &io, got);
  cr_assert(same_float(ref_ret, io.r.ret), "%s on %s: n=%lld returns %a, scalar %a", c->slot,
            rg_isa_name(isa), (long long)n, io.r.ret, ref_ret);
  struct wide got_wide = wide_of(&io);
  const char *bad_wide = c->wide ? wide_diff(&ref_wide, &got_wide, m) : NULL;
  cr_assert(!bad_wide, "%s on %s: m=%lld n=%lld: %s differs from scalar (sumsq %a vs %a)",
            c->slot, rg_isa_name(isa), (long long)m, (long long)n, bad_wide, got_wide.ret,
            ref_wide.ret);
  for (int o = 0; o < 3; o++) {
    int64_t bad = compare(buf_at(ref, o), buf_at(got, o), 4 * MAXN);
    cr_assert(bad < 0, "%s on %s: m=%lld n=%lld k=%lld output %d differs at %lld: %a vs scalar %a",
              c->slot, rg_isa_name(isa), (long long)m, (long long)n, (long long)kk, o,
              (long long)bad, buf_at(got, o)[bad], buf_at(ref, o)[bad]);
  }
}

static void check_all_sizes(const struct rg_slot_runner *c, enum rg_isa isa) {
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
  static int idx[RG_SLOT_COUNT];
  for (int i = 0; i < RG_SLOT_COUNT; i++) idx[i] = i;
  return cr_make_param_array(int, idx, RG_SLOT_COUNT);
}

ParameterizedTest(int *i, kernels, bit_identical) {
  const struct rg_slot_runner *c = rg_slot_runners[*i];
  for (int isa = 0; isa < RG_ISA_COUNT; isa++) {
    if (isa == RG_ISA_SCALAR) continue;
    if (!rg_isa_usable(isa)) {
      if (rg_isa_table(isa)) cr_log_info("%s: skipped, CPU lacks it", rg_isa_name(isa));
      continue;
    }
    check_all_sizes(c, isa);
  }
}

/* The runner list (slot_runners.h, in kernels.def order) names every slot
 * of kernels.def exactly once. */
Test(kernels, every_slot_has_a_case) {
  for (int s = 0; s < RG_SLOT_COUNT; s++) {
    int found = 0;
    for (int i = 0; i < RG_SLOT_COUNT; i++)
      found += strcmp(rg_slot_runners[i]->slot, rg_slot_names[s]) == 0;
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
static uint64_t case_hash(const struct rg_slot_runner *c, const struct rg_kernels *k) {
  static float inbase[6 * (4 * MAXN + 64) + 64], out[3 * (4 * MAXN + 64) + 64];
  static int32_t labels[64];
  struct io io = {.r = {.n = 37, .m = 3, .k = 19, .acc = 1}, .seed = 777};
  prepare_inputs(c, &io, inbase, labels);
  run_with(c, k, &io, out);
  uint64_t h = 0xcbf29ce484222325ull;
  for (int o = 0; o < 3; o++)
    for (int64_t i = -1; i < 4 * MAXN; i++) {
      float v = i < 0 ? (o == 0 ? io.r.ret : 0.0f) : buf_at(out, o)[i];
      uint32_t u;
      memcpy(&u, &v, sizeof u);
      if (isnan(v)) u = 0x7fc00000u;
      for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xff)) * 0x100000001b3ull;
    }
  if (!c->wide) return h;
  /* The sums of squares: also 16 more inputs of 300 elements, whose scales
   * (fill_wide) reach the subnormal and the past-FLT_MAX squares. */
  struct wide w = wide_of(&io);
  h = wide_hash(h, &w, io.r.m);
  for (uint64_t seed = 1; seed <= 16; seed++) {
    io = (struct io){.r = {.n = 100, .m = 3, .acc = 1}, .seed = seed};
    prepare_inputs(c, &io, inbase, labels);
    run_with(c, k, &io, out);
    w = wide_of(&io);
    h = wide_hash(h, &w, io.r.m);
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
    for (int i = 0; i < RG_SLOT_COUNT; i++)
      fprintf(w, "%s %016llx\n", rg_slot_runners[i]->slot,
              (unsigned long long)case_hash(rg_slot_runners[i], &rg_kernels_scalar));
    fclose(w);
  }
  FILE *f = fopen(path, "r");
  cr_assert(f, "missing %s", path);
  char slot[64];
  unsigned long long want;
  int seen = 0;
  while (fscanf(f, "%63s %llx", slot, &want) == 2) {
    const struct rg_slot_runner *c = NULL;
    for (int i = 0; i < RG_SLOT_COUNT; i++)
      if (!strcmp(rg_slot_runners[i]->slot, slot)) c = rg_slot_runners[i];
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
  cr_assert_eq(seen, RG_SLOT_COUNT, "golden file covers %d of %d slots", seen, RG_SLOT_COUNT);
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
      case RG_RELU: sc->relu_fwd(n, row, row); break;
      case RG_LEAKY_RELU: sc->leaky_relu_fwd(n, ep->alpha, row, row); break;
      case RG_TANH: sc->tanh_fwd(n, row, row); break;
      case RG_SIGMOID: sc->sigmoid_fwd(n, row, row); break;
      case RG_LINEAR: break;
    }
  }
}

/* An m x n x k gemm on every usable ISA against scalar, and the scalar body
 * against plain_gemm, in every layout (ta, tb) and starting value (+0, the
 * bias, C itself, the bias when accumulating), with the first `acts`
 * activations (RG_LINEAR first). */
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
      struct rg_epilogue ep = {start % 2 ? g->bias : NULL, (rg_nonlinearity)act, 0.1f};
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
  fill(a, MAXE, &seed, RG_D_SMALL);
  fill(b, MAXE, &seed, RG_D_SMALL);
  fill(bias, 256, &seed, RG_D_ANY); /* with zeros of both signs, infinities and NaNs */
  fill(c0, 128 * 256, &seed, RG_D_SMALL);
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
  fill(buf, 2 * MAXE, &seed, RG_D_SMALL);
  fill(buf + 2 * MAXE, 1100, &seed, RG_D_ANY);
  fill(buf + 3 * MAXE, MAXE, &seed, RG_D_SMALL);
  struct gemm_operands g = {buf, buf + MAXE, buf + 2 * MAXE, buf + 3 * MAXE, buf + 4 * MAXE,
                            buf + 5 * MAXE};
  for (unsigned s = 0; s < sizeof shapes / sizeof *shapes; s++)
    check_gemm_modes(shapes[s][0], shapes[s][1], shapes[s][2], 1, &g);
  free(buf);
}
