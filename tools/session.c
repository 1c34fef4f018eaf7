/* Context, model, optimizer and standardizer of a training or evaluation run
 * (session.h). */
#include "session.h"

#include "limits.h"

#include <math.h>
#include <string.h>

#define EVAL_BATCH 1000
#define STANDARDIZER_NAME "input.standardizer"

rg_status session_status(const session *s) { return s->ctx ? rg_ctx_status(s->ctx) : RG_ENOMEM; }

const char *session_message(const session *s) {
  return s->ctx ? rg_ctx_message(s->ctx) : "out of memory creating the context";
}

rg_status session_open(session *s, const train_config *c) {
  memset(s, 0, sizeof *s);
  rg_config cfg = {.seed = c->seed, .threads = c->threads, .isa = c->isa,
                   .mem_limit = limits_mem(c->mem_limit)};
  s->ctx = rg_ctx_new(&cfg);
  return session_status(s);
}

/* Lists the parameters that have gradients, where each layer's weight sits
 * among them, and which belong to the classifier (the last layer). */
static void list_trainable(session *s) {
  int n;
  rg_tensor *const *all = rg_params(s->ctx, &n);
  rg_tensor *last_w = rg_mlp_weight(s->mlp, s->depth - 1);
  rg_tensor *last_b = rg_mlp_bias(s->mlp, s->depth - 1);
  s->n_trainable = 0;
  for (int i = 0; i < n && s->n_trainable < SESSION_MAX_PARAMS; i++) {
    if (!rg_tensor_is_param(all[i])) continue;
    s->classifier[s->n_trainable] = all[i] == last_w || all[i] == last_b;
    for (int layer = 0; layer < s->depth; layer++)
      if (all[i] == s->weights[layer]) s->weight_slot[layer] = s->n_trainable;
    s->trainable[s->n_trainable++] = all[i];
  }
}

rg_status session_build(session *s, const train_config *c, int in, int out, rg_standardizer st) {
  rg_mlp_config model = c->model;
  model.in = in;
  model.out = out;
  s->mlp = rg_mlp_new(s->ctx, "mlp", &model);
  if (!s->mlp) return session_status(s);
  rg_mlp_init(s->mlp, c->init, c->init_scale);
  const float values[2] = {st.mean, st.std};
  s->standardizer = rg_buffer_new(s->ctx, STANDARDIZER_NAME, rg_shape1(2), values);
  rg_optim_config optim = c->optim;
  optim.lr = c->schedule.lr0;
  s->opt = rg_optim_new(s->ctx, &optim);
  if (s->opt) rg_optim_add_all(s->opt);
  s->depth = rg_mlp_depth(s->mlp);
  for (int i = 0; i < s->depth; i++) s->weights[i] = rg_mlp_weight(s->mlp, i);
  list_trainable(s);
  return session_status(s);
}

rg_status session_load(session *s, const char *path, rg_train_state *st) {
  rg_train_state loaded = {0};
  if (rg_checkpoint_load(s->ctx, path, &loaded) == RG_OK)
    rg_optim_set_steps(s->opt, loaded.optim_steps);
  if (st) *st = loaded;
  return session_status(s);
}

rg_standardizer session_standardizer(session *s) {
  const float *v = rg_tensor_data(s->standardizer);
  rg_standardizer st = {v[0], v[1]};
  return st;
}

rg_tensor *session_loss(session *s, const train_config *c, rg_tensor *logits,
                        const int32_t *labels) {
  rg_ctx *ctx = s->ctx;
  rg_tensor *loss = rg_cross_entropy(ctx, logits, labels, c->label_smoothing);
  float lambda = c->penalty_lambda;
  switch (c->penalty) {
    case PENALTY_L1: return rg_add(ctx, loss, rg_l1_penalty(ctx, s->weights, s->depth, lambda));
    case PENALTY_L2: return rg_add(ctx, loss, rg_l2_penalty(ctx, s->weights, s->depth, lambda));
    case PENALTY_ELASTIC:
      return rg_add(ctx, loss,
                    rg_elastic_net_penalty(ctx, s->weights, s->depth, lambda, c->l1_ratio));
    default: return loss;
  }
}

int64_t count_correct(const float *logits, int64_t rows, int classes, const int32_t *labels) {
  int64_t correct = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *row = logits + r * classes;
    int best = 0;
    for (int k = 1; k < classes; k++)
      if (row[k] > row[best]) best = k;
    correct += best == labels[r];
  }
  return correct;
}

double session_accuracy(session *s, const rg_dataset *ds, int64_t max_rows) {
  rg_ctx *ctx = s->ctx;
  int64_t n = ds ? ds->n : 0;
  if (max_rows > 0 && max_rows < n) n = max_rows;
  if (n == 0 || rg_ctx_status(ctx) != RG_OK) return NAN;
  bool was_training = rg_is_training(ctx);
  bool had_grad = rg_set_grad_enabled(ctx, false);
  rg_set_training(ctx, false);
  int64_t correct = 0;
  for (int64_t at = 0; at < n && rg_ctx_status(ctx) == RG_OK; at += EVAL_BATCH) {
    int64_t rows = n - at < EVAL_BATCH ? n - at : EVAL_BATCH;
    rg_tensor *x = rg_tensor_view(ctx, rg_shape2(rows, ds->features), ds->x + at * ds->features);
    rg_tensor *logits = rg_mlp_forward(s->mlp, x);
    if (logits)
      correct += count_correct(rg_tensor_data(logits), rows, (int)rg_tensor_shape(logits).dim[1],
                               ds->y + at);
    rg_tape_reset(ctx);
  }
  rg_set_training(ctx, was_training);
  rg_set_grad_enabled(ctx, had_grad);
  return rg_ctx_status(ctx) == RG_OK ? (double)correct / (double)n : NAN;
}

double session_sparsity(session *s) {
  int64_t zeros = 0, total = 0;
  for (int i = 0; i < s->depth; i++) {
    const float *w = rg_tensor_data(s->weights[i]);
    int64_t n = rg_tensor_numel(s->weights[i]);
    for (int64_t j = 0; j < n; j++) zeros += w[j] == 0.0f;
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
