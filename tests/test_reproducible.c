/* The reproducibility contract on a whole run: an MLP with batch norm,
 * dropout and an L2 penalty, 200 SGD steps, gives byte-identical parameters
 * on every ISA this machine runs, with 1 and 2 threads, and the same hash as
 * the golden file recorded on x86 (tests/golden/run200.txt), so aarch64 is
 * held to the same bits. REGRAD_WRITE_GOLDEN=1 rewrites the golden file. */
#define RG_TEST_MAIN
#include <inttypes.h>

#include "helpers.h"

#define BATCH 64
#define IN 96
#define CLASSES 10
#define STEPS 200

static uint64_t fnv1a(uint64_t h, const void *p, size_t len) {
  const unsigned char *b = p;
  for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* Synthetic, learnable data: labels are the argmax of a fixed projection. */
static void make_batch(int step, float *x, int32_t *y) {
  static float proj[IN * CLASSES];
  th_fill(proj, IN * CLASSES, 77, -1, 1);
  th_fill(x, BATCH * IN, 1000 + (uint64_t)step, -1, 1);
  for (int r = 0; r < BATCH; r++) {
    float best = -1e30f;
    for (int c = 0; c < CLASSES; c++) {
      float s = 0;
      for (int i = 0; i < IN; i++) s += x[r * IN + i] * proj[i * CLASSES + c];
      if (s > best) best = s, y[r] = c;
    }
  }
}

/* Trains and returns the hash of every parameter and buffer. */
static uint64_t train_hash(const char *isa, int threads, float *final_loss) {
  rg_config cfg = {.seed = 2024, .isa = isa, .threads = threads};
  rg_ctx *ctx = rg_ctx_new(&cfg);
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  rg_mlp_config mc = {.in = IN, .out = CLASSES, .hidden = 2, .widths = {128, 128},
                      .activation = RG_RELU, .batch_norm = true, .dropout = 0.2f};
  rg_mlp *m = rg_mlp_new(ctx, "mlp", &mc);
  rg_optim *opt = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.05f,
                                                       .momentum = 0.9f});
  rg_optim_add_all(opt);
  rg_tensor *weights[3] = {rg_mlp_weight(m, 0), rg_mlp_weight(m, 1), rg_mlp_weight(m, 2)};
  static float x[BATCH * IN];
  int32_t y[BATCH];
  for (int step = 0; step < STEPS; step++) {
    make_batch(step, x, y);
    rg_tensor *logits = rg_mlp_forward(m, rg_tensor_new(ctx, rg_shape2(BATCH, IN), x));
    rg_tensor *loss = rg_add(ctx, rg_cross_entropy(ctx, logits, y, 0.0f),
                             rg_l2_penalty(ctx, weights, 3, 1e-3f));
    cr_assert_eq(rg_backward(ctx, loss), RG_OK, "%s", rg_ctx_message(ctx));
    rg_optim_step(opt, 0.05f, 1.0f);
    *final_loss = rg_tensor_data(loss)[0];
    rg_zero_grad(ctx);
    rg_tape_reset(ctx);
  }
  int n;
  rg_tensor *const *all = rg_params(ctx, &n);
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < n; i++)
    h = fnv1a(h, rg_tensor_data(all[i]), (size_t)rg_tensor_numel(all[i]) * sizeof(float));
  rg_optim_free(opt);
  rg_mlp_free(m);
  rg_ctx_free(ctx);
  return h;
}

static const char *golden_path(void) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/tests/golden/run200.txt", RG_SOURCE_ROOT);
  return path;
}

Test(reproducible, whole_run_is_identical_on_every_isa_and_thread_count, .timeout = 600) {
  static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
  float loss;
  uint64_t ref = train_hash("scalar", 1, &loss);
  cr_assert(loss < 1.5f, "the run learns: final loss %g", loss);
  for (unsigned i = 0; i < sizeof isas / sizeof isas[0]; i++) {
    if (!rg_isa_supported(isas[i])) {
      cr_log_info("%s: skipped, not available here", isas[i]);
      continue;
    }
    for (int threads = 1; threads <= 2; threads++) {
      if (i == 0 && threads == 1) continue;
      uint64_t h = train_hash(isas[i], threads, &loss);
      cr_assert_eq(h, ref, "%s with %d threads: %016" PRIx64 " vs scalar %016" PRIx64, isas[i],
                   threads, h, ref);
    }
  }
  if (getenv("REGRAD_WRITE_GOLDEN")) {
    FILE *f = fopen(golden_path(), "w");
    cr_assert(f);
    fprintf(f, "%016" PRIx64 "\n", ref);
    fclose(f);
  }
  FILE *f = fopen(golden_path(), "r");
  cr_assert(f, "missing %s", golden_path());
  uint64_t golden = 0;
  cr_assert_eq(fscanf(f, "%" SCNx64, &golden), 1);
  fclose(f);
  cr_assert_eq(ref, golden, "run hash %016" PRIx64 " differs from the x86 golden %016" PRIx64, ref,
               golden);
}
