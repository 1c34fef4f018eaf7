/* regrad: reproducible neural-network training on CPUs.
 *
 * A reverse-mode tape over float32 tensors. Every op runs on kernels chosen
 * at run time (AVX-512, AVX2, NEON, scalar) that give bit-identical results
 * on every ISA and for any thread count.
 *
 * Error model: every function validates its arguments. Ops return NULL on bad
 * input and set the context's sticky error (the first error is kept until
 * rg_ctx_clear_error); an op given a NULL tensor returns NULL without a second
 * message, so a whole forward pass can be written without checks and tested
 * once with rg_ctx_status. The library never aborts, exits or prints.
 */
#ifndef REGRAD_H
#define REGRAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RG_API marks the functions libregrad exports; everything else in the
 * shared library is hidden (built with -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define RG_API __attribute__((visibility("default")))
#else
#define RG_API
#endif

/* ---------------------------------------------------------------- context */

typedef enum rg_status {
  RG_OK = 0,
  RG_EINVAL,       /* an argument is NULL, out of range or inconsistent */
  RG_ESHAPE,       /* tensor shapes do not fit the op */
  RG_EOVERFLOW,    /* a size computation overflows */
  RG_ENOMEM,       /* out of memory, or over the context's memory budget */
  RG_ERANGE,       /* a value (label, probability, index) is out of range */
  RG_ESTATE,       /* call out of order: stale tensor, backward twice, ... */
  RG_EUNSUPPORTED, /* the CPU lacks a requested ISA */
  RG_ENONFINITE,   /* a NaN or infinity where the policy forbids one */
  RG_EFORMAT,      /* a file is malformed, truncated or corrupt */
  RG_EIO,          /* an operating-system I/O call failed */
} rg_status;

typedef struct rg_ctx rg_ctx;
/* A tensor handle. A parameter's or buffer's handle stays valid until
 * rg_ctx_free. A transient's (rg_tensor_new, rg_tensor_view, every op's
 * output) is valid until the next rg_tape_reset of its context; after it,
 * every function that takes the handle reports RG_ESTATE ("is a stale
 * tensor") and the accessors return NULL/0, also when a new tensor of the
 * next step sits at the same place in memory: handles are never reused for
 * another tensor (each names a header slot and the slot's generation).
 * Handles are opaque (a transient's is not an address); == compares
 * identity. */
typedef struct rg_tensor rg_tensor;

/* Configuration; zero-initialize and set what you need. seed: every random
 * number (init, dropout) derives from it. threads: worker threads for large
 * kernels (0 = 1). isa: "scalar", "avx2", "avx512", "neon" or NULL/"auto"
 * (the best the CPU has; the environment variable REGRAD_ISA overrides
 * "auto"); ISA names match in any case ("AVX2", "Scalar") here, in
 * REGRAD_ISA, rg_set_isa and rg_isa_supported. arena_bytes: initial size of the transient arena (0 = 1 MiB; it
 * grows as needed). mem_limit: the most heap memory the context may hold at
 * once, in bytes (0 = no limit): arena chunks, parameters, buffers,
 * optimizer state and scratch, as rg_ctx_stats().heap_bytes counts them. An
 * allocation that would pass it fails with RG_ENOMEM and a message naming
 * the function and the sizes; the context stays usable once the error is
 * cleared. A dataset (plain malloc memory, not counted) must fit in what is
 * left of the limit when it is made. */
typedef struct rg_config {
  uint64_t seed;
  int threads;
  const char *isa;
  size_t arena_bytes;
  size_t mem_limit;
} rg_config;

/* Creates a context (cfg may be NULL for the defaults). Returns NULL only
 * when memory runs out. A configuration error (an unknown ISA, or one the CPU
 * lacks) still returns a context, whose sticky status says what is wrong and
 * whose ops all fail: check rg_ctx_status after creating. */
RG_API rg_ctx *rg_ctx_new(const rg_config *cfg);

/* Frees the context with its parameters, arena and optimizer state. NULL is
 * accepted. */
RG_API void rg_ctx_free(rg_ctx *ctx);

/* The sticky status: RG_OK or the first error since creation or the last
 * rg_ctx_clear_error. rg_ctx_message gives "function: what, with values". */
RG_API rg_status rg_ctx_status(const rg_ctx *ctx);
RG_API const char *rg_ctx_message(const rg_ctx *ctx);
RG_API void rg_ctx_clear_error(rg_ctx *ctx);

/* Name of a status code, e.g. "RG_ESHAPE". */
RG_API const char *rg_status_name(rg_status s);

/* Counters: heap allocations the context made (arena chunks, parameters,
 * saved state) and bytes currently held; a training loop whose shapes do
 * not change makes no allocation after its first step. */
typedef struct rg_stats {
  uint64_t heap_allocs;
  uint64_t heap_bytes;
  uint64_t arena_bytes_used;
  uint64_t tape_nodes;
} rg_stats;
RG_API rg_stats rg_ctx_stats(const rg_ctx *ctx);

/* Training mode (default true) makes dropout random and batch norm use batch
 * statistics; eval mode makes dropout the identity and batch norm use running
 * statistics. */
RG_API void rg_set_training(rg_ctx *ctx, bool training);
RG_API bool rg_is_training(const rg_ctx *ctx);

/* With grad disabled (inference), ops compute but record nothing. Returns the
 * previous setting. */
RG_API bool rg_set_grad_enabled(rg_ctx *ctx, bool enabled);

/* Forces the kernel ISA ("scalar", "avx2", "avx512", "neon", "auto").
 * RG_EUNSUPPORTED if the CPU lacks it, RG_EINVAL for an unknown name; the
 * previous ISA stays in force on error. */
RG_API rg_status rg_set_isa(rg_ctx *ctx, const char *isa);
/* The ISA in force, e.g. "avx512". */
RG_API const char *rg_ctx_isa(const rg_ctx *ctx);
/* Whether this CPU and OS can run an ISA (false for unknown names). */
RG_API bool rg_isa_supported(const char *isa);
/* The library version, "major.minor.patch". */
RG_API const char *rg_version(void);
/* Whether this build of the library contains an ISA's kernels (whether
 * this CPU can run them is rg_isa_supported). */
RG_API bool rg_isa_built(const char *isa);
/* The CPU features the library looks at and this machine has, as a
 * space-separated list ("fma avx avx2 avx512f ... os-zmm"), into buf (size
 * bytes, NUL-terminated, truncated if short); returns the length of the
 * whole list. */
RG_API size_t rg_cpu_describe(char *buf, size_t size);
/* The kernel slots (src/kernels.def): how many, the name of slot i, and
 * the body serving it in an ISA's table (e.g. "rg_gemm__avx512"); NULL for
 * a slot out of range or an ISA not built in. */
RG_API int rg_kernel_slot_count(void);
RG_API const char *rg_kernel_slot_name(int slot);
RG_API const char *rg_kernel_body(const char *isa, int slot);

/* Text attributes of the context, saved in its checkpoints and restored by
 * rg_checkpoint_load: a description of the model, of the data, anything an
 * application needs to rebuild what it saved. key: 1 to 256 bytes; value: at
 * most 65536 bytes; NULL value removes the key. RG_EINVAL for a bad key or
 * value. rg_ctx_attr returns the value (valid until the key is set again)
 * or NULL. */
RG_API rg_status rg_ctx_set_attr(rg_ctx *ctx, const char *key, const char *value);
RG_API const char *rg_ctx_attr(const rg_ctx *ctx, const char *key);

/* ------------------------------------------------- tensors and parameters */

#define RG_MAX_RANK 4

/* A shape of rank 1 to 4; every dimension must be >= 1. */
typedef struct rg_shape {
  int rank;
  int64_t dim[RG_MAX_RANK];
} rg_shape;

static inline rg_shape rg_shape1(int64_t a) { rg_shape s = {1, {a, 0, 0, 0}}; return s; }
static inline rg_shape rg_shape2(int64_t a, int64_t b) { rg_shape s = {2, {a, b, 0, 0}}; return s; }
static inline rg_shape rg_shape3(int64_t a, int64_t b, int64_t c) {
  rg_shape s = {3, {a, b, c, 0}};
  return s;
}
static inline rg_shape rg_shape4(int64_t a, int64_t b, int64_t c, int64_t d) {
  rg_shape s = {4, {a, b, c, d}};
  return s;
}

/* A transient tensor in the arena, copied from data (zeros when data is
 * NULL). It lives until rg_tape_reset; using it afterwards is RG_ESTATE.
 * Errors: RG_EINVAL for a rank outside 1..4 or a dimension < 1, RG_EOVERFLOW
 * when the element count overflows. */
RG_API rg_tensor *rg_tensor_new(rg_ctx *ctx, rg_shape shape, const float *data);
/* A transient tensor over the caller's memory, not copied (for a batch an
 * input copy is a pass over memory every step): data holds numel floats and
 * must stay alive and unchanged until rg_tape_reset. Ops only read it;
 * rg_tensor_data returns data itself. Errors as rg_tensor_new, and
 * RG_EINVAL for a NULL data. */
RG_API rg_tensor *rg_tensor_view(rg_ctx *ctx, rg_shape shape, const float *data);

/* A persistent, named parameter with a gradient buffer (zeroed). It lives
 * until rg_ctx_free. data may be NULL (zeros; initialize with rg_init_*).
 * Names are copied and must be unique and non-empty (RG_EINVAL). */
RG_API rg_tensor *rg_param_new(rg_ctx *ctx, const char *name, rg_shape shape, const float *data);

/* A persistent tensor without gradient (e.g. batch-norm running statistics),
 * saved in checkpoints like a parameter but never updated by optimizers. */
RG_API rg_tensor *rg_buffer_new(rg_ctx *ctx, const char *name, rg_shape shape, const float *data);

/* Accessors. data is writable for parameters, buffers and inputs; grad is
 * NULL until backward reaches the tensor (always non-NULL for parameters). */
RG_API float *rg_tensor_data(rg_tensor *t);
RG_API float *rg_tensor_grad(rg_tensor *t);
RG_API rg_shape rg_tensor_shape(const rg_tensor *t);
RG_API int64_t rg_tensor_numel(const rg_tensor *t);
RG_API const char *rg_tensor_name(const rg_tensor *t); /* NULL for transients */
RG_API bool rg_tensor_is_param(const rg_tensor *t);

/* The parameters in creation order (count in *n). The array stays valid
 * until the next rg_param_new. */
RG_API rg_tensor *const *rg_params(rg_ctx *ctx, int *n);
/* The parameter or buffer with this name, or NULL. */
RG_API rg_tensor *rg_param_find(rg_ctx *ctx, const char *name);

/* Zeroes the gradients of every parameter. */
RG_API void rg_zero_grad(rg_ctx *ctx);

/* ------------------------------------------------------------------- ops */
/* Each op allocates its output in the arena and, when grad is enabled and an
 * input needs a gradient, records a tape node. Shapes are row-major. */

/* op(A) op(B), op = transpose when ta / tb. A [m,k] (or [k,m] when ta), B
 * [k,n] (or [n,k] when tb); result [m,n]. RG_ESHAPE if not rank 2 or the
 * inner dimensions differ. */
RG_API rg_tensor *rg_matmul(rg_ctx *ctx, rg_tensor *a, rg_tensor *b, bool ta, bool tb);

/* x W^T + b: x [batch,in], W [out,in], b [out] or NULL; result [batch,out]. */
RG_API rg_tensor *rg_linear(rg_ctx *ctx, rg_tensor *x, rg_tensor *w, rg_tensor *b);

/* Activations of the dense layers: identity, ReLU, leaky ReLU, tanh, sigmoid
 * (also the gains of the init functions). */
typedef enum rg_nonlinearity {
  RG_LINEAR,
  RG_RELU,
  RG_LEAKY_RELU,
  RG_TANH,
  RG_SIGMOID
} rg_nonlinearity;

/* act(x W^T + b) as one op, the activation fused into the GEMM's epilogue:
 * each finished tile goes through it while still in cache, so the linear
 * output is never written out and read back. The result, and every gradient,
 * is bit-identical to rg_linear followed by the activation op. The backward
 * rule takes the activation's derivative from the output, which for leaky
 * ReLU needs alpha >= 0 (alpha: the leaky slope; ignored otherwise). */
RG_API rg_tensor *rg_linear_act(rg_ctx *ctx, rg_tensor *x, rg_tensor *w, rg_tensor *b,
                         rg_nonlinearity act, float alpha);

/* Elementwise a + b, a - b, a * b. b has a's shape, or is a row vector
 * (shape [n], or [1,n]) broadcast over the rows of a [m,n]. */
RG_API rg_tensor *rg_add(rg_ctx *ctx, rg_tensor *a, rg_tensor *b);
RG_API rg_tensor *rg_sub(rg_ctx *ctx, rg_tensor *a, rg_tensor *b);
RG_API rg_tensor *rg_mul(rg_ctx *ctx, rg_tensor *a, rg_tensor *b);
/* s * x. */
RG_API rg_tensor *rg_scale(rg_ctx *ctx, rg_tensor *x, float s);
/* Sum and mean of all elements: a [1] tensor. Long reductions use fixed
 * lanes and chunks, so the result is the same on every ISA and thread count. */
RG_API rg_tensor *rg_sum(rg_ctx *ctx, rg_tensor *x);
RG_API rg_tensor *rg_mean(rg_ctx *ctx, rg_tensor *x);

/* Activations, elementwise: max(x, 0); x or alpha x for x < 0; 1/(1+e^-x);
 * tanh; gelu(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); e^x; ln x.
 * relu'(0) = 0 and leaky_relu'(0) = alpha. NaN inputs propagate. */
RG_API rg_tensor *rg_relu(rg_ctx *ctx, rg_tensor *x);
RG_API rg_tensor *rg_leaky_relu(rg_ctx *ctx, rg_tensor *x, float alpha);
RG_API rg_tensor *rg_sigmoid(rg_ctx *ctx, rg_tensor *x);
RG_API rg_tensor *rg_tanh(rg_ctx *ctx, rg_tensor *x);
RG_API rg_tensor *rg_gelu(rg_ctx *ctx, rg_tensor *x);
RG_API rg_tensor *rg_exp(rg_ctx *ctx, rg_tensor *x);
RG_API rg_tensor *rg_log(rg_ctx *ctx, rg_tensor *x);

/* Row-wise softmax and log-softmax over the last dimension of a rank-2
 * tensor [m,n]. */
RG_API rg_tensor *rg_softmax(rg_ctx *ctx, rg_tensor *x);
RG_API rg_tensor *rg_log_softmax(rg_ctx *ctx, rg_tensor *x);

/* Softmax cross-entropy of logits [m,n] against int32 labels[m] in [0,n),
 * mean over the batch; a [1] tensor. With label smoothing s in [0,1) the
 * target is (1 - s) one-hot + s / n. Labels are copied. RG_ERANGE for a label
 * out of range, RG_EINVAL for s outside [0,1). Backward is fused: probs -
 * target. */
RG_API rg_tensor *rg_cross_entropy(rg_ctx *ctx, rg_tensor *logits, const int32_t *labels,
                            float smoothing);

/* Binary cross-entropy of logits against targets of the same shape (values
 * in [0,1]), mean over elements: max(x,0) - x t + log(1 + e^-|x|). Both
 * inputs are differentiated: d/dx = (sigmoid(x) - t) / count and d/dt =
 * -x / count (as PyTorch), so targets may be parameters. */
RG_API rg_tensor *rg_bce_with_logits(rg_ctx *ctx, rg_tensor *logits, rg_tensor *targets);

/* Mean squared error, mean over elements of (a - b)^2; same shapes. */
RG_API rg_tensor *rg_mse(rg_ctx *ctx, rg_tensor *a, rg_tensor *b);

/* Inverted dropout: in training mode each element is kept with probability
 * 1 - p and scaled by 1/(1-p); in eval mode, or with p = 0, the identity.
 * p must be in [0,1) (RG_EINVAL). Masks come from Philox4x32-10 keyed by
 * (seed, stream, element index); each call takes the next stream. */
RG_API rg_tensor *rg_dropout(rg_ctx *ctx, rg_tensor *x, float p);

/* Batch normalization of x [n,f] per feature. Training: normalizes with the
 * batch mean and biased variance (n >= 2, else RG_ESHAPE), then updates
 * running_mean += momentum (mean - running_mean) and running_var likewise
 * with the unbiased variance. Eval: normalizes with the running statistics.
 * y = (x - mean) / sqrt(var + eps) * gamma + beta; gamma, beta are [f]
 * parameters, running_mean, running_var [f] buffers (PyTorch: momentum 0.1,
 * eps 1e-5). */
RG_API rg_tensor *rg_batch_norm(rg_ctx *ctx, rg_tensor *x, rg_tensor *gamma, rg_tensor *beta,
                         rg_tensor *running_mean, rg_tensor *running_var, float momentum,
                         float eps);

/* Penalties over a list of parameters, as [1] tensors to add to the loss:
 * L1 = lambda sum |w|; L2 = (lambda / 2) sum w^2 (so its gradient is
 * lambda w, matching coupled weight decay); elastic net = lambda (ratio sum
 * |w| + (1 - ratio)/2 sum w^2), ratio in [0,1]. The subgradient of |w| at 0
 * is 0. lambda must be finite and >= 0. */
RG_API rg_tensor *rg_l1_penalty(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda);
RG_API rg_tensor *rg_l2_penalty(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda);
RG_API rg_tensor *rg_elastic_net_penalty(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda,
                                  float l1_ratio);

/* Vector norm of all elements: ord 1, 2, or INFINITY; a [1] tensor. The L2
 * norm sums the squares in double (exact squares, no overflow or underflow)
 * and rounds sqrt of the sum to float once: correct from the smallest
 * subnormal to FLT_MAX, inf only when the norm itself exceeds FLT_MAX; its
 * gradient x / |x| uses the double norm, so it stays finite even then. The
 * L2 gradient at 0 is 0; the L-infinity gradient is shared equally by the
 * elements of largest magnitude. */
RG_API rg_tensor *rg_norm(rg_ctx *ctx, rg_tensor *x, float ord);

/* min(max(x, lo), hi), lo <= hi; the gradient passes where lo <= x <= hi. */
RG_API rg_tensor *rg_clamp(rg_ctx *ctx, rg_tensor *x, float lo, float hi);

/* Identity forward; the gradient flowing back is clamped to [-c, c], c > 0. */
RG_API rg_tensor *rg_grad_clip(rg_ctx *ctx, rg_tensor *x, float c);

/* --------------------------------------------------- backward, gradcheck */

/* Back-propagates from a scalar loss ([1] tensor): gradients accumulate (+=)
 * into parameters' grad buffers and into every recorded tensor's grad.
 * RG_ESHAPE if loss is not a single element, RG_ESTATE if it was not
 * recorded (no parameter feeds it, or grad was disabled) or if backward
 * already ran on this tape. */
RG_API rg_status rg_backward(rg_ctx *ctx, rg_tensor *loss);

/* Frees every transient and tape node (the arena is kept for reuse); every
 * transient handle of the context becomes stale (RG_ESTATE when used). */
RG_API void rg_tape_reset(rg_ctx *ctx);

/* A function from the parameters to a scalar loss, rebuilt at each call. */
typedef rg_tensor *(*rg_loss_fn)(rg_ctx *ctx, void *user);

/* Gradient check options: eps is the central-difference step (default
 * 1e-2, relative to max(1, |w|)); an element passes when
 * |analytic - numeric| <= atol + rtol |numeric| (defaults 1e-3, 1e-2).
 * Elements where the one-sided differences disagree by more than the same
 * tolerance sit on a kink (relu at 0, |w| at 0, a clamp edge) and are
 * skipped and counted. max_elems bounds the elements tested per parameter
 * (0 = all). */
typedef struct rg_gradcheck_opts {
  double eps, atol, rtol;
  int64_t max_elems;
} rg_gradcheck_opts;

typedef struct rg_gradcheck_report {
  int64_t checked, failed, skipped_kinks;
  double max_abs_err;         /* largest |analytic - numeric| */
  const rg_tensor *worst;     /* parameter of the worst element */
  int64_t worst_index;
} rg_gradcheck_report;

/* Compares the gradient backward gives for each of params with central
 * differences of fn in double precision. Returns RG_OK when every checked
 * element passes, RG_ENONFINITE if fn gives a non-finite loss, RG_EINVAL
 * (with the worst element in the message) otherwise. Resets the tape. */
RG_API rg_status rg_gradcheck(rg_ctx *ctx, rg_loss_fn fn, void *user, rg_tensor *const *params,
                       int n, const rg_gradcheck_opts *opts, rg_gradcheck_report *report);

/* -------------------------------------------------------- initialization */
/* Every initializer draws from Philox keyed by (seed, a stream derived from
 * the parameter's name, element index), so a parameter gets the same values
 * whatever the creation order, ISA or thread count. Each returns RG_OK or an
 * error (RG_EINVAL for a bad argument, naming it). */

/* PyTorch's calculate_gain: linear and sigmoid 1, relu sqrt(2), tanh 5/3,
 * leaky_relu sqrt(2 / (1 + a^2)) with slope a. */
RG_API float rg_calculate_gain(rg_nonlinearity nl, float a);

/* fan_in and fan_out of a weight [out, in, ...]: in * receptive field and
 * out * receptive field (rank 1: both are the length). */
RG_API void rg_fans(const rg_tensor *t, int64_t *fan_in, int64_t *fan_out);

RG_API rg_status rg_init_zeros(rg_ctx *ctx, rg_tensor *t);
RG_API rg_status rg_init_constant(rg_ctx *ctx, rg_tensor *t, float value);
/* U[lo, hi). */
RG_API rg_status rg_init_uniform(rg_ctx *ctx, rg_tensor *t, float lo, float hi);
/* N(mean, std^2). */
RG_API rg_status rg_init_normal(rg_ctx *ctx, rg_tensor *t, float mean, float std);
/* N(mean, std^2) restricted to [lo, hi] (values outside are redrawn from
 * further streams until inside). */
RG_API rg_status rg_init_trunc_normal(rg_ctx *ctx, rg_tensor *t, float mean, float std, float lo,
                               float hi);
/* Glorot: U(-b, b), b = gain sqrt(6 / (fan_in + fan_out)); normal std =
 * gain sqrt(2 / (fan_in + fan_out)). */
RG_API rg_status rg_init_xavier_uniform(rg_ctx *ctx, rg_tensor *t, float gain);
RG_API rg_status rg_init_xavier_normal(rg_ctx *ctx, rg_tensor *t, float gain);
/* He: std = gain / sqrt(fan), gain = rg_calculate_gain(nl, a); uniform
 * bound sqrt(3) std. */
typedef enum rg_fan_mode { RG_FAN_IN, RG_FAN_OUT } rg_fan_mode;
RG_API rg_status rg_init_kaiming_uniform(rg_ctx *ctx, rg_tensor *t, float a, rg_fan_mode mode,
                                  rg_nonlinearity nl);
RG_API rg_status rg_init_kaiming_normal(rg_ctx *ctx, rg_tensor *t, float a, rg_fan_mode mode,
                                 rg_nonlinearity nl);
/* A (semi-)orthogonal matrix of shape [rows, numel / rows] times gain, by
 * modified Gram-Schmidt on a normal draw (in double precision). */
RG_API rg_status rg_init_orthogonal(rg_ctx *ctx, rg_tensor *t, float gain);

/* ----------------------------------------------------------- optimizers */

typedef enum rg_optim_kind { RG_SGD, RG_ADAM, RG_ADAMW } rg_optim_kind;

/* Optimizer settings, PyTorch semantics. SGD: momentum, dampening,
 * nesterov; weight_decay is coupled (g += wd w before momentum) unless
 * decoupled is set (w -= lr wd w). Adam: beta1, beta2, eps, each defaulting
 * on its own when 0 (to 0.9, 0.999 and 1e-8: a zero beta cannot be asked
 * for); weight_decay coupled (g += wd w), or decoupled when decoupled is set,
 * which makes RG_ADAM exactly RG_ADAMW. AdamW: weight_decay always
 * decoupled, w -= lr wd w; with decay_schedule_only, w -= (lr / lr0) wd w,
 * the schedule factor alone (Loshchilov & Hutter). prox_l1 and prox_l2 add proximal
 * steps after the update: w = soft_threshold(w, lr prox_l1) / (1 + lr
 * prox_l2), the exact-zero form of L1 and elastic net. With zero_grad,
 * rg_optim_step leaves the gradients of its parameters zeroed, each piece
 * right after its update while it is in cache, so a loop needs no
 * rg_zero_grad (a pass over every gradient) before the next backward. */
typedef struct rg_optim_config {
  rg_optim_kind kind;
  float lr;
  float momentum, dampening;
  bool nesterov;
  float beta1, beta2, eps;
  float weight_decay;
  bool decoupled;
  bool decay_schedule_only;
  float prox_l1, prox_l2;
  bool zero_grad;
} rg_optim_config;

/* Per-group overrides: a group may turn decay and the proximal steps off
 * (e.g. for biases and batch-norm parameters). */
typedef struct rg_param_group {
  float weight_decay, prox_l1, prox_l2;
} rg_param_group;

typedef struct rg_optim rg_optim;

/* Creates an optimizer; its state buffers are made by rg_optim_add. */
RG_API rg_optim *rg_optim_new(rg_ctx *ctx, const rg_optim_config *cfg);
/* Adds parameters as one group; group NULL takes the config's decay and
 * proximal settings. The state (momentum, moments) is allocated here, once,
 * as buffers named "<param>.momentum", "<param>.exp_avg", "<param>.exp_avg_sq"
 * so checkpoints carry it. A parameter may be in one group only. */
RG_API rg_status rg_optim_add(rg_optim *opt, rg_tensor *const *params, int n, const rg_param_group *group);
/* Adds every parameter: rank >= 2 ones with the config's decay, rank-1 ones
 * (biases, batch-norm gamma and beta) with none. */
RG_API rg_status rg_optim_add_all(rg_optim *opt);
/* One update of every parameter with learning rate lr (from a schedule) and
 * the gradient multiplied by grad_scale (a clipping coefficient, 1 for
 * none): the scale is fused into the update, no extra pass. */
RG_API rg_status rg_optim_step(rg_optim *opt, float lr, float grad_scale);
/* Steps taken (Adam's bias-correction t). Checkpoints carry it (the state
 * record "optim.<n>"), so rg_checkpoint_load restores it; setting it is for
 * a caller's own bookkeeping: 0 to 2^53, else RG_EINVAL. A step past 2^53 is
 * RG_EOVERFLOW. */
RG_API int64_t rg_optim_steps(const rg_optim *opt);
RG_API rg_status rg_optim_set_steps(rg_optim *opt, int64_t steps);
/* Frees the optimizer (before its context). */
RG_API void rg_optim_free(rg_optim *opt);

/* -------------------------------------------------------- LR schedules */
/* lr(t) for step t >= 0, a pure function (formulas in docs/schedules.md):
 * constant lr0; step lr0 gamma^floor(t / step_size); multistep lr0 gamma^(number of
 * milestones <= t); exponential lr0 gamma^t; polynomial (lr0 - lr_min)
 * (1 - min(t, T)/T)^power + lr_min; inverse time lr0 / (1 + k t); cosine
 * lr_min + (lr0 - lr_min)(1 + cos(pi min(t, T)/T)) / 2. With warmup_steps W
 * > 0, steps t < W use lr0 (f + (1 - f) t / W) with f = warmup_start and the
 * schedule then runs on t - W. */
typedef enum rg_sched_kind {
  RG_SCHED_CONSTANT,
  RG_SCHED_STEP,
  RG_SCHED_MULTISTEP,
  RG_SCHED_EXPONENTIAL,
  RG_SCHED_POLYNOMIAL,
  RG_SCHED_INVERSE_TIME,
  RG_SCHED_COSINE
} rg_sched_kind;

#define RG_MAX_MILESTONES 8
typedef struct rg_schedule {
  rg_sched_kind kind;
  float lr0;
  int64_t step_size;
  float gamma;
  int64_t milestones[RG_MAX_MILESTONES];
  int n_milestones;
  float power, k, lr_min;
  int64_t total_steps;
  int64_t warmup_steps;
  float warmup_start;
} rg_schedule;

/* Validates a schedule: RG_EINVAL naming the field otherwise. */
RG_API rg_status rg_schedule_check(rg_ctx *ctx, const rg_schedule *s);
/* The learning rate at step t (the schedule must be valid). */
RG_API float rg_schedule_lr(const rg_schedule *s, int64_t t);

/* ---------------------------------------------------- gradient clipping */

/* What a clipper does when a gradient holds NaN or infinity: fail with
 * RG_ENONFINITE (gradients untouched), skip the step (result.skip set; the
 * caller must not step), zero the gradients, or propagate them unchanged. */
typedef enum rg_nonfinite {
  RG_NONFINITE_ERROR,
  RG_NONFINITE_SKIP,
  RG_NONFINITE_ZERO,
  RG_NONFINITE_PROPAGATE
} rg_nonfinite;

/* One fused pass over the gradients of params: per tensor the L2, L1 and
 * L-infinity norms and (rank >= 2) the L2 norm of every row, the global norms
 * (tensor results combined in list order) and whether all are finite. L2
 * norms (also AGC's row norms and the diagnostics' |g| |w| |dw|) sum squares
 * in double and round sqrt to float once, so they are right over the whole
 * float range: a gradient of elements around 1e-31 reads its true norm, not
 * 0, and one of elements around 1e20 a finite norm, not inf.
 * Arrays are owned by the report and reused by the next call. */
typedef struct rg_grad_report {
  int n;
  float global_l2, global_l1, global_linf;
  bool finite;
  float *tensor_l2, *tensor_l1, *tensor_linf; /* [n] */
} rg_grad_report;

/* Result of a clipper: the norm it measured before clipping (the global
 * norm for by-norm clippers, max |g| for by-value), the coefficient it
 * applied (or, with defer_scale, that the caller must pass to
 * rg_optim_step), how many tensors / rows it clipped, and skip. */
typedef struct rg_clip_result {
  float norm, scale;
  int64_t clipped;
  bool finite, skip;
} rg_clip_result;

typedef struct rg_clip_opts {
  rg_nonfinite nonfinite;
  bool defer_scale; /* global-norm clippers: leave gradients, return scale */
} rg_clip_opts;

/* g = clamp(g, -clip, clip), clip > 0. */
RG_API rg_status rg_clip_grad_value(rg_ctx *ctx, rg_tensor *const *params, int n, float clip,
                             const rg_clip_opts *o, rg_clip_result *r);
/* PyTorch clip_grad_norm_: norm over all gradients (type 1, 2 or INFINITY),
 * scale = min(1, max_norm / (norm + 1e-6)); max_norm >= 0 (negative:
 * RG_EINVAL). r->norm is the pre-clip norm. */
RG_API rg_status rg_clip_grad_norm(rg_ctx *ctx, rg_tensor *const *params, int n, float max_norm,
                            float norm_type, const rg_clip_opts *o, rg_clip_result *r);
/* Each tensor clipped to L2 norm max_norm on its own. */
RG_API rg_status rg_clip_grad_norm_per_tensor(rg_ctx *ctx, rg_tensor *const *params, int n,
                                       float max_norm, const rg_clip_opts *o, rg_clip_result *r);
/* Adaptive gradient clipping (Brock et al. 2021): each row i of a rank >= 2
 * parameter has its gradient scaled so that |g_i| <= lambda max(|w_i|, eps),
 * eps = 1e-3; rank-1 parameters are treated as one row. exempt[i] true skips
 * params[i] (e.g. the classifier); exempt may be NULL. */
RG_API rg_status rg_clip_agc(rg_ctx *ctx, rg_tensor *const *params, int n, float lambda,
                      const bool *exempt, const rg_clip_opts *o, rg_clip_result *r);

/* History-adaptive clipping: the global L2 norm is clipped to factor x an
 * exponential moving average (weight 1 - beta per step) of past post-clip
 * norms once warmup norms have been seen. With z_threshold > 0 a step whose
 * norm lies more than z_threshold standard deviations (of the same
 * exponential weighting; floored at 1e-6 of the average) above the average
 * is skipped (r->skip; its norm stays out of the statistics), at most
 * max_skips steps in a row (0 means 5): the next outlier of the same run is
 * taken as a level shift, and the average restarts at the mean norm of the
 * run with the variance rescaled to it, so a sustained rise is absorbed
 * after max_skips skipped steps, while a lone spike is skipped and
 * forgotten (as optax's apply_if_finite bounds its skips with
 * max_consecutive_errors). The statistics are state: checkpoints carry them
 * (record "ema_clipper.<n>"). RG_EINVAL unless factor is finite and > 0,
 * beta in [0, 1), warmup and max_skips 0 to 2^53, z_threshold finite and
 * >= 0. */
typedef struct rg_ema_clip_config {
  float factor, beta;
  int64_t warmup;
  float z_threshold;
  int64_t max_skips;
} rg_ema_clip_config;
typedef struct rg_ema_clipper rg_ema_clipper;
RG_API rg_ema_clipper *rg_ema_clipper_new(rg_ctx *ctx, const rg_ema_clip_config *cfg);
RG_API rg_status rg_ema_clip(rg_ema_clipper *c, rg_tensor *const *params, int n, const rg_clip_opts *o,
                      rg_clip_result *r);
/* Frees the clipper (before its context). */
RG_API void rg_ema_clipper_free(rg_ema_clipper *c);

/* The fused statistics pass itself. */
RG_API rg_grad_report *rg_grad_report_new(rg_ctx *ctx, int n);
RG_API rg_status rg_grad_measure(rg_ctx *ctx, rg_tensor *const *params, int n, rg_grad_report *rep);
RG_API void rg_grad_report_free(rg_grad_report *rep);

/* ---------------------------------------------------------- diagnostics */

/* Per-parameter health after each step: |g|, |w|, |dw| / |w| (dw the
 * update of the step), and alerts: vanishing when |g| < vanish, exploding
 * when |g| > explode or not finite. */
typedef struct rg_param_diag {
  const char *name;
  float grad_norm, weight_norm, update_ratio;
  bool vanishing, exploding;
} rg_param_diag;

typedef struct rg_diag rg_diag;
/* Watches every parameter of the context (create after the model);
 * thresholds 0 mean 1e-7 and 1e3. */
RG_API rg_diag *rg_diag_new(rg_ctx *ctx, float vanish, float explode);
/* Call after backward and before rg_optim_step (records |g| and the weights),
 * then rg_diag_after_step after it (measures the update). */
RG_API rg_status rg_diag_before_step(rg_diag *d);
RG_API rg_status rg_diag_after_step(rg_diag *d);
RG_API const rg_param_diag *rg_diag_params(const rg_diag *d, int *n);
/* Counts of parameters flagged in the last step. */
RG_API int rg_diag_alerts(const rg_diag *d, int *vanishing, int *exploding);
/* CSV: "step,param,grad_norm,weight_norm,update_ratio,vanishing,exploding";
 * one row per parameter. */
RG_API const char *rg_diag_csv_header(void);
RG_API int rg_diag_write_csv(const rg_diag *d, FILE *file, int64_t step);
RG_API void rg_diag_free(rg_diag *d);

/* Anomaly mode: every op checks its output in forward, and every backward
 * rule the gradients it produced; the first non-finite value sets
 * RG_ENONFINITE with the op name, its tape position and the shapes. */
RG_API void rg_set_anomaly_mode(rg_ctx *ctx, bool on);

/* ------------------------------------------------------------- models */

/* A multilayer perceptron: hidden layers linear -> [batch norm] ->
 * activation -> [dropout], then a linear classifier. Parameters are named
 * "<prefix>.<layer>.w" / ".b" (batch norm: ".gamma", ".beta" and buffers
 * ".running_mean", ".running_var"). */
#define RG_MLP_MAX_LAYERS 64
typedef struct rg_mlp_config {
  int in, out;
  int hidden; /* number of hidden layers */
  int widths[RG_MLP_MAX_LAYERS];
  rg_nonlinearity activation; /* RG_RELU, RG_LEAKY_RELU, RG_TANH, RG_SIGMOID */
  float leaky_slope;
  bool batch_norm;
  float dropout; /* 0 for none */
} rg_mlp_config;

/* Weight initialization schemes of rg_mlp_init(_gain), for a weight [out, in]
 * with fan_in = in, fan_out = out. The gain g is the scheme's default unless
 * rg_mlp_init_gain gives one (PyTorch's defaults: torch.nn.init's xavier_*_
 * and orthogonal_ take gain 1, kaiming_*_ the nonlinearity's gain):
 *   NORMAL           N(0, scale^2); no gain
 *   UNIFORM          U(-scale, scale); no gain
 *   XAVIER_UNIFORM   Glorot: U(-b, b), b = g sqrt(6 / (fan_in + fan_out)); g = 1
 *   XAVIER_NORMAL    Glorot: N(0, std^2), std = g sqrt(2 / (fan_in + fan_out)); g = 1
 *   KAIMING_UNIFORM  He, fan-in: U(-b, b), b = sqrt(3) g / sqrt(fan_in)
 *   KAIMING_NORMAL   He, fan-in: N(0, std^2), std = g / sqrt(fan_in)
 *                    Kaiming's default g is rg_calculate_gain of the hidden
 *                    activation (relu sqrt 2, leaky_relu sqrt(2 / (1 + slope^2)),
 *                    tanh 5/3, sigmoid 1), and 1 (linear) for the classifier
 *   ORTHOGONAL       a (semi-)orthogonal matrix times g; g = 1
 *   STANDARD         Glorot & Bengio's "standard" init, also PyTorch's
 *                    nn.Linear weight default: U(-1/sqrt(fan_in), 1/sqrt(fan_in));
 *                    no gain, scale ignored (regrad zeroes biases; nn.Linear
 *                    draws them from the same range)
 * Until the init-gain change, Xavier and orthogonal used the activation's
 * gain too (Xavier with ReLU was He's std, with tanh 5/3 times Glorot's). */
typedef enum rg_init_scheme {
  RG_INIT_NORMAL,
  RG_INIT_UNIFORM,
  RG_INIT_XAVIER_UNIFORM,
  RG_INIT_XAVIER_NORMAL,
  RG_INIT_KAIMING_UNIFORM,
  RG_INIT_KAIMING_NORMAL,
  RG_INIT_ORTHOGONAL,
  RG_INIT_STANDARD
} rg_init_scheme;

typedef struct rg_mlp rg_mlp;
RG_API rg_mlp *rg_mlp_new(rg_ctx *ctx, const char *prefix, const rg_mlp_config *cfg);
/* Initializes every weight by the scheme with its default gain (scale is
 * read by RG_INIT_NORMAL and RG_INIT_UNIFORM only, and must be finite and
 * >= 0 there), zero biases, batch norm gamma 1, beta 0, running mean 0,
 * variance 1. The same as rg_mlp_init_gain(m, scheme, scale, 0). rg_mlp_new
 * has already run rg_mlp_init(m, RG_INIT_KAIMING_UNIFORM, 0). */
RG_API rg_status rg_mlp_init(rg_mlp *m, rg_init_scheme scheme, float scale);
/* rg_mlp_init with an explicit gain: 0 is the scheme's default; any other
 * gain must be finite and > 0 and is used for every weight, the classifier's
 * included. RG_EINVAL (naming the function, the argument and its value) for
 * a bad gain, a non-zero gain with a scheme that has none (NORMAL, UNIFORM,
 * STANDARD), an unknown scheme or a bad scale. */
RG_API rg_status rg_mlp_init_gain(rg_mlp *m, rg_init_scheme scheme, float scale, float gain);
/* Logits [batch, out] for x [batch, in]. */
RG_API rg_tensor *rg_mlp_forward(rg_mlp *m, rg_tensor *x);
/* Linear layers (hidden + 1), and the weight of layer i. */
RG_API int rg_mlp_depth(const rg_mlp *m);
RG_API rg_tensor *rg_mlp_weight(const rg_mlp *m, int i);
RG_API rg_tensor *rg_mlp_bias(const rg_mlp *m, int i);
/* Frees the MLP object (before its context; its tensors stay with the context). */
RG_API void rg_mlp_free(rg_mlp *m);

/* Inference for small batches, such as one request at a time. A predictor is
 * a snapshot of an MLP in evaluation mode with every weight stored transposed
 * ([in, out]), so that an input row streams each weight once with plain
 * vector loads (rg_mlp_forward multiplies by W^T, which a one-row product can
 * only do by transposing W on the fly). Its logits are bit-identical to
 * rg_mlp_forward's in evaluation mode: the same fused multiply-adds in the
 * same order. It does not follow the MLP: after training steps or a
 * checkpoint load, call rg_predictor_refresh. It owns about one copy of the
 * MLP's parameters; the MLP must outlive it (refresh reads it). Free it with
 * rg_predictor_free (before or after the context). */
typedef struct rg_predictor rg_predictor;
RG_API rg_predictor *rg_predictor_new(rg_mlp *m);
RG_API rg_status rg_predictor_refresh(rg_predictor *p);
/* logits [rows, out] for x [rows, in], rows >= 1; allocates nothing. */
RG_API rg_status rg_predict(rg_predictor *p, const float *x, int64_t rows, float *logits);
RG_API void rg_predictor_free(rg_predictor *p);

/* ------------------------------------------------------------------ data */

/* A labelled dataset in memory: x [n, features] as float32 (pixels scaled
 * to [0, 1] by the loaders), y [n] int32 class labels in [0, classes). The
 * dataset owns its arrays; rows, cols describe the image (features =
 * rows * cols). */
typedef struct rg_dataset {
  int64_t n, features;
  int rows, cols, classes;
  float *x;
  int32_t *y;
} rg_dataset;

/* Reads an IDX image file (magic 0x00000803, u8 [n, rows, cols]) and an IDX
 * label file (magic 0x00000801, u8 [n]), plain or gzip-compressed (detected
 * from the content), into a dataset with pixels scaled by 1/255. The magic
 * numbers, dimensions and the sizes against the file length are validated
 * before any data is read (a gzip file must be large enough to hold what
 * its header claims, at most 1032 bytes per byte; the data and the dataset
 * made from it must fit in what mem_limit leaves, else RG_ENOMEM); nothing
 * may follow the data, nor the last gzip member:
 * RG_EFORMAT with the file name and what is wrong; RG_EIO when a file cannot
 * be opened or read, or is not a regular file (a FIFO, a directory, a
 * device: refused at once, "\"path\" is a FIFO, expected a regular file",
 * never waited on). The counts of the two files must agree. */
RG_API rg_dataset *rg_dataset_load_idx(rg_ctx *ctx, const char *images_path, const char *labels_path);

/* Loads the training or test part of an MNIST-format directory: dir holds
 * train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
 * and t10k-labels-idx1-ubyte, each optionally with a .gz suffix. NULL dir
 * means RG_DEFAULT_DATA_DIR, where Debian's dataset-fashion-mnist installs
 * Fashion-MNIST. */
#define RG_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
RG_API rg_dataset *rg_dataset_load_mnist(rg_ctx *ctx, const char *dir, bool train);

/* A dataset of the given rows of src (copied; repeats allowed, n may be 0),
 * e.g. a split or a fold. Datasets hold plain malloc memory (not counted in
 * rg_ctx_stats); classes is the largest label + 1. */
RG_API rg_dataset *rg_dataset_subset(rg_ctx *ctx, const rg_dataset *src, const int64_t *rows, int64_t n);
RG_API void rg_dataset_free(rg_dataset *ds);

/* A deterministic permutation of 0..n-1 from (seed, stream) via Philox,
 * written to perm (Fisher-Yates). */
RG_API void rg_permutation(uint64_t seed, uint64_t stream, int64_t n, int64_t *perm);

/* Shuffles (seed) and splits src into train and validation parts, the last
 * round(val_fraction * n) shuffled rows going to validation; val_fraction in
 * [0, 1) (0 gives an empty validation set; RG_EINVAL if no training row
 * would remain). */
RG_API rg_status rg_dataset_split(rg_ctx *ctx, const rg_dataset *src, double val_fraction, uint64_t seed,
                           rg_dataset **train, rg_dataset **val);

/* Standardization fitted on one dataset and applied to others: x' = (x -
 * mean) * (1 / std) with a single mean and population std (divided by N) over
 * all features and rows of the fitting set (std floored at 1e-6; apply
 * refuses a smaller std). Fit on the training part only, then apply to
 * validation and test. */
typedef struct rg_standardizer {
  float mean, std;
} rg_standardizer;
RG_API rg_standardizer rg_standardizer_fit(const rg_dataset *ds);
RG_API void rg_standardizer_apply(rg_ctx *ctx, const rg_standardizer *st, rg_dataset *ds);

/* K-fold cross-validation over n rows (shuffled by seed): fold k in
 * [0, folds) yields validation rows (about n / folds) and training rows (the
 * rest); every row is validation in exactly one fold. The arrays must hold n
 * entries; counts are written to *n_train, *n_val. folds >= 2. */
RG_API rg_status rg_kfold(rg_ctx *ctx, int64_t n, int folds, int k, uint64_t seed, int64_t *train_rows,
                   int64_t *n_train, int64_t *val_rows, int64_t *n_val);

/* Minibatches over a dataset: each epoch visits every row once, in an order
 * shuffled from (seed, epoch) when shuffle is set; the last batch may be
 * smaller. rg_batcher_next fills x [b, features] and y [b] in buffers
 * allocated once by rg_batcher_new, so iterating allocates nothing; it
 * returns the batch size, 0 at the end of the epoch (the next call starts the
 * next epoch, which rg_batcher_epoch already reports), or -1 on error (x or y
 * NULL; the context's error is set). The dataset must outlive the batcher,
 * and the batcher must be freed before the context. */
typedef struct rg_batcher rg_batcher;
RG_API rg_batcher *rg_batcher_new(rg_ctx *ctx, const rg_dataset *ds, int64_t batch, bool shuffle,
                           uint64_t seed);
RG_API int64_t rg_batcher_next(rg_batcher *b, const float **x, const int32_t **y);
RG_API int64_t rg_batcher_epoch(const rg_batcher *b);
RG_API void rg_batcher_free(rg_batcher *b);

/* ----------------------------------------------------------- checkpoints */

/* Training progress saved beside the tensors, for a caller's own loop. */
typedef struct rg_train_state {
  int64_t step, epoch;
} rg_train_state;

/* Saves the context: every parameter and buffer (optimizer moments live in
 * buffers; gradients are not saved), the seed, the dropout stream counter,
 * the state of every optimizer, clipper, batcher, diagnostics and trainer
 * made from the context (step counts, running statistics, position in the
 * data: what decides the next step, so a resumed run gives the same bytes
 * as an uninterrupted one), the context's attributes (rg_ctx_set_attr) and
 * *st (NULL saves a zero state). Format (docs/checkpoints.md): a versioned
 * header, then sections each with a CRC32, little-endian. path must be a
 * regular file or a new name; a symbolic link is followed and its target
 * replaced (the link stays); a directory, FIFO or device is refused
 * (RG_EIO, nothing written). The data goes to a temporary file in the
 * target's directory (unnamed with O_TMPFILE where the file system has it,
 * else ".<name>.XXXXXXXX" with a random suffix, so concurrent savers never
 * share one), is fsynced, renamed over the target, and the directory
 * fsynced: a crash leaves either the old or the new file, and concurrent
 * saves to one path leave one of them complete. A killed process may leave
 * a ".<name>.XXXXXXXX" behind (only with named temporary files or between
 * link and rename); a save never deletes one. The new file has mode 0666
 * minus the umask. Errors: RG_EINVAL for a NULL or empty path; RG_EIO for a
 * refused target or when a write fails (path untouched, no temporary file
 * left), or when only the final directory sync fails (the new file is then
 * in place). A pending error is returned without saving. */
RG_API rg_status rg_checkpoint_save(rg_ctx *ctx, const char *path, const rg_train_state *st);

/* Loads a checkpoint into a context holding the same model and training
 * objects: the same parameter and buffer names and shapes (in any creation
 * order; create the optimizer first so its state buffers exist), and the
 * same optimizers, clippers, batchers, diagnostics and trainers, made in the
 * same order (their state records are named "optim.0", "ema_clipper.0",
 * ...). Restores all of it, the seed, the dropout stream and the
 * attributes (added to or replacing the context's); gradients are left
 * untouched. The whole file is read into memory and validated before
 * anything changes, so a failed load leaves the context as it was: RG_EIO
 * when the file cannot be opened or read, or is not a regular file (a FIFO,
 * a directory, a device: refused at once, never waited on); RG_EFORMAT for a bad magic, a
 * newer version, a CRC mismatch, truncation, an inconsistent size (with the
 * byte offset) or a state record out of range (a negative count, a NaN
 * statistic); RG_ESHAPE naming the first tensor or state record that is
 * missing, extra, of the wrong kind or shaped differently. A version-1 file
 * (regrad 0.1) holds no state records: it loads into a context without
 * optimizers or clippers, or through rg_checkpoint_load_model. st may be
 * NULL. */
RG_API rg_status rg_checkpoint_load(rg_ctx *ctx, const char *path, rg_train_state *st);

/* Loads only the model: every parameter and buffer of the context must be
 * in the file with the same kind and shape; the file's other tensors (an
 * optimizer's moments), its state records, seed and attributes are
 * ignored. For evaluation and fine-tuning. Errors as rg_checkpoint_load. */
RG_API rg_status rg_checkpoint_load_model(rg_ctx *ctx, const char *path);

/* Reads the attribute `key` of a checkpoint file (validating the whole
 * file) into buf (size bytes, NUL-terminated), without loading anything:
 * how `regrad eval` learns the architecture before building the model.
 * RG_ERANGE when the file has no such attribute, RG_EOVERFLOW when the value
 * does not fit in size bytes; file errors as rg_checkpoint_load. */
RG_API rg_status rg_checkpoint_read_attr(rg_ctx *ctx, const char *path, const char *key, char *buf,
                                  size_t size);

/* --------------------------------------------------------------- trainer */
/* One training loop, used by `regrad train`, `regrad study` and the
 * data-parallel run alike: minibatches over a training set, the forward pass
 * of an MLP in training mode, cross-entropy (with label smoothing) plus an
 * optional penalty over the weights, backward, one statistics pass over the
 * gradients, clipping, the optimizer step at the schedule's rate, optional
 * diagnostics, a validation pass and early stopping at the end of each
 * epoch, and checkpoints. Everything a step depends on (the optimizer, the
 * clipper's statistics, the data order, the trainer's counters, the best
 * weights so far) is registered with the context, so a run saved and
 * resumed with rg_checkpoint_load gives the same bytes as one that was never
 * interrupted. After its first step a step allocates nothing.
 *
 * Non-finite values: a NaN or infinite loss or gradient is a divergence,
 * recorded as a result (rg_train_report.diverged_step), not an error, and
 * handled by the clipping config's non-finite policy: RG_NONFINITE_ERROR
 * stops before the update (the weights keep their last finite values),
 * RG_NONFINITE_PROPAGATE takes the update and stops, RG_NONFINITE_SKIP skips
 * the update, RG_NONFINITE_ZERO updates with zero gradients; the last two
 * keep training. A diverged step never marks progress: a run that stops on
 * a divergence saves no checkpoint, so the last one on disk is from before
 * it. */

typedef struct rg_dist rg_dist;

typedef enum rg_clip_mode {
  RG_CLIP_NONE,
  RG_CLIP_VALUE,      /* rg_clip_grad_value(value) */
  RG_CLIP_NORM,       /* rg_clip_grad_norm(max_norm, norm_type) */
  RG_CLIP_PER_TENSOR, /* rg_clip_grad_norm_per_tensor(max_norm) */
  RG_CLIP_AGC,        /* rg_clip_agc(agc_lambda), the classifier exempt */
  RG_CLIP_EMA         /* rg_ema_clip(ema) */
} rg_clip_mode;

/* A clipping mode with its parameters (0 means: value 1, max_norm 1,
 * norm_type 2, agc_lambda 0.01; ema as rg_ema_clipper_new) and the
 * non-finite policy (rg_nonfinite). */
typedef struct rg_clip_config {
  rg_clip_mode mode;
  float value, max_norm, norm_type, agc_lambda;
  rg_ema_clip_config ema;
  rg_nonfinite nonfinite;
} rg_clip_config;

typedef enum rg_penalty_kind {
  RG_PENALTY_NONE,
  RG_PENALTY_L1,     /* rg_l1_penalty(lambda) */
  RG_PENALTY_L2,     /* rg_l2_penalty(lambda) */
  RG_PENALTY_ELASTIC /* rg_elastic_net_penalty(lambda, l1_ratio) */
} rg_penalty_kind;

/* Per-layer statistics of one training step (rg_step_info.layer_stats), for
 * linear layer i (0 = first; the last is the classifier). "Output" is the
 * layer's post-activation output h [batch, width] before dropout (the
 * classifier: its logits), over all batch x width elements:
 *   act_mean, act_std   mean and population standard deviation of h
 *   saturation          fraction of h in the activation's flat region:
 *                       sigmoid y < 0.02 or y > 0.98 (sigma' < 0.0196, under
 *                       8% of its peak 0.25); tanh |y| > 0.98 (tanh' < 0.04);
 *                       relu y == 0 (dead: no gradient passes); leaky_relu
 *                       the x < 0 side (y < 0 for a slope > 0, y == 0 for
 *                       slope 0, NAN for a slope < 0, which the output
 *                       cannot tell); NAN for the classifier
 *   dldh_norm           |dL/dh|_2, the back-propagated gradient reaching the
 *                       output (the classifier: dL/dlogits); NAN in a
 *                       data-parallel run (rg_trainer_set_dist)
 *   dw_norm, dw_rms     |dL/dW_i|_F before clipping, and / sqrt(numel(W_i))
 *                       (per-element RMS: free of the layer's shape factor)
 *   update_ratio        |W_after - W_before|_2 / |W_after|_2 of the step
 *                       (rg_diag's update_ratio; 0 for a skipped step)
 * Sums run in a fixed order (the sums of squares through the deterministic
 * sumsq kernel), so the values are bit-identical on every ISA and thread
 * count. */
typedef struct rg_layer_stats {
  float act_mean, act_std, saturation;
  float dldh_norm;
  float dw_norm, dw_rms;
  float update_ratio;
} rg_layer_stats;

/* What the trainer reports after each step. layer_grad_norm[i] is |dL/dW_i|
 * of linear layer i (0 = first), and param_grad_norm[i] the L2 norm of the
 * gradient of params[i] (every parameter of the model, in creation order),
 * before clipping; diag (n_diag rows, when diagnostics are on) is
 * rg_diag_params after the step, with its alert counts. */
typedef struct rg_step_info {
  int64_t step, epoch;       /* step: steps run before this one, in all */
  float loss, lr;
  float grad_norm;           /* global L2 norm, before clipping */
  float clip_scale;          /* the coefficient the update applied (1: none) */
  bool finite, skipped;
  int layers, n_params;
  const float *layer_grad_norm;
  rg_tensor *const *params;
  const float *param_grad_norm;
  const rg_param_diag *diag;
  int n_diag, vanishing, exploding;
  const rg_layer_stats *layer_stats; /* [layers] on layer-stats steps, else NULL */
} rg_step_info;

/* What the trainer reports after each epoch: the mean loss and accuracy of
 * its training steps (finite ones; NAN in a data-parallel run, where each
 * rank sees its rows only), and the validation loss and accuracy (NAN
 * without a validation set). best: the best validation loss so far. */
typedef struct rg_epoch_info {
  int64_t epoch, steps, skipped;
  float train_loss, train_acc, val_loss, val_acc;
  bool best;
  double seconds;
} rg_epoch_info;

/* Callbacks: return false to stop training (it then ends as after
 * max_steps: a final checkpoint is saved when save_path is set). */
typedef bool (*rg_step_fn)(const rg_step_info *s, void *user);
typedef bool (*rg_epoch_fn)(const rg_epoch_info *e, void *user);

/* Zero-initialize and set what you need. batch >= 1 (rows per step; the
 * last smaller batch of an epoch is used, except a 1-row batch with batch
 * norm); epochs >= 1; max_steps: stop after this many steps in all (0: no
 * limit). seed: the data order. schedule: total_steps 0 means the whole run
 * after warm-up. penalty over the weights (rank >= 2 parameters), with
 * penalty_lambda and l1_ratio (elastic net). save_path: a checkpoint at the
 * end of every complete epoch and when training ends (not on a
 * divergence); save_every N also saves every N steps, and keep K keeps the
 * last K of those as "<save_path>.step-<step>" besides. early_stop P stops
 * after P epochs without a better validation loss and restores the weights
 * (and buffers) of the best epoch (they are kept in buffers "best.<name>",
 * so checkpoints carry them). diagnostics: rg_diag per step, with the
 * vanish/explode thresholds (0: rg_diag_new's defaults). layer_stats_every
 * N > 0: rg_step_info.layer_stats on step 0 and every N steps, on the last
 * step (max_steps - 1) and on the first step with a non-finite loss or
 * gradient; 0 (default) never, and then steps do no extra work. */
typedef struct rg_trainer_config {
  int64_t batch;
  int epochs;
  int64_t max_steps;
  uint64_t seed;
  rg_schedule schedule;
  rg_clip_config clip;
  float label_smoothing;
  rg_penalty_kind penalty;
  float penalty_lambda, l1_ratio;
  const char *save_path;
  int64_t save_every;
  int keep;
  int early_stop;
  bool diagnostics;
  float diag_vanish, diag_explode;
  int64_t layer_stats_every;
  rg_step_fn on_step;
  rg_epoch_fn on_epoch;
  void *user;
} rg_trainer_config;

/* How a run ended. steps and epochs count from the start of the first run
 * (a resumed run continues the counts). diverged_step: the first step with
 * a non-finite loss or gradient, -1 if none (message says what). The
 * metrics are those of the last epoch, or of the partial epoch when
 * training stopped inside one. step_heap_allocs: heap allocations made by
 * the steps after the first one (0 by design). */
typedef struct rg_train_report {
  int64_t steps, epochs, diverged_step, best_epoch;
  float train_loss, train_acc, val_loss, val_acc, best_val_loss;
  bool stopped_early, stopped_by_callback;
  int64_t step_heap_allocs;
  double seconds;
  char message[256];
} rg_train_report;

typedef struct rg_trainer rg_trainer;

/* A trainer for model m with optimizer opt (its learning rate comes from
 * the schedule) on train (and val, which may be NULL or empty; early_stop
 * needs one). The datasets and the objects must outlive the trainer, and the
 * trainer must be freed before the context. Create it, and any object whose
 * state is in checkpoints, before rg_checkpoint_load, in the same order as
 * the run that saved. RG_EINVAL naming the field for a bad configuration;
 * RG_ESHAPE when the data does not fit the model. */
RG_API rg_trainer *rg_trainer_new(rg_mlp *m, rg_optim *opt, const rg_dataset *train,
                           const rg_dataset *val, const rg_trainer_config *cfg);
/* Trains until epochs or max_steps are done, early stopping or a callback
 * stops it, or a divergence under the error or propagate policy; continues
 * from the trainer's state (after rg_checkpoint_load: where the saved run
 * was). Fills *r (may be NULL). Returns RG_OK (also for a divergence) or the
 * error that stopped it (a failed save: RG_EIO). */
RG_API rg_status rg_trainer_run(rg_trainer *t, rg_train_report *r);
/* Data-parallel training (docs/distributed.md): the gradient of each step
 * comes from rg_dist_backward over d, made after the trainer (its buffers
 * and state are part of the model every rank must agree on); every rank runs
 * the trainer with the same configuration, and only rank 0 saves. NULL goes
 * back to one process. RG_EINVAL for a d of another context. */
RG_API rg_status rg_trainer_set_dist(rg_trainer *t, rg_dist *d);
/* The objective a step differentiates, on rows x [rows, in] with labels:
 * cross-entropy (with the label smoothing) of the model's logits plus the
 * penalty, recorded on the tape (for a gradient check of the configured
 * model). NULL on error, as an op. */
RG_API rg_tensor *rg_trainer_loss(rg_trainer *t, rg_tensor *x, const int32_t *labels);
/* Steps and complete epochs run so far. */
RG_API int64_t rg_trainer_steps(const rg_trainer *t);
RG_API int64_t rg_trainer_epochs(const rg_trainer *t);
RG_API void rg_trainer_free(rg_trainer *t);

/* The mean cross-entropy and accuracy of m on the first max_rows rows of ds
 * (0: all), in evaluation mode without recording, 1000 rows at a time; the
 * context's modes are restored afterwards. NAN for an empty set. */
RG_API rg_status rg_mlp_evaluate(rg_mlp *m, const rg_dataset *ds, int64_t max_rows, double *loss,
                          double *accuracy);

#ifdef __cplusplus
}
#endif
#endif
