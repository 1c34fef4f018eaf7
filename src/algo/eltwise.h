/* The elementwise slots: activations forward and backward, arithmetic, and
 * the column sum. Each expression here is the contract of its slot: every
 * ISA evaluates exactly these operations in this order (a 1-lane vector
 * in scalar). "?:" is a compare and a select, written so that a NaN input
 * goes where C's ternary sends it. */
#ifndef RG_ALGO_ELTWISE_H
#define RG_ALGO_ELTWISE_H

/* (x < 0) ? 0 : x */
void RG_PICK(rg_relu_fwd__scalar, rg_relu_fwd__avx2, rg_relu_fwd__avx512,
             rg_relu_fwd__neon)(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(x + i, t);
    rg_vstore(y + i, rg_vsel(rg_vlt(v, rg_vzero()), rg_vzero(), v), t);
  });
}

/* dx + ((x > 0) ? dy : 0) */
void RG_PICK(rg_relu_bwd__scalar, rg_relu_bwd__avx2, rg_relu_bwd__avx512,
             rg_relu_bwd__neon)(int64_t n, const float *x, const float *dy, float *dx) {
  RG_EACH_BLOCK(n, i, t, {
    rg_vf g = rg_vkeep(rg_vgt(rg_vload(x + i, t), rg_vzero()), rg_vload(dy + i, t));
    rg_vstore(dx + i, rg_vadd(rg_vload(dx + i, t), g), t);
  });
}

/* (x < 0) ? alpha x : x */
void RG_PICK(rg_leaky_relu_fwd__scalar, rg_leaky_relu_fwd__avx2, rg_leaky_relu_fwd__avx512,
             rg_leaky_relu_fwd__neon)(int64_t n, float alpha, const float *x, float *y) {
  const rg_vf va = rg_vset(alpha);
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(x + i, t);
    rg_vstore(y + i, rg_vsel(rg_vlt(v, rg_vzero()), rg_vmul(va, v), v), t);
  });
}

/* dx + ((x > 0) ? dy : alpha dy) */
void RG_PICK(rg_leaky_relu_bwd__scalar, rg_leaky_relu_bwd__avx2, rg_leaky_relu_bwd__avx512,
             rg_leaky_relu_bwd__neon)(int64_t n, float alpha, const float *x, const float *dy,
                                      float *dx) {
  const rg_vf va = rg_vset(alpha);
  RG_EACH_BLOCK(n, i, t, {
    rg_vf d = rg_vload(dy + i, t);
    rg_vf g = rg_vsel(rg_vgt(rg_vload(x + i, t), rg_vzero()), d, rg_vmul(va, d));
    rg_vstore(dx + i, rg_vadd(rg_vload(dx + i, t), g), t);
  });
}

void RG_PICK(rg_sigmoid_fwd__scalar, rg_sigmoid_fwd__avx2, rg_sigmoid_fwd__avx512,
             rg_sigmoid_fwd__neon)(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vsigmoid(rg_vload(x + i, t)), t); });
}

/* fma(dy, y (1 - y), dx) */
void RG_PICK(rg_sigmoid_bwd__scalar, rg_sigmoid_bwd__avx2, rg_sigmoid_bwd__avx512,
             rg_sigmoid_bwd__neon)(int64_t n, const float *y, const float *dy, float *dx) {
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(y + i, t);
    rg_vf d = rg_vmul(v, rg_vsub(rg_vset(1.0f), v));
    rg_vstore(dx + i, rg_vfma(rg_vload(dy + i, t), d, rg_vload(dx + i, t)), t);
  });
}

void RG_PICK(rg_tanh_fwd__scalar, rg_tanh_fwd__avx2, rg_tanh_fwd__avx512,
             rg_tanh_fwd__neon)(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vtanh(rg_vload(x + i, t)), t); });
}

