/* Context, model, optimizer and standardizer of a training or evaluation run
 * (session.h). */
#include "session.h"

#include "limits.h"

#include <math.h>
#include <string.h>

#include "model_spec.h"

#define STANDARDIZER_NAME "input.standardizer"
#define MIN_STD 1e-6f /* rg_standardizer_fit's floor */

rg_status session_status(const session *s) { return s->ctx ? rg_ctx_status(s->ctx) : RG_ENOMEM; }

const char *session_message(const session *s) {
  return s->ctx ? rg_ctx_message(s->ctx) : "out of memory creating the context";
}

rg_status session_open(session *s, const train_config *c) {
  memset(s, 0, sizeof *s);
  rg_config cfg = {.seed = c->seed, .threads = c->threads, .isa = c->isa,
                   .mem_limit = limits_mem(c->mem_limit)};
  s->ctx = rg_ctx_new(&cfg);
  if (s->ctx) rg_set_anomaly_mode(s->ctx, c->anomaly);
  return session_status(s);
}

/* The MLP and the standardizer buffer, and the description attribute. */
static rg_status make_model(session *s, const rg_mlp_config *model, rg_standardizer st) {
  s->mlp = rg_mlp_new(s->ctx, "mlp", model);
  const float values[2] = {st.mean, st.std};
  s->standardizer = rg_buffer_new(s->ctx, STANDARDIZER_NAME, rg_shape1(2), values);
  char spec[MODEL_SPEC_MAX];
  model_spec_format(model, spec, sizeof spec);
  rg_ctx_set_attr(s->ctx, MODEL_SPEC_ATTR, spec);
  return session_status(s);
}

rg_status session_build(session *s, const train_config *c, int in, int out, rg_standardizer st) {
  rg_mlp_config model = c->model;
  model.in = in;
  model.out = out;
  if (make_model(s, &model, st) != RG_OK) return session_status(s);
  rg_mlp_init_gain(s->mlp, c->init, c->init_scale, c->init_gain);
  rg_optim_config optim = c->optim;
  optim.lr = c->run.schedule.lr0;
  s->opt = rg_optim_new(s->ctx, &optim);
  if (s->opt) rg_optim_add_all(s->opt);
  return session_status(s);
}

rg_status session_load_model(session *s, const char *path, char *why, size_t size) {
  char spec[MODEL_SPEC_MAX];
  rg_mlp_config model;
  rg_status st = rg_checkpoint_read_attr(s->ctx, path, MODEL_SPEC_ATTR, spec, sizeof spec);
  if (st == RG_OK && !model_spec_parse(spec, &model, why, size)) return RG_EFORMAT;
  if (st == RG_OK && make_model(s, &model, (rg_standardizer){0.0f, 1.0f}) == RG_OK)
    st = rg_checkpoint_load_model(s->ctx, path);
  if (session_status(s) != RG_OK) {
    snprintf(why, size, "%s", session_message(s));
    return session_status(s);
  }
  rg_standardizer z = session_standardizer(s);
  if (!(isfinite(z.mean) && z.std >= MIN_STD && isfinite(z.std))) {
    snprintf(why, size, "%s: the input standardizer (mean %g, std %g) is out of range: expected "
             "a finite mean and a finite std >= 1e-6", path, (double)z.mean, (double)z.std);
    return RG_EFORMAT;
  }
  return RG_OK;
}

rg_standardizer session_standardizer(session *s) {
  const float *v = rg_tensor_data(s->standardizer);
  rg_standardizer st = {v[0], v[1]};
  return st;
}

double session_sparsity(session *s) {
  int64_t zeros = 0, total = 0;
  for (int i = 0; i < rg_mlp_depth(s->mlp); i++) {
    rg_tensor *w = rg_mlp_weight(s->mlp, i);
    const float *d = rg_tensor_data(w);
    int64_t n = rg_tensor_numel(w);
    for (int64_t j = 0; j < n; j++) zeros += d[j] == 0.0f;
    total += n;
  }
  return total ? (double)zeros / (double)total : 0.0;
}

void session_close(session *s) {
  rg_optim_free(s->opt);
  rg_mlp_free(s->mlp);
  rg_ctx_free(s->ctx);
  memset(s, 0, sizeof *s);
}
