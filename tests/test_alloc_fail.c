/* Out of memory at every allocation site, and the memory limit.
 *
 * Fault injection: the test hook ctx->fail_alloc makes the Nth counted
 * allocation after it is set fail (every heap and dataset allocation of the
 * library asks rg_alloc_allowed first, every arena request
 * rg_alloc_injected, so each op's out-of-memory path is reached too). Each scenario runs on a fresh
 * fixture with N = 1, 2, ... until it completes without reaching N; each
 * failure must be RG_ENOMEM naming a function, leave no leak (LeakSanitizer
 * in the ASan suite), and leave a context in which the same scenario then
 * succeeds. */
#define RG_TEST_MAIN
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include "core/internal.h"
#include "helpers.h"

#define IN 6
#define CLASSES 3
#define BATCH 8

struct fixture {
  rg_ctx *ctx;
  rg_mlp *mlp;
  rg_optim *opt;
  char dir[64], ckpt[96], images[96], labels[96];
};

/* A small IDX pair: 10 images of 2x3 pixels, labels 0..2. */
static void write_idx(const struct fixture *f) {
  static const unsigned char img_head[16] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 0, 3};
  static const unsigned char lab_head[8] = {0, 0, 8, 1, 0, 0, 0, 10};
  FILE *img = fopen(f->images, "wb"), *lab = fopen(f->labels, "wb");
  cr_assert(img && lab);
  fwrite(img_head, 1, sizeof img_head, img);
  fwrite(lab_head, 1, sizeof lab_head, lab);
  for (int i = 0; i < 60; i++) fputc(i * 4, img);
  for (int i = 0; i < 10; i++) fputc(i % 3, lab);
  fclose(img);
  fclose(lab);
}

/* The model of every scenario: an MLP with batch norm and dropout, Adam. A
 * small first arena chunk makes steps grow and merge chunks. */
static rg_status build(struct fixture *f) {
  rg_mlp_config mc = {.in = IN, .out = CLASSES, .hidden = 2, .widths = {16, 8},
                      .activation = RG_TANH, .batch_norm = true, .dropout = 0.25f};
  /* Each part is made once, so a retry after a failure finishes the job. */
  if (!f->mlp) f->mlp = rg_mlp_new(f->ctx, "mlp", &mc);
  if (f->mlp && !f->opt)
    f->opt = rg_optim_new(f->ctx, &(rg_optim_config){.kind = RG_ADAMW, .lr = 1e-2f,
                                                      .weight_decay = 1e-2f});
  if (f->opt) rg_optim_add_all(f->opt);
  return rg_ctx_status(f->ctx);
}

static void fixture_free(struct fixture *f) {
  rg_optim_free(f->opt);
  rg_mlp_free(f->mlp);
  rg_ctx_free(f->ctx);
  f->opt = NULL, f->mlp = NULL, f->ctx = NULL;
}

static void fixture_init(struct fixture *f, bool with_model) {
  *f = (struct fixture){0};
  f->ctx = rg_ctx_new(&(rg_config){.seed = 9, .arena_bytes = 4096});
  cr_assert_eq(rg_ctx_status(f->ctx), RG_OK);
  snprintf(f->dir, sizeof f->dir, "/tmp/rg_alloc_fail.XXXXXX");
  cr_assert(mkdtemp(f->dir));
  snprintf(f->ckpt, sizeof f->ckpt, "%s/model.ckpt", f->dir);
  snprintf(f->images, sizeof f->images, "%s/images", f->dir);
  snprintf(f->labels, sizeof f->labels, "%s/labels", f->dir);
  write_idx(f);
  if (with_model) cr_assert_eq(build(f), RG_OK, "%s", rg_ctx_message(f->ctx));
}

static void fixture_remove(struct fixture *f) {
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  cr_assert_eq(system(cmd), 0);
}

