/* A model ready to train or evaluate: the context, the MLP, the optimizer
 * (whose state buffers checkpoints carry), and the input standardizer kept as
 * the buffer "input.standardizer" ([mean, std]) so that a checkpoint holds
 * everything `regrad eval` needs to score new data. Shared by the trainer and
 * `regrad eval`. */
#ifndef RG_TOOLS_SESSION_H
#define RG_TOOLS_SESSION_H

#include "trainer.h"

#define SESSION_MAX_DEPTH (RG_MLP_MAX_LAYERS + 1)
#define SESSION_MAX_PARAMS (4 * SESSION_MAX_DEPTH) /* w, b, gamma, beta */

typedef struct session {
  rg_ctx *ctx;
  rg_mlp *mlp;
  rg_optim *opt;
  rg_tensor *standardizer;
  int depth;                                /* linear layers */
  rg_tensor *weights[SESSION_MAX_DEPTH];    /* weight of each linear layer */
  int n_trainable;                          /* parameters with gradients */
  rg_tensor *trainable[SESSION_MAX_PARAMS];
  int weight_slot[SESSION_MAX_DEPTH];       /* index of weights[i] in trainable */
  bool classifier[SESSION_MAX_PARAMS];      /* trainable[i] is in the last layer */
} session;

/* Creates the context from the config's seed, ISA and threads. On error the
 * context (if any) holds the message: see session_message. */
rg_status session_open(session *s, const train_config *c);

/* Builds the MLP (c->model with in and out set here), initializes it
 * (c->init, c->init_scale), the standardizer buffer, and the optimizer
 * (c->optim with lr = c->schedule.lr0) over every parameter. */
rg_status session_build(session *s, const train_config *c, int in, int out, rg_standardizer st);

/* Loads a checkpoint into the built session and restores the optimizer's
 * step count; st may be NULL. */
rg_status session_load(session *s, const char *path, rg_train_state *st);

rg_standardizer session_standardizer(session *s);

/* The training objective for logits [rows, classes] and labels [rows]:
 * cross-entropy with c->label_smoothing plus c->penalty over the weights. */
rg_tensor *session_loss(session *s, const train_config *c, rg_tensor *logits,
                        const int32_t *labels);

/* Accuracy of the model on the first max_rows rows of ds (0: all), in eval
 * mode with grad disabled, in batches; the modes are restored afterwards.
 * NAN for an empty set or on error. */
double session_accuracy(session *s, const rg_dataset *ds, int64_t max_rows);

/* Fraction of the weights (not biases) that are exactly zero. */
double session_sparsity(session *s);

/* Rows of logits [rows, classes] whose argmax equals the label. */
int64_t count_correct(const float *logits, int64_t rows, int classes, const int32_t *labels);

/* The context's message, or a note when there is no context. */
const char *session_message(const session *s);
rg_status session_status(const session *s);

void session_close(session *s);

#endif
