/* The linear layer's epilogue (struct rg_epilogue, kernels.h) inside every
 * ISA's gemm; included by src/<isa>/gemm.c after isa.h. A block of C gets
 * the bias just before its first k-block reads C as the starting value, and
 * the activation right after its last k-block stored it, while the block is
 * still in L1: the linear output never makes a trip through memory of its
 * own. The activation is this ISA's own slot body, so every value is the one
 * the separate activation op computes. */
#ifndef RG_GEMM_EPILOGUE_H
#define RG_GEMM_EPILOGUE_H

/* Whether the first k-block starts from C: accumulating, or C holds the bias. */
static inline int rg_epi_loads(const struct rg_epilogue *ep, int acc) {
  return acc || (ep && ep->bias);
}

/* The bias from column j0 on, or NULL: the blocked paths start their
 * accumulators from it instead of copying it into C first. */
static inline const float *rg_epi_bias(const struct rg_epilogue *ep, int64_t j0) {
  return ep && ep->bias ? ep->bias + j0 : NULL;
}

/* Rows [0, rows) x columns [j0, j0 + cols) of C (at c) start from the bias. */
static inline void rg_epi_start(const struct rg_epilogue *ep, int64_t j0, int64_t rows,
                                int64_t cols, float *c, int64_t ldc) {
  if (!ep || !ep->bias) return;
  for (int64_t r = 0; r < rows; r++) memcpy(c + r * ldc, ep->bias + j0, (size_t)cols * sizeof *c);
}

/* The activation over a finished rows x cols block of C. */
static inline void rg_epi_finish(const struct rg_epilogue *ep, int64_t rows, int64_t cols,
                                 float *c, int64_t ldc) {
  if (!ep || ep->act == RG_LINEAR) return;
  for (int64_t r = 0; r < rows; r++) {
    float *row = c + r * ldc;
    switch (ep->act) {
      case RG_RELU: RG_BODY(relu_fwd)(cols, row, row); break;
      case RG_LEAKY_RELU: RG_BODY(leaky_relu_fwd)(cols, ep->alpha, row, row); break;
      case RG_TANH: RG_BODY(tanh_fwd)(cols, row, row); break;
      case RG_SIGMOID: RG_BODY(sigmoid_fwd)(cols, row, row); break;
      case RG_LINEAR: break;
    }
  }
}

/* Calls with nothing to multiply, handled in full (returns 1): no C at all,
 * or the empty sum k <= 0, which makes C act(bias), act(C) when
 * accumulating, or act(+0). */
static inline int rg_gemm_degenerate(int64_t m, int64_t n, int64_t k, int acc,
                                     const struct rg_epilogue *ep, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return 1;
  if (k > 0) return 0;
  if (ep && ep->bias)
    rg_epi_start(ep, 0, m, n, c, ldc);
  else if (!acc)
    for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof *c);
  rg_epi_finish(ep, m, n, c, ldc);
  return 1;
}

#endif
