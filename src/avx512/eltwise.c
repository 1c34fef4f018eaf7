/* AVX-512 bodies of the elementwise slots: the expressions of
 * src/scalar/eltwise.c, 16 lanes at a time, the tail under a mask. Selects
 * use ordered compares + blends, so a NaN input goes where the scalar ternary
 * sends it. Outputs may alias inputs: each block is loaded before it is stored. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "simd.h"
#include "vmath.h"

void rg_relu_fwd__avx512(int64_t n, const float *x, float *y) {
  __m512 zero = rg_zero();
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    rg_store(y + i, k, rg_select(rg_lt(v, zero), zero, v));
  });
}

void rg_relu_bwd__avx512(int64_t n, const float *x, const float *dy, float *dx) {
  __m512 zero = rg_zero();
  RG_EACH_BLOCK(n, i, k, {
    __m512 g = _mm512_maskz_mov_ps(rg_gt(rg_load(x + i, k), zero), rg_load(dy + i, k));
    rg_store(dx + i, k, _mm512_add_ps(rg_load(dx + i, k), g));
  });
}

void rg_leaky_relu_fwd__avx512(int64_t n, float alpha, const float *x, float *y) {
  __m512 zero = rg_zero(), va = rg_splat(alpha);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    rg_store(y + i, k, rg_select(rg_lt(v, zero), _mm512_mul_ps(va, v), v));
  });
}

void rg_leaky_relu_bwd__avx512(int64_t n, float alpha, const float *x, const float *dy,
                               float *dx) {
  __m512 zero = rg_zero(), va = rg_splat(alpha);
  RG_EACH_BLOCK(n, i, k, {
    __m512 g = rg_load(dy + i, k);
    g = rg_select(rg_gt(rg_load(x + i, k), zero), g, _mm512_mul_ps(va, g));
    rg_store(dx + i, k, _mm512_add_ps(rg_load(dx + i, k), g));
  });
}

void rg_sigmoid_fwd__avx512(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, k, { rg_store(y + i, k, rg_v_sigmoid(rg_load(x + i, k))); });
}

void rg_sigmoid_bwd__avx512(int64_t n, const float *y, const float *dy, float *dx) {
  __m512 one = rg_splat(1.0f);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(y + i, k);
    __m512 d = _mm512_mul_ps(v, _mm512_sub_ps(one, v));
    rg_store(dx + i, k, _mm512_fmadd_ps(rg_load(dy + i, k), d, rg_load(dx + i, k)));
  });
}

void rg_tanh_fwd__avx512(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, k, { rg_store(y + i, k, rg_v_tanh(rg_load(x + i, k))); });
}

/* fmaf(-y, y, 1) == fnmadd(y, y, 1): negating a factor is exact. */
void rg_tanh_bwd__avx512(int64_t n, const float *y, const float *dy, float *dx) {
  __m512 one = rg_splat(1.0f);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(y + i, k);
    __m512 d = _mm512_fnmadd_ps(v, v, one);
    rg_store(dx + i, k, _mm512_fmadd_ps(rg_load(dy + i, k), d, rg_load(dx + i, k)));
  });
}

void rg_gelu_fwd__avx512(int64_t n, const float *x, float *y) {
  __m512 half = rg_splat(0.5f), one = rg_splat(1.0f);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    __m512 t = rg_v_tanh(rg_v_gelu_u(v));
    rg_store(y + i, k, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, t)));
  });
}

void rg_gelu_bwd__avx512(int64_t n, const float *x, const float *dy, float *dx) {
  __m512 half = rg_splat(0.5f), one = rg_splat(1.0f);
  __m512 c0 = rg_splat(RG_GELU_C0), c13 = rg_splat(3.0f * RG_GELU_C1);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    __m512 t = rg_v_tanh(rg_v_gelu_u(v));
    __m512 du = _mm512_mul_ps(c0, _mm512_fmadd_ps(c13, rg_v_gelu_x2(v), one));
    __m512 d = _mm512_fmadd_ps(_mm512_mul_ps(half, v),
                               _mm512_mul_ps(_mm512_fnmadd_ps(t, t, one), du),
                               _mm512_mul_ps(half, _mm512_add_ps(one, t)));
    rg_store(dx + i, k, _mm512_fmadd_ps(rg_load(dy + i, k), d, rg_load(dx + i, k)));
  });
}

void rg_exp_fwd__avx512(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, k, { rg_store(y + i, k, rg_v_exp(rg_load(x + i, k))); });
}

