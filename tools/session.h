/* A model ready to train or evaluate: the context, the MLP, the optimizer
 * (whose state buffers checkpoints carry), the input standardizer kept as
 * the buffer "input.standardizer" ([mean, std]) and the MLP's description
 * as the context attribute "model", so that a checkpoint holds everything
 * `regrad eval` needs to rebuild the model and score new data. */
#ifndef RG_TOOLS_SESSION_H
#define RG_TOOLS_SESSION_H

#include "trainer.h"

typedef struct session {
  rg_ctx *ctx;
  rg_mlp *mlp;
  rg_optim *opt; /* NULL for evaluation */
  rg_tensor *standardizer;
} session;

/* Creates the context from the config's seed, ISA, threads and anomaly
 * mode. On error the context (if any) holds the message: see
 * session_message. */
rg_status session_open(session *s, const train_config *c);

/* Builds the MLP (c->model with in and out set here), initializes it
 * (c->init, c->init_scale), the standardizer buffer, the "model" attribute
 * and the optimizer (c->optim with lr = c->run.schedule.lr0) over every
 * parameter. */
rg_status session_build(session *s, const train_config *c, int in, int out, rg_standardizer st);

/* Rebuilds the MLP a checkpoint describes (its "model" attribute) and loads
 * its weights and standardizer (checked: finite mean, std >= 1e-6): for
 * evaluation, with no optimizer. On failure the reason is in why. */
rg_status session_load_model(session *s, const char *path, char *why, size_t size);

rg_standardizer session_standardizer(session *s);

/* Fraction of the weights (not biases) that are exactly zero. */
double session_sparsity(session *s);

/* The context's message, or a note when there is no context. */
const char *session_message(const session *s);
rg_status session_status(const session *s);

void session_close(session *s);

#endif
