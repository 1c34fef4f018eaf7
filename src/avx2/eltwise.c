/* AVX2 bodies of the elementwise slots: each op below is the expression of
 * its scalar body (scalar/eltwise.c) on 8 lanes, run by the rg_map driver.
 * "?:" becomes a compare + select with the same NaN behaviour; the names of
 * the rg_vin fields follow the slot's parameters in order. */
#define RG_ISA avx2
#include "isa.h"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "src/avx2 must be compiled with -mavx2 -mfma"
#endif

#include "simd.h"
#include "vmath.h"

/* (x < 0) ? 0 : x */
RG_INLINE __m256 relu_fwd_op(const struct rg_vin *in) {
  return rg_sel(rg_lt(in->a, rg_zero()), rg_zero(), in->a);
}

/* dx + ((x > 0) ? dy : 0) */
RG_INLINE __m256 relu_bwd_op(const struct rg_vin *in) {
  return in->c + rg_keep(rg_gt(in->a, rg_zero()), in->b);
}

/* (x < 0) ? alpha x : x */
RG_INLINE __m256 leaky_relu_fwd_op(const struct rg_vin *in) {
  return rg_sel(rg_lt(in->a, rg_zero()), in->s * in->a, in->a);
}

/* dx + ((x > 0) ? dy : alpha dy) */
RG_INLINE __m256 leaky_relu_bwd_op(const struct rg_vin *in) {
  return in->c + rg_sel(rg_gt(in->a, rg_zero()), in->b, in->s * in->b);
}

RG_INLINE __m256 sigmoid_fwd_op(const struct rg_vin *in) { return rg_vsigmoid(in->a); }

/* fma(dy, y (1 - y), dx) */
RG_INLINE __m256 sigmoid_bwd_op(const struct rg_vin *in) {
  return _mm256_fmadd_ps(in->b, in->a * (rg_set(1.0f) - in->a), in->c);
}

RG_INLINE __m256 tanh_fwd_op(const struct rg_vin *in) { return rg_vtanh(in->a); }

/* fma(dy, fma(-y, y, 1), dx) */
RG_INLINE __m256 tanh_bwd_op(const struct rg_vin *in) {
  __m256 d = _mm256_fmadd_ps(rg_neg(in->a), in->a, rg_set(1.0f));
  return _mm256_fmadd_ps(in->b, d, in->c);
}

/* (0.5 x) (1 + tanh(u)) */
RG_INLINE __m256 gelu_fwd_op(const struct rg_vin *in) {
  __m256 t = rg_vtanh(rg_vgelu_u(in->a));
  return (rg_set(0.5f) * in->a) * (rg_set(1.0f) + t);
}

/* fma(dy, fma(0.5 x, fma(-t, t, 1) du, 0.5 (1 + t)), dx), du = c0 fma(3 c1,
 * min(x x, 100), 1) */
RG_INLINE __m256 gelu_bwd_op(const struct rg_vin *in) {
  __m256 x = in->a, one = rg_set(1.0f), half = rg_set(0.5f);
  __m256 t = rg_vtanh(rg_vgelu_u(x));
  __m256 du = rg_set(RG_GELU_C0) * _mm256_fmadd_ps(rg_set(3.0f * RG_GELU_C1), rg_vgelu_x2(x), one);
  __m256 d = _mm256_fmadd_ps(half * x, _mm256_fmadd_ps(rg_neg(t), t, one) * du, half * (one + t));
  return _mm256_fmadd_ps(in->b, d, in->c);
}

RG_INLINE __m256 exp_fwd_op(const struct rg_vin *in) { return rg_vexp(in->a); }
RG_INLINE __m256 log_fwd_op(const struct rg_vin *in) { return rg_vlog(in->a); }

/* dx + dy / x */
RG_INLINE __m256 log_bwd_op(const struct rg_vin *in) { return in->c + in->b / in->a; }

/* (x < lo) ? lo : ((x > hi) ? hi : x); the inner choice is minps(hi, x). */
RG_INLINE __m256 clamp_fwd_op(const struct rg_vin *in) {
  return rg_sel(rg_lt(in->a, in->s), in->s, _mm256_min_ps(in->t, in->a));
}

/* dx + ((x >= lo && x <= hi) ? dy : 0) */
RG_INLINE __m256 clamp_bwd_op(const struct rg_vin *in) {
  __m256 inside = _mm256_and_ps(rg_ge(in->a, in->s), rg_le(in->a, in->t));
  return in->c + rg_keep(inside, in->b);
}

RG_INLINE __m256 add_op(const struct rg_vin *in) { return in->a + in->b; }
RG_INLINE __m256 sub_op(const struct rg_vin *in) { return in->a - in->b; }
RG_INLINE __m256 mul_op(const struct rg_vin *in) { return in->a * in->b; }
RG_INLINE __m256 scale_op(const struct rg_vin *in) { return in->s * in->a; }
/* fma(a, x, y) and fma(a, b, y) */
RG_INLINE __m256 axpy_op(const struct rg_vin *in) { return _mm256_fmadd_ps(in->s, in->a, in->b); }
RG_INLINE __m256 mul_acc_op(const struct rg_vin *in) { return _mm256_fmadd_ps(in->a, in->b, in->c); }
/* y + sign(x) a */
RG_INLINE __m256 sign_acc_op(const struct rg_vin *in) { return in->b + rg_signsel(in->a, in->s); }

