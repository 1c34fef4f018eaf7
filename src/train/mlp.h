/* The layers of an rg_mlp, shared by mlp.c (training graph) and predict.c
 * (the inference snapshot), which must apply them identically. */
#ifndef RG_TRAIN_MLP_H
#define RG_TRAIN_MLP_H

#include "core/internal.h"

#define RG_MLP_BN_MOMENTUM 0.1f
#define RG_MLP_BN_EPS 1e-5f

struct rg_mlp_layer {
  rg_tensor *w, *b;                      /* w [out, in], b [out] */
  rg_tensor *gamma, *beta, *rmean, *rvar; /* batch norm, hidden layers only; else NULL */
};

struct rg_mlp {
  rg_ctx *ctx;
  rg_mlp_config cfg;
  int depth;
  struct rg_mlp_layer layers[RG_MLP_MAX_LAYERS + 1];
  /* Handles of the last rg_mlp_forward's layer outputs: hidden layers after
   * the activation (before dropout), then the logits. Transients: valid
   * until rg_tape_reset (the trainer's layer statistics read them). */
  rg_tensor *out[RG_MLP_MAX_LAYERS + 1];
};

/* Hidden layer i runs as one rg_linear_act (activation in the GEMM's
 * epilogue): no batch norm between the two, and a slope rg_linear_act takes. */
static inline bool rg_mlp_fuses_activation(const struct rg_mlp *m, int i) {
  return !m->layers[i].gamma && !(m->cfg.activation == RG_LEAKY_RELU && m->cfg.leaky_slope < 0.0f);
}

static inline rg_ctx *rg_mlp_context(const struct rg_mlp *m) { return m->ctx; }

#endif
