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
};

#endif
