/* `regrad gradcheck`: the gradient of the configured model's training
 * objective checked against central differences (rg_gradcheck). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "session.h"
#include "train_data.h"
#include "train_flags.h"

#define ROWS 16       /* the batch checked: at most this many rows */
#define MAX_ELEMS 64  /* elements checked per parameter */

static const char description[] =
    "Checks the gradient of the model the training flags describe (the same flags as\n"
    "`regrad train`: architecture, init, dropout, batch norm, penalty, label\n"
    "smoothing) against central differences in double precision, on the first rows\n"
    "of the training data (at most 16, or --batch): up to 64 elements of every\n"
    "parameter, relative step 1e-2, |analytic - numeric| <= 1e-3 + 1e-2 |numeric|\n"
    "(docs/gradcheck.md). Prints the elements checked, failed and skipped (kinks),\n"
    "and the worst error; exits 1 when any element fails.";

typedef struct probe {
  rg_trainer *trainer;
  const float *x;
  const int32_t *y;
  int64_t rows, features;
} probe;

static rg_tensor *loss_fn(rg_ctx *ctx, void *user) {
  probe *p = user;
  rg_tensor *x = rg_tensor_view(ctx, rg_shape2(p->rows, p->features), p->x);
  return rg_trainer_loss(p->trainer, x, p->y);
}

static int check(const train_config *c) {
  session s;
  train_data d = {0};
  char why[512] = "";
  rg_trainer *t = NULL;
  rg_status st = session_open(&s, c);
  if (st == RG_OK) st = train_data_prepare(s.ctx, c, &d, why, sizeof why);
  if (st == RG_OK && session_build(&s, c, d.features, d.classes, d.standardizer) == RG_OK)
    t = rg_trainer_new(s.mlp, s.opt, d.train, d.val, &c->run);
  int code = 0;
  if (!t) {
    code = command_failed("%s", why[0] ? why : session_message(&s));
  } else {
    int n = 0;
    rg_tensor *params[4 * (RG_MLP_MAX_LAYERS + 1)];
    int all;
    rg_tensor *const *list = rg_params(s.ctx, &all);
    for (int i = 0; i < all && n < (int)(sizeof params / sizeof params[0]); i++)
      if (rg_tensor_is_param(list[i])) params[n++] = list[i];
    int64_t rows = c->run.batch < ROWS ? c->run.batch : ROWS;
    probe p = {t, d.train->x, d.train->y, rows < d.train->n ? rows : d.train->n, d.features};
    rg_gradcheck_opts o = {.eps = 3e-3, .atol = 1e-3, .rtol = 1e-2, .max_elems = MAX_ELEMS};
    rg_gradcheck_report r;
    rg_status g = rg_gradcheck(s.ctx, loss_fn, &p, params, n, &o, &r);
    printf("gradcheck: %lld elements of %d parameters on %lld rows: %lld failed, %lld skipped "
           "at kinks, largest |error| %.3g%s%s (isa %s)\n", (long long)r.checked, n,
           (long long)p.rows, (long long)r.failed, (long long)r.skipped_kinks, r.max_abs_err,
           r.worst ? " in " : "", r.worst ? rg_tensor_name(r.worst) : "", rg_ctx_isa(s.ctx));
    if (g != RG_OK) code = command_failed("%s", rg_ctx_message(s.ctx));
  }
  rg_trainer_free(t);
  train_data_free(&d);
  session_close(&s);
  return code;
}

int cmd_gradcheck(int argc, char **argv) {
  static train_options o;
  int code = train_flags_parse("regrad gradcheck", "regrad gradcheck [training flags]",
                               description, argc, argv, &o);
  if (code >= 0) return code;
  return check(&o.config);
}