void rg_relu_fwd__avx2(int64_t n, const float *x, float *y) {
  rg_map1(n, relu_fwd_op, 0.0f, 0.0f, x, y);
}
void rg_relu_bwd__avx2(int64_t n, const float *x, const float *dy, float *dx) {
  rg_map3(n, relu_bwd_op, 0.0f, 0.0f, x, dy, dx, dx);
}
void rg_leaky_relu_fwd__avx2(int64_t n, float alpha, const float *x, float *y) {
  rg_map1(n, leaky_relu_fwd_op, alpha, 0.0f, x, y);
}
void rg_leaky_relu_bwd__avx2(int64_t n, float alpha, const float *x, const float *dy, float *dx) {
  rg_map3(n, leaky_relu_bwd_op, alpha, 0.0f, x, dy, dx, dx);
}
void rg_sigmoid_fwd__avx2(int64_t n, const float *x, float *y) {
  rg_map1(n, sigmoid_fwd_op, 0.0f, 0.0f, x, y);
}
void rg_sigmoid_bwd__avx2(int64_t n, const float *y, const float *dy, float *dx) {
  rg_map3(n, sigmoid_bwd_op, 0.0f, 0.0f, y, dy, dx, dx);
}
void rg_tanh_fwd__avx2(int64_t n, const float *x, float *y) {
  rg_map1(n, tanh_fwd_op, 0.0f, 0.0f, x, y);
}
void rg_tanh_bwd__avx2(int64_t n, const float *y, const float *dy, float *dx) {
  rg_map3(n, tanh_bwd_op, 0.0f, 0.0f, y, dy, dx, dx);
}
void rg_gelu_fwd__avx2(int64_t n, const float *x, float *y) {
  rg_map1(n, gelu_fwd_op, 0.0f, 0.0f, x, y);
}
void rg_gelu_bwd__avx2(int64_t n, const float *x, const float *dy, float *dx) {
  rg_map3(n, gelu_bwd_op, 0.0f, 0.0f, x, dy, dx, dx);
}
void rg_exp_fwd__avx2(int64_t n, const float *x, float *y) {
  rg_map1(n, exp_fwd_op, 0.0f, 0.0f, x, y);
}
void rg_log_fwd__avx2(int64_t n, const float *x, float *y) {
  rg_map1(n, log_fwd_op, 0.0f, 0.0f, x, y);
}
void rg_log_bwd__avx2(int64_t n, const float *x, const float *dy, float *dx) {
  rg_map3(n, log_bwd_op, 0.0f, 0.0f, x, dy, dx, dx);
}
void rg_clamp_fwd__avx2(int64_t n, float lo, float hi, const float *x, float *y) {
  rg_map1(n, clamp_fwd_op, lo, hi, x, y);
}
void rg_clamp_bwd__avx2(int64_t n, float lo, float hi, const float *x, const float *dy,
                        float *dx) {
  rg_map3(n, clamp_bwd_op, lo, hi, x, dy, dx, dx);
}

void rg_add__avx2(int64_t n, const float *a, const float *b, float *y) {
  rg_map2(n, add_op, 0.0f, 0.0f, a, b, y);
}
void rg_sub__avx2(int64_t n, const float *a, const float *b, float *y) {
  rg_map2(n, sub_op, 0.0f, 0.0f, a, b, y);
}
void rg_mul__avx2(int64_t n, const float *a, const float *b, float *y) {
  rg_map2(n, mul_op, 0.0f, 0.0f, a, b, y);
}
void rg_scale__avx2(int64_t n, float s, const float *x, float *y) {
  rg_map1(n, scale_op, s, 0.0f, x, y);
}
void rg_axpy__avx2(int64_t n, float a, const float *x, float *y) {
  rg_map2(n, axpy_op, a, 0.0f, x, y, y);
}
void rg_mul_acc__avx2(int64_t n, const float *a, const float *b, float *y) {
  rg_map3(n, mul_acc_op, 0.0f, 0.0f, a, b, y, y);
}
void rg_sign_acc__avx2(int64_t n, float a, const float *x, float *y) {
  rg_map2(n, sign_acc_op, a, 0.0f, x, y, y);
}

/* y[j] += x[0][j] + x[1][j] + ... in row order: one register per column
 * chunk runs down the rows, so each column keeps the scalar order. */
struct colsum_ctx {
  int64_t m, n;
  const float *x;
  float *y;
};

RG_INLINE void colsum_group(void *v, int64_t j, const __m256i *m, int tail) {
  const struct colsum_ctx *c = v;
  __m256 acc[RG_CG];
  RG_UNROLL for (int q = 0; q < RG_CG; q++) acc[q] = rg_ld(c->y + j + RG_W * q, m[q], tail);
  for (int64_t i = 0; i < c->m; i++) {
    const float *row = c->x + i * c->n + j;
    RG_UNROLL for (int q = 0; q < RG_CG; q++) acc[q] = acc[q] + rg_ld(row + RG_W * q, m[q], tail);
  }
  RG_UNROLL for (int q = 0; q < RG_CG; q++) rg_st(c->y + j + RG_W * q, acc[q], m[q], tail);
}

void rg_colsum_acc__avx2(int64_t m, int64_t n, const float *x, float *y) {
  struct colsum_ctx c = {m, n, x, y};
  rg_col_groups(n, colsum_group, &c);
}
