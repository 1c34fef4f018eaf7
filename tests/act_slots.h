/* The activation slots, forward and backward, behind one call, for the
 * tests that sweep inputs through all of them (test_kernels.c at extreme
 * values, exhaustive_unary.c over every float). A backward slot gets its
 * first input (x, or y for sigmoid and tanh) swept, dy from the caller and
 * dx starting at +0; leaky_relu's slope and clamp's bounds are fixed. */
#ifndef RG_TEST_ACT_SLOTS_H
#define RG_TEST_ACT_SLOTS_H
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "kernels.h"

enum rg_act_slot {
  RG_A_RELU_FWD, RG_A_RELU_BWD, RG_A_LEAKY_FWD, RG_A_LEAKY_BWD, RG_A_SIGMOID_FWD,
  RG_A_SIGMOID_BWD, RG_A_TANH_FWD, RG_A_TANH_BWD, RG_A_GELU_FWD, RG_A_GELU_BWD,
  RG_A_EXP_FWD, RG_A_LOG_FWD, RG_A_LOG_BWD, RG_A_CLAMP_FWD, RG_A_CLAMP_BWD, RG_A_COUNT
};

static const char *const rg_act_names[RG_A_COUNT] = {
    "relu_fwd", "relu_bwd", "leaky_relu_fwd", "leaky_relu_bwd", "sigmoid_fwd",
    "sigmoid_bwd", "tanh_fwd", "tanh_bwd", "gelu_fwd", "gelu_bwd",
    "exp_fwd", "log_fwd", "log_bwd", "clamp_fwd", "clamp_bwd"};

#define RG_A_ALPHA 0.01f
#define RG_A_LO (-0.5f)
#define RG_A_HI 0.75f

/* out = slot(x) (forward) or out = 0 + slot(x, dy) (backward). */
static inline void rg_act_run(const struct rg_kernels *k, enum rg_act_slot s, int64_t n,
                              const float *x, const float *dy, float *out) {
  memset(out, 0, (size_t)n * sizeof *out);
  switch (s) {
    case RG_A_RELU_FWD: k->relu_fwd(n, x, out); break;
    case RG_A_RELU_BWD: k->relu_bwd(n, x, dy, out); break;
    case RG_A_LEAKY_FWD: k->leaky_relu_fwd(n, RG_A_ALPHA, x, out); break;
    case RG_A_LEAKY_BWD: k->leaky_relu_bwd(n, RG_A_ALPHA, x, dy, out); break;
    case RG_A_SIGMOID_FWD: k->sigmoid_fwd(n, x, out); break;
    case RG_A_SIGMOID_BWD: k->sigmoid_bwd(n, x, dy, out); break;
    case RG_A_TANH_FWD: k->tanh_fwd(n, x, out); break;
    case RG_A_TANH_BWD: k->tanh_bwd(n, x, dy, out); break;
    case RG_A_GELU_FWD: k->gelu_fwd(n, x, out); break;
    case RG_A_GELU_BWD: k->gelu_bwd(n, x, dy, out); break;
    case RG_A_EXP_FWD: k->exp_fwd(n, x, out); break;
    case RG_A_LOG_FWD: k->log_fwd(n, x, out); break;
    case RG_A_LOG_BWD: k->log_bwd(n, x, dy, out); break;
    case RG_A_CLAMP_FWD: k->clamp_fwd(n, RG_A_LO, RG_A_HI, x, out); break;
    case RG_A_CLAMP_BWD: k->clamp_bwd(n, RG_A_LO, RG_A_HI, x, dy, out); break;
    case RG_A_COUNT: break;
  }
}

/* Whether a NaN result is allowed for the swept input x with a finite dy:
 * for a NaN or infinite x (the promise covers finite inputs), and for log of
 * a negative number, which is NaN by definition. Every other result has a
 * finite mathematical value or limit (infinities are allowed, NaN is not). */
static inline bool rg_act_nan_allowed(enum rg_act_slot s, float x) {
  return !isfinite(x) || (s == RG_A_LOG_FWD && x < 0.0f);
}
#endif