/* fma(dy, fma(-y, y, 1), dx) */
void RG_PICK(rg_tanh_bwd__scalar, rg_tanh_bwd__avx2, rg_tanh_bwd__avx512,
             rg_tanh_bwd__neon)(int64_t n, const float *y, const float *dy, float *dx) {
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(y + i, t);
    rg_vf d = rg_vfnma(v, v, rg_vset(1.0f));
    rg_vstore(dx + i, rg_vfma(rg_vload(dy + i, t), d, rg_vload(dx + i, t)), t);
  });
}

/* (0.5 x) (1 + tanh(u)) */
void RG_PICK(rg_gelu_fwd__scalar, rg_gelu_fwd__avx2, rg_gelu_fwd__avx512,
             rg_gelu_fwd__neon)(int64_t n, const float *x, float *y) {
  const rg_vf half = rg_vset(0.5f), one = rg_vset(1.0f);
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(x + i, t);
    rg_vf th = rg_vtanh(rg_vgelu_u(v));
    rg_vstore(y + i, rg_vmul(rg_vmul(half, v), rg_vadd(one, th)), t);
  });
}

/* d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c0 (1 + 3 c1 x^2), as
 * fma(0.5 x, fma(-t, t, 1) du, 0.5 (1 + t)) with du = c0 fma(3 c1,
 * min(x^2, 100), 1); dx = fma(dy, d, dx). */
void RG_PICK(rg_gelu_bwd__scalar, rg_gelu_bwd__avx2, rg_gelu_bwd__avx512,
             rg_gelu_bwd__neon)(int64_t n, const float *x, const float *dy, float *dx) {
  const rg_vf half = rg_vset(0.5f), one = rg_vset(1.0f);
  const rg_vf c0 = rg_vset(RG_GELU_C0), c13 = rg_vset(3.0f * RG_GELU_C1);
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(x + i, t);
    rg_vf th = rg_vtanh(rg_vgelu_u(v));
    rg_vf du = rg_vmul(c0, rg_vfma(c13, rg_vgelu_x2(v), one));
    rg_vf d = rg_vfma(rg_vmul(half, v), rg_vmul(rg_vfnma(th, th, one), du),
                      rg_vmul(half, rg_vadd(one, th)));
    rg_vstore(dx + i, rg_vfma(rg_vload(dy + i, t), d, rg_vload(dx + i, t)), t);
  });
}

void RG_PICK(rg_exp_fwd__scalar, rg_exp_fwd__avx2, rg_exp_fwd__avx512,
             rg_exp_fwd__neon)(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vexp(rg_vload(x + i, t)), t); });
}

void RG_PICK(rg_log_fwd__scalar, rg_log_fwd__avx2, rg_log_fwd__avx512,
             rg_log_fwd__neon)(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vlog(rg_vload(x + i, t)), t); });
}

/* dx + dy / x */
void RG_PICK(rg_log_bwd__scalar, rg_log_bwd__avx2, rg_log_bwd__avx512,
             rg_log_bwd__neon)(int64_t n, const float *x, const float *dy, float *dx) {
  RG_EACH_BLOCK(n, i, t, {
    rg_vf q = rg_vdiv(rg_vload(dy + i, t), rg_vload(x + i, t));
    rg_vstore(dx + i, rg_vadd(rg_vload(dx + i, t), q), t);
  });
}

/* (x < lo) ? lo : ((x > hi) ? hi : x), the inner choice being min(hi, x). */
void RG_PICK(rg_clamp_fwd__scalar, rg_clamp_fwd__avx2, rg_clamp_fwd__avx512,
             rg_clamp_fwd__neon)(int64_t n, float lo, float hi, const float *x, float *y) {
  const rg_vf vlo = rg_vset(lo), vhi = rg_vset(hi);
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(x + i, t);
    rg_vstore(y + i, rg_vsel(rg_vlt(v, vlo), vlo, rg_vmin(vhi, v)), t);
  });
}

