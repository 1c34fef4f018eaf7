/* libFuzzer target: resuming training from a checkpoint with arbitrary
 * train state. A small run (an MLP 4-3-2, Adam, the EMA clipper with the
 * z-score skip, early stopping's best weights, a batcher, the trainer) loads
 * the input as its checkpoint and, when the load succeeds, trains for at
 * most 3 steps. The first byte is a mode: bit 0 rewrites every section's CRC
 * so mutations reach the state records' range checks. A load either fails
 * cleanly (RG_EFORMAT, RG_ESHAPE, RG_EIO, RG_ENOMEM, the context usable) or
 * gives a state from which training runs or stops with a clean error,
 * without a hang (huge epochs or steps), a crash or an overflow. The seed
 * resume/valid is a checkpoint of this run after 5 steps. */
#include <string.h>

#include "fuzz_common.h"
#include "regrad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROWS 12

static int steps_left;
static bool three_steps(const rg_step_info *s, void *user) {
  (void)s, (void)user;
  return --steps_left > 0;
}

typedef struct run {
  rg_ctx *ctx;
  rg_mlp *mlp;
  rg_optim *opt;
  rg_trainer *t;
  rg_dataset ds;
  float x[ROWS * 4];
  int32_t y[ROWS];
} run;

static bool open_run(run *r) {
  rg_config cfg = {.seed = 3, .mem_limit = 8u << 20};
  r->ctx = rg_ctx_new(&cfg);
  if (!r->ctx) return false;
  for (int i = 0; i < ROWS * 4; i++) r->x[i] = (float)(i % 7) * 0.25f - 0.5f;
  for (int i = 0; i < ROWS; i++) r->y[i] = i % 2;
  r->ds = (rg_dataset){.n = ROWS, .features = 4, .rows = 2, .cols = 2, .classes = 2,
                       .x = r->x, .y = r->y};
  r->mlp = rg_mlp_new(r->ctx, "mlp", &(rg_mlp_config){.in = 4, .out = 2, .hidden = 1,
                                                      .widths = {3}, .activation = RG_TANH,
                                                      .batch_norm = true, .dropout = 0.2f});
  r->opt = rg_optim_new(r->ctx, &(rg_optim_config){.kind = RG_ADAM, .lr = 0.01f});
  rg_optim_add_all(r->opt);
  rg_trainer_config c = {.batch = 4, .epochs = 1000, .seed = 2,
                         .schedule = {.kind = RG_SCHED_COSINE, .lr0 = 0.01f, .warmup_steps = 2},
                         .clip = {.mode = RG_CLIP_EMA, .nonfinite = RG_NONFINITE_SKIP,
                                  .ema = {.factor = 2, .beta = 0.9f, .warmup = 2, .z_threshold = 3}},
                         .early_stop = 3, .on_step = three_steps};
  r->t = rg_trainer_new(r->mlp, r->opt, &r->ds, &r->ds, &c);
  return r->t != NULL;
}

static void close_run(run *r) {
  rg_trainer_free(r->t);
  rg_optim_free(r->opt);
  rg_mlp_free(r->mlp);
  rg_ctx_free(r->ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz_file f;
  const char *path = fuzz_checkpoint_file(&f, data, size);
  if (!path) return 0;
  run r = {0};
  if (!open_run(&r)) abort();
  rg_status st = rg_checkpoint_load(r.ctx, path, NULL);
  if (st != RG_OK && st != RG_EFORMAT && st != RG_ESHAPE && st != RG_EIO && st != RG_ENOMEM)
    abort();
  fuzz_expect_clean(r.ctx, "rg_checkpoint_load");
  if (st == RG_OK) {
    steps_left = 3;
    int64_t before = rg_trainer_steps(r.t);
    st = rg_trainer_run(r.t, NULL);
    if (st != RG_OK && st != RG_ENONFINITE && st != RG_EOVERFLOW) abort();
    if (rg_trainer_steps(r.t) - before > 3) abort();
  }
  close_run(&r);
  return 0;
}

/* Writes the seed resume/valid when REGRAD_FUZZ_SEED names a path: a
 * checkpoint of this run after 5 steps. */
__attribute__((constructor)) static void write_seed(void) {
  const char *path = getenv("REGRAD_FUZZ_SEED");
  if (!path) return;
  run r = {0};
  if (!open_run(&r)) abort();
  steps_left = 5;
  rg_trainer_run(r.t, NULL);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.ckpt", path);
  if (rg_checkpoint_save(r.ctx, tmp, NULL) != RG_OK) abort();
  FILE *in = fopen(tmp, "rb"), *out = fopen(path, "wb");
  if (!in || !out) abort();
  fputc(0, out);
  for (int c; (c = fgetc(in)) != EOF;) fputc(c, out);
  fclose(in);
  fclose(out);
  remove(tmp);
  close_run(&r);
  exit(0);
}