void rg_log_fwd__avx512(int64_t n, const float *x, float *y) {
  RG_EACH_BLOCK(n, i, k, { rg_store(y + i, k, rg_v_log(rg_load(x + i, k))); });
}

void rg_log_bwd__avx512(int64_t n, const float *x, const float *dy, float *dx) {
  RG_EACH_BLOCK(n, i, k, {
    __m512 q = _mm512_div_ps(rg_load(dy + i, k), rg_load(x + i, k));
    rg_store(dx + i, k, _mm512_add_ps(rg_load(dx + i, k), q));
  });
}

/* (x < lo) ? lo : ((x > hi) ? hi : x): the lo test is applied last so it wins. */
void rg_clamp_fwd__avx512(int64_t n, float lo, float hi, const float *x, float *y) {
  __m512 vlo = rg_splat(lo), vhi = rg_splat(hi);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    __m512 r = _mm512_mask_mov_ps(v, rg_gt(v, vhi), vhi);
    rg_store(y + i, k, _mm512_mask_mov_ps(r, rg_lt(v, vlo), vlo));
  });
}

void rg_clamp_bwd__avx512(int64_t n, float lo, float hi, const float *x, const float *dy,
                          float *dx) {
  __m512 vlo = rg_splat(lo), vhi = rg_splat(hi);
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    __mmask16 in = rg_ge(v, vlo) & rg_le(v, vhi);
    __m512 g = _mm512_maskz_mov_ps(in, rg_load(dy + i, k));
    rg_store(dx + i, k, _mm512_add_ps(rg_load(dx + i, k), g));
  });
}

void rg_add__avx512(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, k, {
    rg_store(y + i, k, _mm512_add_ps(rg_load(a + i, k), rg_load(b + i, k)));
  });
}

void rg_sub__avx512(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, k, {
    rg_store(y + i, k, _mm512_sub_ps(rg_load(a + i, k), rg_load(b + i, k)));
  });
}

void rg_mul__avx512(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, k, {
    rg_store(y + i, k, _mm512_mul_ps(rg_load(a + i, k), rg_load(b + i, k)));
  });
}

void rg_scale__avx512(int64_t n, float s, const float *x, float *y) {
  __m512 vs = rg_splat(s);
  RG_EACH_BLOCK(n, i, k, { rg_store(y + i, k, _mm512_mul_ps(vs, rg_load(x + i, k))); });
}

void rg_axpy__avx512(int64_t n, float a, const float *x, float *y) {
  __m512 va = rg_splat(a);
  RG_EACH_BLOCK(n, i, k, {
    rg_store(y + i, k, _mm512_fmadd_ps(va, rg_load(x + i, k), rg_load(y + i, k)));
  });
}

void rg_mul_acc__avx512(int64_t n, const float *a, const float *b, float *y) {
  RG_EACH_BLOCK(n, i, k, {
    rg_store(y + i, k, _mm512_fmadd_ps(rg_load(a + i, k), rg_load(b + i, k), rg_load(y + i, k)));
  });
}

void rg_sign_acc__avx512(int64_t n, float a, const float *x, float *y) {
  __m512 va = rg_splat(a);
  RG_EACH_BLOCK(n, i, k, {
    __m512 s = rg_signed(rg_load(x + i, k), va);
    rg_store(y + i, k, _mm512_add_ps(rg_load(y + i, k), s));
  });
}

/* y[j] += x[0][j] + ... in row order. Columns go in strips of 4 vectors kept in
 * registers while the rows stream past, so y is read and written once. */
#define RG_COLSUM_STRIP (4 * RG_V)
void rg_colsum_acc__avx512(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t j = 0; j < n; j += RG_COLSUM_STRIP) {
    __mmask16 k[4];
    __m512 s[4];
    for (int v = 0; v < 4; v++) {
      k[v] = rg_mask(n - j - v * RG_V);
      s[v] = k[v] ? rg_load(y + j + v * RG_V, k[v]) : rg_zero();
    }
    for (int64_t i = 0; i < m; i++) {
      const float *row = x + i * n + j;
      for (int v = 0; v < 4; v++)
        if (k[v]) s[v] = _mm512_add_ps(s[v], rg_load(row + v * RG_V, k[v]));
    }
    for (int v = 0; v < 4; v++)
      if (k[v]) rg_store(y + j + v * RG_V, k[v], s[v]);
  }
}