/* Subgradient: dx + ((x >= lo && x <= hi) ? dy : 0), boundaries included. */
void RG_PICK(rg_clamp_bwd__scalar, rg_clamp_bwd__avx2, rg_clamp_bwd__avx512,
             rg_clamp_bwd__neon)(int64_t n, float lo, float hi, const float *x,
                                 const float *dy, float *dx) {
  const rg_vf vlo = rg_vset(lo), vhi = rg_vset(hi);
  RG_EACH_BLOCK(n, i, t, {
    rg_vf v = rg_vload(x + i, t);
    rg_vf g = rg_vkeep(rg_vand(rg_vge(v, vlo), rg_vle(v, vhi)), rg_vload(dy + i, t));
    rg_vstore(dx + i, rg_vadd(rg_vload(dx + i, t), g), t);
  });
}

void RG_PICK(rg_add__scalar, rg_add__avx2, rg_add__avx512,
             rg_add__neon)(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vadd(rg_vload(a + i, t), rg_vload(b + i, t)), t); });
}

void RG_PICK(rg_sub__scalar, rg_sub__avx2, rg_sub__avx512,
             rg_sub__neon)(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vsub(rg_vload(a + i, t), rg_vload(b + i, t)), t); });
}

void RG_PICK(rg_mul__scalar, rg_mul__avx2, rg_mul__avx512,
             rg_mul__neon)(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vmul(rg_vload(a + i, t), rg_vload(b + i, t)), t); });
}

/* s x */
void RG_PICK(rg_scale__scalar, rg_scale__avx2, rg_scale__avx512,
             rg_scale__neon)(int64_t n, float s, const float *x, float *y) {
  const rg_vf vs = rg_vset(s);
  RG_EACH_BLOCK(n, i, t, { rg_vstore(y + i, rg_vmul(vs, rg_vload(x + i, t)), t); });
}

/* fma(a, x, y) */
void RG_PICK(rg_axpy__scalar, rg_axpy__avx2, rg_axpy__avx512,
             rg_axpy__neon)(int64_t n, float a, const float *x, float *y) {
  const rg_vf va = rg_vset(a);
  RG_EACH_BLOCK(n, i, t, {
    rg_vstore(y + i, rg_vfma(va, rg_vload(x + i, t), rg_vload(y + i, t)), t);
  });
}

/* fma(a, b, y) */
void RG_PICK(rg_mul_acc__scalar, rg_mul_acc__avx2, rg_mul_acc__avx512,
             rg_mul_acc__neon)(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, t, {
    rg_vstore(y + i, rg_vfma(rg_vload(a + i, t), rg_vload(b + i, t), rg_vload(y + i, t)), t);
  });
}

/* y + a sign(x), with sign(0) = sign(NaN) = 0 */
void RG_PICK(rg_sign_acc__scalar, rg_sign_acc__avx2, rg_sign_acc__avx512,
             rg_sign_acc__neon)(int64_t n, float a, const float *x, float *y) {
  const rg_vf va = rg_vset(a);
  RG_EACH_BLOCK(n, i, t, {
    rg_vstore(y + i, rg_vadd(rg_vload(y + i, t), rg_vsignsel(rg_vload(x + i, t), va)), t);
  });
}

/* y[j] += x[0][j] + x[1][j] + ... in row order: one register per block of
 * columns runs down the rows, so each column keeps the order of a plain
 * loop, and y is read and written once. */
void RG_PICK(rg_colsum_acc__scalar, rg_colsum_acc__avx2, rg_colsum_acc__avx512,
             rg_colsum_acc__neon)(int64_t m, int64_t n, const float *x, float *y) {
  RG_EACH_STRIP(n, j, t, {
    rg_vf acc[RG_STRIP_VECS];
    rg_strip_zero(acc);
    RG_EACH_VEC(v, t) acc[v] = rg_vload(y + j + v * RG_VL, t[v]);
    for (int64_t r = 0; r < m; r++) {
      const float *row = x + r * n + j;
      RG_EACH_VEC(v, t) acc[v] = rg_vadd(acc[v], rg_vload(row + v * RG_VL, t[v]));
    }
    RG_EACH_VEC(v, t) rg_vstore(y + j + v * RG_VL, acc[v], t[v]);
  });
}
#endif
