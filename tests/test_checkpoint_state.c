/* What checkpoints carry besides the tensors: the state records of
 * optimizers, EMA clippers and batchers (restored bit for bit, checked for
 * range and for the objects present), the context's attributes, loading the
 * model alone, and reading an attribute without loading. */
#define RG_TEST_MAIN
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/bytes.h"
#include "core/internal.h"
#include "helpers.h"

static char dir[64];

static void setup(void) { th_tempdir(dir, "ckstate"); }

static void teardown(void) { th_rmtree(dir); }

/* A model with an SGD optimizer (momentum), an EMA clipper and a batcher
 * over a small dataset: every kind of state record. */
typedef struct rig {
  rg_ctx *ctx;
  rg_tensor *w;
  rg_optim *opt;
  rg_ema_clipper *ema;
  rg_dataset ds;
  rg_batcher *batches;
  float x[40];
  int32_t y[10];
} rig;

static void rig_open(rig *r, uint64_t seed) {
  memset(r, 0, sizeof *r);
  r->ctx = th_ctx(seed);
  r->w = rg_param_new(r->ctx, "w", rg_shape2(2, 4), NULL);
  r->opt = rg_optim_new(r->ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.1f, .momentum = 0.9f});
  rg_optim_add_all(r->opt);
  r->ema = rg_ema_clipper_new(r->ctx, &(rg_ema_clip_config){2.0f, 0.9f, 2, 3.0f, 0});
  for (int i = 0; i < 40; i++) r->x[i] = (float)i;
  for (int i = 0; i < 10; i++) r->y[i] = i % 2;
  r->ds = (rg_dataset){.n = 10, .features = 4, .rows = 2, .cols = 2, .classes = 2, .x = r->x,
                       .y = r->y};
  r->batches = rg_batcher_new(r->ctx, &r->ds, 3, true, 7);
  cr_assert_eq(rg_ctx_status(r->ctx), RG_OK, "%s", rg_ctx_message(r->ctx));
}

static void rig_close(rig *r) {
  rg_batcher_free(r->batches);
  rg_ema_clipper_free(r->ema);
  rg_optim_free(r->opt);
  rg_ctx_free(r->ctx);
}

/* One step: a batch, a gradient from it, clipping and the update. Returns
 * the first label of the batch (the data order). */
static int32_t rig_step(rig *r) {
  const float *x;
  const int32_t *y;
  int64_t rows = rg_batcher_next(r->batches, &x, &y);
  if (rows == 0) rows = rg_batcher_next(r->batches, &x, &y);
  cr_assert_gt(rows, 0);
  for (int i = 0; i < 8; i++) rg_tensor_grad(r->w)[i] = x[i % (rows * 4)] * 0.01f;
  rg_clip_result c;
  cr_assert_eq(rg_ema_clip(r->ema, &r->w, 1, &(rg_clip_opts){.defer_scale = true}, &c), RG_OK);
  if (!c.skip) cr_assert_eq(rg_optim_step(r->opt, 0.1f, c.scale), RG_OK);
  return y[0];
}

Test(checkpoint_state, resume_continues_bit_for_bit, .init = setup, .fini = teardown) {
  char path[128];
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  rig a, b;
  rig_open(&a, 1);
  for (int i = 0; i < 7; i++) rig_step(&a);
  cr_assert_eq(rg_checkpoint_save(a.ctx, path, NULL), RG_OK, "%s", rg_ctx_message(a.ctx));
  rig_open(&b, 1);
  cr_assert_eq(rg_checkpoint_load(b.ctx, path, NULL), RG_OK, "%s", rg_ctx_message(b.ctx));
  cr_assert_eq(rg_optim_steps(b.opt), rg_optim_steps(a.opt));
  cr_assert_eq(rg_batcher_epoch(b.batches), rg_batcher_epoch(a.batches));
  for (int i = 0; i < 9; i++) cr_assert_eq(rig_step(&b), rig_step(&a), "data order at step %d", i);
  cr_assert(!memcmp(rg_tensor_data(a.w), rg_tensor_data(b.w), 8 * sizeof(float)),
            "the resumed run differs");
  /* The EMA statistics came back too: both clippers agree on the next norm. */
  rg_clip_result ra, rb;
  rg_tensor_grad(a.w)[0] = rg_tensor_grad(b.w)[0] = 5.0f;
  rg_ema_clip(a.ema, &a.w, 1, NULL, &ra);
  rg_ema_clip(b.ema, &b.w, 1, NULL, &rb);
  cr_assert(ra.scale == rb.scale && ra.skip == rb.skip);
  rig_close(&a);
  rig_close(&b);
}