/* One training step: forward, penalty, backward, clipping, update. */
static rg_status train_step(struct fixture *f) {
  rg_ctx *ctx = f->ctx;
  float x[BATCH * IN];
  int32_t y[BATCH];
  th_fill(x, BATCH * IN, 5, -1, 1);
  for (int i = 0; i < BATCH; i++) y[i] = i % CLASSES;
  rg_tape_reset(ctx);
  rg_zero_grad(ctx);
  rg_tensor *w[2] = {rg_mlp_weight(f->mlp, 0), rg_mlp_weight(f->mlp, 1)};
  rg_tensor *logits = rg_mlp_forward(f->mlp, rg_tensor_view(ctx, rg_shape2(BATCH, IN), x));
  rg_tensor *loss =
      rg_add(ctx, rg_cross_entropy(ctx, logits, y, 0.1f), rg_l2_penalty(ctx, w, 2, 1e-3f));
  if (rg_backward(ctx, loss) != RG_OK) return rg_ctx_status(ctx);
  int n;
  rg_tensor *const *params = rg_params(ctx, &n);
  rg_tensor *grads[64];
  int k = 0;
  for (int i = 0; i < n && k < 64; i++)
    if (rg_tensor_is_param(params[i])) grads[k++] = params[i];
  rg_clip_result r;
  rg_clip_grad_norm(ctx, grads, k, 1.0f, 2.0f, NULL, &r);
  rg_optim_step(f->opt, 1e-2f, 1.0f);
  rg_tape_reset(ctx);
  return rg_ctx_status(ctx);
}

static rg_status two_steps(struct fixture *f) {
  train_step(f);
  return train_step(f);
}

static rg_status load_data(struct fixture *f) {
  rg_dataset *ds = rg_dataset_load_idx(f->ctx, f->images, f->labels);
  rg_dataset *train = NULL, *val = NULL;
  rg_dataset_split(f->ctx, ds, 0.3, 1, &train, &val);
  rg_batcher *b = rg_batcher_new(f->ctx, train, 4, true, 1);
  if (ds) rg_standardizer_apply(f->ctx, &(rg_standardizer){0.5f, 0.25f}, ds);
  rg_batcher_free(b);
  rg_dataset_free(train);
  rg_dataset_free(val);
  rg_dataset_free(ds);
  return rg_ctx_status(f->ctx);
}

/* The same pair gzip-compressed: zlib's state is counted memory too. */
static rg_status load_gzip_data(struct fixture *f) {
  char gz[2][300];
  const char *plain[2] = {f->images, f->labels};
  for (int i = 0; i < 2; i++) {
    snprintf(gz[i], sizeof gz[i], "%s.gz", plain[i]);
    FILE *in = fopen(plain[i], "rb");
    gzFile out = gzopen(gz[i], "wb");
    cr_assert(in && out);
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, in);
    cr_assert(gzwrite(out, buf, (unsigned)n) == (int)n && gzclose(out) == Z_OK);
    fclose(in);
  }
  rg_dataset *ds = rg_dataset_load_idx(f->ctx, gz[0], gz[1]);
  rg_dataset_free(ds);
  return rg_ctx_status(f->ctx);
}

static rg_status save_checkpoint(struct fixture *f) {
  return rg_checkpoint_save(f->ctx, f->ckpt, &(rg_train_state){1, 2});
}

/* Loading must leave the weights as they were when it fails. */
static rg_status load_checkpoint(struct fixture *f) {
  float w0 = rg_tensor_data(rg_mlp_weight(f->mlp, 0))[0];
  rg_status s = rg_checkpoint_load(f->ctx, f->ckpt, NULL);
  if (s != RG_OK)
    cr_assert_eq(rg_tensor_data(rg_mlp_weight(f->mlp, 0))[0], w0, "a failed load changed a weight");
  return s;
}

static rg_tensor *tiny_loss(rg_ctx *ctx, void *user) {
  rg_tensor *x = rg_tensor_new(ctx, rg_shape2(2, IN), NULL);
  return rg_sum(ctx, rg_tanh(ctx, rg_mlp_forward(user, x)));
}

static rg_status helpers(struct fixture *f) {
  rg_ctx *ctx = f->ctx;
  rg_diag *d = rg_diag_new(ctx, 0, 0);
  rg_grad_report *rep = rg_grad_report_new(ctx, 3);
  rg_ema_clipper *ema = rg_ema_clipper_new(ctx, &(rg_ema_clip_config){.factor = 2, .beta = 0.9f});
  rg_init_orthogonal(ctx, rg_mlp_weight(f->mlp, 1), 1.0f);
  rg_tensor *w = rg_mlp_weight(f->mlp, 2);
  rg_gradcheck(ctx, tiny_loss, f->mlp, &w, 1, &(rg_gradcheck_opts){1e-2, 1e-3, 1e-2, 2}, NULL);
  rg_diag_free(d);
  rg_grad_report_free(rep);
  rg_ema_clipper_free(ema);
  return rg_ctx_status(ctx);
}

/* The inference snapshot of the trained model, and one prediction. */
static rg_status predictor(struct fixture *f) {
  float x[2 * IN] = {0}, logits[2 * CLASSES];
  rg_predictor *p = rg_predictor_new(f->mlp);
  rg_predict(p, x, 2, logits);
  rg_predictor_free(p);
  return rg_ctx_status(f->ctx);
}

