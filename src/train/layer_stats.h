/* Per-layer statistics of a training step (regrad.h, rg_layer_stats), for
 * the trainer: the parts read from the tape (before rg_tape_reset) and the
 * parts of the weights. */
#ifndef RG_TRAIN_LAYER_STATS_H
#define RG_TRAIN_LAYER_STATS_H

#include "core/internal.h"

/* act_mean, act_std, saturation and dldh_norm of every layer of m from its
 * last forward's outputs (after backward, before rg_tape_reset); NAN for
 * all four when outputs is false or an output is gone. */
void rg_layer_stats_outputs(rg_ctx *ctx, const rg_mlp *m, bool outputs, rg_layer_stats *s);

/* dw_norm (the given |dL/dW_i|) and dw_rms of layer i, whose weight is w. */
void rg_layer_stats_weight_grad(const rg_tensor *w, float dw_norm, rg_layer_stats *s);

#endif