/* Rewrites the payload of state record `name` in the file at path through
 * edit and fixes the section's CRC. */
static void edit_state(const char *path, const char *name, void (*edit)(uint8_t *rec)) {
  FILE *f = fopen(path, "r+b");
  cr_assert(f);
  static uint8_t buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  size_t len = strlen(name);
  uint8_t *at = NULL;
  for (size_t i = 0; i + 16 + len < n && !at; i++)
    if (!memcmp(buf + i, "STAT", 4) && rg_get_u32(buf + i + 12) == len &&
        !memcmp(buf + i + 16, name, len))
      at = buf + i;
  cr_assert(at, "no record %s", name);
  uint64_t plen = rg_get_u64(at + 4);
  edit(at + 16 + len);
  rg_put_u32(at + 12 + plen, (uint32_t)crc32(crc32(0, NULL, 0), at, (uInt)(12 + plen)));
  rewind(f);
  cr_assert_eq(fwrite(buf, 1, n, f), n);
  fclose(f);
}

static void negative_steps(uint8_t *rec) { rg_put_u64(rec, (uint64_t)-5); }
static void nan_mean(uint8_t *rec) { rg_put_f64(rec, NAN); }
static void huge_epoch(uint8_t *rec) { rg_put_u64(rec + 24, (uint64_t)INT64_MAX); }
static void other_seed(uint8_t *rec) { rg_put_u64(rec, 8); }