struct scenario {
  const char *what;
  bool with_model; /* build the model before injecting (else it is the scenario) */
  rg_status (*run)(struct fixture *f);
  bool releases; /* a failure gives back every byte it took */
};

static const struct scenario scenarios[] = {
    {"model and optimizer creation", false, build, false},
    {"two training steps", true, two_steps, false},
    {"dataset load, split, batcher, standardizer", true, load_data, true},
    {"gzip dataset load", true, load_gzip_data, true},
    {"checkpoint save", true, save_checkpoint, true},
    {"checkpoint load", true, load_checkpoint, true},
    {"diagnostics, clippers, orthogonal init, gradcheck", true, helpers, false},
    {"inference predictor", true, predictor, true},
};
#define N_SCENARIOS ((int)(sizeof scenarios / sizeof scenarios[0]))

/* Walks every allocation of one scenario; returns how many it has. */
static uint64_t walk(const struct scenario *sc) {
  for (uint64_t n = 1;; n++) {
    struct fixture f;
    fixture_init(&f, sc->with_model);
    if (sc->run == load_checkpoint) cr_assert_eq(save_checkpoint(&f), RG_OK);
    uint64_t held = rg_ctx_stats(f.ctx).heap_bytes;
    f.ctx->fail_alloc = f.ctx->alloc_seen + n;
    rg_status st = sc->run(&f);
    bool reached = f.ctx->alloc_seen >= f.ctx->fail_alloc;
    f.ctx->fail_alloc = 0;
    if (!reached) {
      cr_assert_eq(st, RG_OK, "%s without failures: %s", sc->what, rg_ctx_message(f.ctx));
      fixture_free(&f);
      fixture_remove(&f);
      return n - 1;
    }
    const char *msg = rg_ctx_message(f.ctx);
    cr_assert_eq(st, RG_ENOMEM, "%s, allocation %llu: %s: %s", sc->what, (unsigned long long)n,
                 rg_status_name(st), msg);
    cr_assert(strncmp(msg, "rg_", 3) == 0 && strstr(msg, ": out of memory allocating "),
              "%s, allocation %llu: message \"%s\"", sc->what, (unsigned long long)n, msg);
    if (sc->releases)
      cr_assert_eq(rg_ctx_stats(f.ctx).heap_bytes, held, "%s, allocation %llu kept memory",
                   sc->what, (unsigned long long)n);
    /* The context recovers: the same work now succeeds. */
    rg_ctx_clear_error(f.ctx);
    rg_tape_reset(f.ctx);
    st = sc->run(&f);
    cr_assert_eq(st, RG_OK, "%s after failing allocation %llu: %s", sc->what,
                 (unsigned long long)n, rg_ctx_message(f.ctx));
    if (f.mlp && f.opt) cr_assert_eq(train_step(&f), RG_OK, "%s", rg_ctx_message(f.ctx));
    fixture_free(&f);
    fixture_remove(&f);
  }
}

ParameterizedTestParameters(alloc_fail, every_allocation) {
  static int idx[N_SCENARIOS];
  for (int i = 0; i < N_SCENARIOS; i++) idx[i] = i;
  return cr_make_param_array(int, idx, N_SCENARIOS);
}

ParameterizedTest(int *i, alloc_fail, every_allocation) {
  uint64_t sites = walk(&scenarios[*i]);
  /* A save needs no heap memory (rg_save_atomic keeps its paths on the
   * stack); every other scenario must reach at least one allocation. */
  if (scenarios[*i].run != save_checkpoint)
    cr_assert_gt(sites, 0, "%s allocates", scenarios[*i].what);
  cr_log_info("%s: %llu allocations, each failed once", scenarios[*i].what,
              (unsigned long long)sites);
}

/* ------------------------------------------------------------ mem_limit */

static rg_ctx *limited(size_t limit) {
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 1, .mem_limit = limit, .arena_bytes = 4096});
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  return ctx;
}

static void expect_limit(rg_ctx *ctx, const char *fn) {
  const char *msg = rg_ctx_message(ctx);
  cr_assert_eq(rg_ctx_status(ctx), RG_ENOMEM, "%s", msg);
  cr_assert(strncmp(msg, fn, strlen(fn)) == 0 && strstr(msg, "memory limit exceeded: allocating ") &&
                strstr(msg, "limit of 262144 bytes"),
            "message \"%s\" names %s and the sizes", msg, fn);
  rg_ctx_clear_error(ctx);
}

