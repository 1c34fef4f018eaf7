/* The kernel contract: slot signatures (from kernels.def), the per-ISA tables
 * and the small value types kernels share. Kernels own no state, never
 * allocate and never fail; the ops layer validates everything first. */
#ifndef RG_KERNELS_H
#define RG_KERNELS_H

#include <stdint.h>

#include "regrad.h" /* rg_nonlinearity, the epilogue's activation */

/* Number of virtual lanes of every long reduction: element i is accumulated
 * into lane i % RG_LANES, and lanes are combined by halving (lane[i] +=
 * lane[i + w] for w = 32, 16, ..., 1). An ISA with narrower registers keeps
 * several accumulators, so the result never depends on the vector width. */
#define RG_LANES 64

/* Virtual lanes of the sums of squares (sumsq, grad_stats), which accumulate
 * in double: the square of a float is exact in double and no finite float's
 * square overflows or underflows there, so only the additions round. Element
 * i goes to lane i % RG_SQ_LANES; lanes combine by halving (w = 16 ... 1).
 * Why 32: docs/reproducibility.md. */
#define RG_SQ_LANES 32

/* What grad_stats measures over an [m, n] tensor: the sum of the row sums of
 * squares (double, rows in order), the sum of the row sums of |x| (float,
 * rows in order), and max |x| as the amax slot finds it. */
struct rg_grad_stats {
  double sumsq;
  float asum, amax;
};

/* Philox4x32-10 stream for element i of a tensor: key = seed, counter =
 * ((offset + i) / 4 as 64 bits, stream as 64 bits); the element takes word
 * (offset + i) % 4 of the block. offset lets a caller start mid-tensor. */
struct rg_rng_key {
  uint64_t seed;
  uint64_t stream;
  int64_t offset;
};

/* SGD, PyTorch semantics, per element (src/algo/optim.h):
 * g = g * grad_scale; if (weight_decay) g += weight_decay * w;
 * if (momentum) { b = first ? g : momentum * b + (1 - dampening) * g;
 *                 g = nesterov ? g + momentum * b : b; }
 * if (decoupled_decay) w -= lr * decoupled_decay * w;  w -= lr * g. */
struct rg_sgd_hyper {
  float lr, momentum, dampening, weight_decay, decoupled_decay, grad_scale;
  int nesterov, first;
};

/* Adam/AdamW, PyTorch semantics; bias_c1 = 1 - beta1^t, sqrt_bias_c2 =
 * sqrt(1 - beta2^t) are computed by the caller once per step. */
struct rg_adam_hyper {
  float lr, beta1, beta2, eps, weight_decay, decoupled_decay, grad_scale;
  float bias_c1, sqrt_bias_c2;
};

/* The epilogue of a linear layer's GEMM: every element of C starts its k
 * sum from bias[j] and, once finished, goes through act, computed exactly as
 * the activation slot of the same ISA computes it (alpha: the leaky slope;
 * RG_LINEAR: none). */
struct rg_epilogue {
  const float *bias; /* [n] */
  rg_nonlinearity act;
  float alpha;
};

#define RG_KERNEL(name, ret, params) typedef ret (*rg_##name##_fn) params;
#include "kernels.def"
#undef RG_KERNEL

enum { RG_SLOT_COUNT = 0
#define RG_KERNEL(name, ret, params) + 1
#include "kernels.def"
#undef RG_KERNEL
};

struct rg_kernels {
  const char *isa; /* "scalar", "avx2", "avx512", "neon" */
#define RG_KERNEL(name, ret, params) rg_##name##_fn name;
#include "kernels.def"
#undef RG_KERNEL
  const char *const *symbols; /* RG_SLOT_COUNT body names, in slot order */
};

/* Slot names in kernels.def order, for diagnostics and tests. */
extern const char *const rg_slot_names[RG_SLOT_COUNT];

extern const struct rg_kernels rg_kernels_scalar, rg_kernels_avx2,
    rg_kernels_avx512, rg_kernels_neon;

/* Body names: RG_BODY(relu_fwd) is rg_relu_fwd__avx2 when RG_ISA is avx2. */
#define RG_PASTE3_(a, b, c) a##b##c
#define RG_PASTE3(a, b, c) RG_PASTE3_(a, b, c)
#define RG_BODY(name) RG_PASTE3(rg_##name, __, RG_ISA)
#define RG_STR_(x) #x
#define RG_STR(x) RG_STR_(x)

#endif