Test(checkpoint_state, records_are_range_checked, .init = setup, .fini = teardown) {
  char path[128];
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  const struct {
    const char *name;
    void (*edit)(uint8_t *);
    rg_status code;
    const char *needle;
  } cases[] = {
      {"optim.0", negative_steps, RG_EFORMAT, "state \"optim.0\": step count -5"},
      {"ema_clipper.0", nan_mean, RG_EFORMAT, "state \"ema_clipper.0\": mean nan"},
      {"batcher.0", huge_epoch, RG_EFORMAT, "epoch 9223372036854775807"},
      {"batcher.0", other_seed, RG_ESHAPE, "the file's batcher has seed 8"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rig a;
    rig_open(&a, 1);
    for (int s = 0; s < 3; s++) rig_step(&a);
    cr_assert_eq(rg_checkpoint_save(a.ctx, path, NULL), RG_OK);
    edit_state(path, cases[i].name, cases[i].edit);
    float before[8];
    memcpy(before, rg_tensor_data(a.w), sizeof before);
    int64_t steps = rg_optim_steps(a.opt);
    cr_assert_eq(rg_checkpoint_load(a.ctx, path, NULL), cases[i].code, "%s", rg_ctx_message(a.ctx));
    cr_assert(strstr(rg_ctx_message(a.ctx), cases[i].needle), "%s", rg_ctx_message(a.ctx));
    cr_assert(!memcmp(before, rg_tensor_data(a.w), sizeof before) && rg_optim_steps(a.opt) == steps,
              "a refused load changed the context");
    rig_close(&a);
  }
}

Test(checkpoint_state, missing_and_extra_records_are_named, .init = setup, .fini = teardown) {
  char path[128];
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  rig a;
  rig_open(&a, 1);
  cr_assert_eq(rg_checkpoint_save(a.ctx, path, NULL), RG_OK);
  rg_ema_clipper *second = rg_ema_clipper_new(a.ctx, &(rg_ema_clip_config){2, 0.9f, 0, 0, 0});
  cr_assert_eq(rg_checkpoint_load(a.ctx, path, NULL), RG_ESHAPE);
  cr_assert(strstr(rg_ctx_message(a.ctx), "state \"ema_clipper.1\" of the context is missing"),
            "%s", rg_ctx_message(a.ctx));
  rg_ctx_clear_error(a.ctx);
  rg_ema_clipper_free(second);
  rg_ema_clipper_free(a.ema);
  a.ema = NULL;
  cr_assert_eq(rg_checkpoint_load(a.ctx, path, NULL), RG_ESHAPE);
  cr_assert(strstr(rg_ctx_message(a.ctx), "state \"ema_clipper.0\" is extra in the file"), "%s",
            rg_ctx_message(a.ctx));
  rg_ctx_clear_error(a.ctx);
  /* The model alone loads whatever else the file holds. */
  cr_assert_eq(rg_checkpoint_load_model(a.ctx, path), RG_OK, "%s", rg_ctx_message(a.ctx));
  rig_close(&a);
}

Test(checkpoint_state, attributes_round_trip_and_read_alone, .init = setup, .fini = teardown) {
  char path[128], buf[64];
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  rg_ctx *a = th_ctx(1);
  cr_assert(rg_param_new(a, "w", rg_shape1(3), NULL));
  cr_assert_eq(rg_ctx_set_attr(a, "model", "mlp 784-256-10 relu"), RG_OK);
  cr_assert_eq(rg_ctx_set_attr(a, "note", "first"), RG_OK);
  cr_assert_eq(rg_ctx_set_attr(a, "note", "second"), RG_OK);
  cr_assert_eq(rg_ctx_set_attr(a, "gone", "x"), RG_OK);
  cr_assert_eq(rg_ctx_set_attr(a, "gone", NULL), RG_OK);
  cr_assert_null(rg_ctx_attr(a, "gone"));
  cr_assert_eq(rg_checkpoint_save(a, path, NULL), RG_OK);
  cr_assert_eq(rg_checkpoint_read_attr(a, path, "model", buf, sizeof buf), RG_OK);
  cr_assert_str_eq(buf, "mlp 784-256-10 relu");
  cr_assert_eq(rg_checkpoint_read_attr(a, path, "model", buf, 5), RG_EOVERFLOW);
  rg_ctx_clear_error(a);
  cr_assert_eq(rg_checkpoint_read_attr(a, path, "gone", buf, sizeof buf), RG_ERANGE);
  cr_assert(strstr(rg_ctx_message(a), "has no attribute \"gone\""), "%s", rg_ctx_message(a));
  rg_ctx_clear_error(a);
  rg_ctx *b = th_ctx(2);
  cr_assert(rg_param_new(b, "w", rg_shape1(3), NULL));
  cr_assert_eq(rg_checkpoint_load(b, path, NULL), RG_OK, "%s", rg_ctx_message(b));
  cr_assert_str_eq(rg_ctx_attr(b, "note"), "second");
  cr_assert_str_eq(rg_ctx_attr(b, "model"), "mlp 784-256-10 relu");
  /* Bad keys and values. */
  char big[65538];
  memset(big, 'v', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  cr_assert_eq(rg_ctx_set_attr(b, "", "x"), RG_EINVAL);
  rg_ctx_clear_error(b);
  cr_assert_eq(rg_ctx_set_attr(b, NULL, "x"), RG_EINVAL);
  rg_ctx_clear_error(b);
  cr_assert_eq(rg_ctx_set_attr(b, "k", big), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(b), "rg_ctx_set_attr: the value of \"k\""), "%s",
            rg_ctx_message(b));
  rg_ctx_free(a);
  rg_ctx_free(b);
}