Test(mem_limit, parameters_transients_and_datasets_respect_it) {
  rg_ctx *ctx = limited(256 << 10);
  cr_assert_null(rg_param_new(ctx, "big", rg_shape2(512, 512), NULL));
  expect_limit(ctx, "rg_param_new");
  cr_assert_null(rg_param_find(ctx, "big"), "nothing half-made");
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape2(64, 64), NULL);
  cr_assert_not_null(w, "%s", rg_ctx_message(ctx));
  cr_assert_null(rg_tensor_new(ctx, rg_shape2(256, 256), NULL));
  expect_limit(ctx, "rg_tensor_new");
  rg_tensor *x = rg_tensor_new(ctx, rg_shape2(8, 64), NULL);
  cr_assert_eq(rg_backward(ctx, rg_sum(ctx, rg_matmul(ctx, x, w, false, false))), RG_OK, "%s",
               rg_ctx_message(ctx));
  cr_assert_leq(rg_ctx_stats(ctx).heap_bytes, 256 << 10);
  /* A dataset must fit in what is left. */
  rg_dataset src = {.n = 1, .features = 1, .rows = 1, .cols = 1, .classes = 1,
                    .x = (float[]){0}, .y = (int32_t[]){0}};
  int64_t *rows = calloc(100000, sizeof *rows);
  cr_assert_null(rg_dataset_subset(ctx, &src, rows, 100000));
  expect_limit(ctx, "rg_dataset_subset");
  rg_dataset *small = rg_dataset_subset(ctx, &src, rows, 100);
  cr_assert_not_null(small, "%s", rg_ctx_message(ctx));
  rg_dataset_free(small);
  free(rows);
  rg_ctx_free(ctx);
  /* A limit below the default first arena chunk (1 MiB) still serves. */
  ctx = rg_ctx_new(&(rg_config){.mem_limit = 64 << 10});
  cr_assert_not_null(rg_tensor_new(ctx, rg_shape1(1000), NULL), "%s", rg_ctx_message(ctx));
  cr_assert_leq(rg_ctx_stats(ctx).heap_bytes, 64 << 10);
  rg_ctx_free(ctx);
}

/* A training step too big for the limit fails cleanly at whichever
 * allocation passes it; a smaller batch then trains. */
Test(mem_limit, training_step_over_the_limit_fails_cleanly) {
  struct fixture f;
  fixture_init(&f, false);
  f.ctx->mem_limit = 256 << 10;
  cr_assert_eq(build(&f), RG_OK, "%s", rg_ctx_message(f.ctx));
  rg_tensor *x = rg_tensor_new(f.ctx, rg_shape2(4096, IN), NULL);
  rg_tensor *logits = rg_mlp_forward(f.mlp, x);
  cr_assert_null(logits);
  expect_limit(f.ctx, "rg_");
  rg_tape_reset(f.ctx);
  cr_assert_eq(two_steps(&f), RG_OK, "%s", rg_ctx_message(f.ctx));
  fixture_free(&f);
  fixture_remove(&f);
}

/* An IDX file whose data (with the dataset made from it) is more than the
 * limit allows fails with RG_ENOMEM naming the loader, the claim and the
 * limit, before reading (or allocating) any of it. */
Test(mem_limit, dataset_load_over_the_limit) {
  struct fixture f;
  fixture_init(&f, false);
  f.ctx->mem_limit = 256 << 10;
  uint64_t held = rg_ctx_stats(f.ctx).heap_bytes;
  FILE *img = fopen(f.images, "wb");
  static const unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0};
  fwrite(head, 1, sizeof head, img);
  for (int i = 0; i < 65536; i++) fputc(0, img); /* one 256 x 256 image */
  fclose(img);
  cr_assert_null(rg_dataset_load_idx(f.ctx, f.images, f.labels));
  const char *msg = rg_ctx_message(f.ctx);
  cr_assert_eq(rg_ctx_status(f.ctx), RG_ENOMEM, "%s", msg);
  cr_assert(strstr(msg, "rg_dataset_load_idx: ") == msg &&
                strstr(msg, "the header claims 65536 bytes of pixel data") &&
                strstr(msg, "memory limit of 262144 bytes"),
            "%s", msg);
  cr_assert_eq(rg_ctx_stats(f.ctx).heap_bytes, held);
  rg_ctx_clear_error(f.ctx);
  cr_assert_not_null(rg_tensor_new(f.ctx, rg_shape1(4), NULL), "%s", rg_ctx_message(f.ctx));
  fixture_free(&f);
  fixture_remove(&f);
}
