/* Initializers that rg_mlp_init_gain needs beyond the public ones in
 * regrad.h: He's init with a gain given outright (the public Kaiming
 * functions derive it from a nonlinearity), and Glorot & Bengio's
 * "standard" init. Both take a handle and name fn in their messages. */
#ifndef RG_TRAIN_INIT_H
#define RG_TRAIN_INIT_H

#include "core/internal.h"

/* He, fan-in: N(0, std^2) (normal) or U(-sqrt(3) std, sqrt(3) std), with
 * std = gain / sqrt(fan_in); the bits of rg_init_kaiming_* when gain is
 * rg_calculate_gain(nl, a). */
rg_status rg_init_kaiming_gain(rg_ctx *ctx, const char *fn, rg_tensor *t, float gain,
                               bool is_normal);

/* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's nn.Linear weight init. */
rg_status rg_init_standard(rg_ctx *ctx, const char *fn, rg_tensor *t);

#endif
