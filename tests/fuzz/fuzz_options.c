/* libFuzzer target: the options structs of the API as raw bytes. The first
 * byte picks a struct (gradcheck options, clip options, EMA clipper, optimizer,
 * schedule, trainer, MLP); the rest fills it (pointers are cleared). Every
 * value must be used as valid or refused with RG_EINVAL naming the function,
 * never crash, hang or leave the context unusable (NaN tolerances crashed
 * rg_gradcheck; a negative one passed having checked nothing). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "fuzz_common.h"
#include "regrad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct bench {
  rg_ctx *ctx;
  rg_tensor *w, *b;
  rg_dataset ds;
  float x[16];
  int32_t y[4];
} bench;

static rg_tensor *loss_fn(rg_ctx *ctx, void *user) {
  bench *e = user;
  return rg_sum(ctx, rg_tanh(ctx, rg_add(ctx, e->w, e->b)));
}

static int steps_left;
static bool two_steps(const rg_step_info *s, void *user) {
  (void)s, (void)user;
  return --steps_left > 0;
}

#define FILL(var, from, n) memcpy(&(var), from, (n) < sizeof(var) ? (n) : sizeof(var))
/* A bool filled from a byte must hold 0 or 1 before it is read. */
#define FIX_BOOL(var, field)                                      \
  do {                                                            \
    unsigned char *raw_ = (unsigned char *)&(var).field;          \
    *raw_ &= 1;                                                   \
  } while (0)

static void check_status(rg_ctx *ctx, rg_status st, const char *fn) {
  if (st != RG_OK && st != RG_EINVAL && st != RG_ENOMEM && st != RG_EOVERFLOW &&
      st != RG_ENONFINITE && st != RG_ESHAPE)
    abort();
  fuzz_expect_clean(ctx, fn);
}

static void try_trainer(bench *e, const uint8_t *p, size_t n) {
  rg_trainer_config c = {0};
  FILL(c, p, n);
  c.save_path = NULL; /* pointers cannot come from bytes */
  c.on_step = two_steps;
  c.on_epoch = NULL;
  c.user = NULL;
  FIX_BOOL(c, diagnostics);
  rg_mlp *m = rg_mlp_new(e->ctx, "t", &(rg_mlp_config){.in = 4, .out = 2, .activation = RG_RELU});
  rg_optim *o = rg_optim_new(e->ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.1f});
  rg_trainer *t = m && o ? rg_trainer_new(m, o, &e->ds, &e->ds, &c) : NULL;
  if (t) {
    steps_left = 2;
    rg_status st = rg_trainer_run(t, NULL);
    if (st != RG_OK && st != RG_ENONFINITE) abort();
  }
  /* The trainer makes a clipper, a batcher, diagnostics: any of them may
   * be the one that names a bad field. */
  check_status(e->ctx, rg_ctx_status(e->ctx), "rg_");
  rg_trainer_free(t);
  rg_optim_free(o);
  rg_mlp_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  bench e = {0};
  rg_config cfg = {.seed = 1, .mem_limit = 4u << 20};
  e.ctx = rg_ctx_new(&cfg);
  e.w = rg_param_new(e.ctx, "w", rg_shape1(4), (const float[]){0.1f, -0.2f, 0.3f, 0.5f});
  e.b = rg_param_new(e.ctx, "b", rg_shape1(4), (const float[]){0.0f, 0.1f, 0.2f, -0.1f});
  for (int i = 0; i < 16; i++) e.x[i] = (float)i / 16.0f;
  for (int i = 0; i < 4; i++) e.y[i] = i % 2;
  e.ds = (rg_dataset){.n = 4, .features = 4, .rows = 2, .cols = 2, .classes = 2, .x = e.x, .y = e.y};
  rg_tensor *ps[2] = {e.w, e.b};
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  rg_tensor_grad(e.w)[0] = 1.0f;
  switch (data[0] % 7) {
    case 0: {
      rg_gradcheck_opts o = {0};
      FILL(o, p, n);
      if (o.max_elems > 4) o.max_elems = 4; /* keep each input fast; negatives stay */
      check_status(e.ctx, rg_gradcheck(e.ctx, loss_fn, &e, ps, 2, &o, NULL), "rg_gradcheck");
      break;
    }
    case 1: {
      rg_clip_opts o = {0};
      FILL(o, p, n);
      FIX_BOOL(o, defer_scale);
      check_status(e.ctx, rg_clip_grad_norm(e.ctx, ps, 2, 1.0f, 2.0f, &o, NULL), "rg_clip_grad_norm");
      break;
    }
    case 2: {
      rg_ema_clip_config c = {0};
      FILL(c, p, n);
      rg_ema_clipper *k = rg_ema_clipper_new(e.ctx, &c);
      for (int i = 0; k && i < 3; i++) rg_ema_clip(k, ps, 2, NULL, NULL);
      check_status(e.ctx, rg_ctx_status(e.ctx), k ? "rg_ema_clip" : "rg_ema_clipper_new");
      rg_ema_clipper_free(k);
      break;
    }
    case 3: {
      rg_optim_config c = {0};
      FILL(c, p, n);
      FIX_BOOL(c, nesterov);
      FIX_BOOL(c, decoupled);
      FIX_BOOL(c, decay_schedule_only);
      FIX_BOOL(c, zero_grad);
      rg_optim *o = rg_optim_new(e.ctx, &c);
      if (o && rg_optim_add_all(o) == RG_OK) rg_optim_step(o, 0.1f, 1.0f);
      check_status(e.ctx, rg_ctx_status(e.ctx), o ? "rg_optim" : "rg_optim_new");
      rg_optim_free(o);
      break;
    }
    case 4: {
      rg_schedule s = {0};
      FILL(s, p, n);
      if (rg_schedule_check(e.ctx, &s) == RG_OK)
        for (int64_t t = 0; t < 1000; t += 97)
          if (!(rg_schedule_lr(&s, t) >= 0.0f)) abort();
      check_status(e.ctx, rg_ctx_status(e.ctx), "rg_schedule_check");
      break;
    }
    case 5: try_trainer(&e, p, n); break;
    default: {
      rg_mlp_config c = {0};
      FILL(c, p, n);
      FIX_BOOL(c, batch_norm);
      rg_mlp *m = rg_mlp_new(e.ctx, "m", &c);
      check_status(e.ctx, rg_ctx_status(e.ctx), "rg_mlp_new");
      rg_mlp_free(m);
    }
  }
  rg_ctx_free(e.ctx);
  return 0;
}
