/* NEON bodies of the elementwise slots: four floats per step, the last 1..3
 * through rg_ld / rg_st. Each lane expression is the scalar reference's
 * (src/scalar/eltwise.c) operation for operation; conditionals are compare +
 * select so that NaN takes the same branch as in the scalar code. */
#define RG_ISA neon
#include "isa.h"
#include "vec.h"

void rg_relu_fwd__neon(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    rg_st(y + i, rg_sel(vcltq_f32(v, rg_zero()), rg_zero(), v), n - i);
  }
}

void rg_relu_bwd__neon(int64_t n, const float *x, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t g = rg_sel(vcgtq_f32(rg_ld(x + i, n - i), rg_zero()), rg_ld(dy + i, n - i),
                           rg_zero());
    rg_st(dx + i, vaddq_f32(rg_ld(dx + i, n - i), g), n - i);
  }
}

void rg_leaky_relu_fwd__neon(int64_t n, float alpha, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    rg_st(y + i, rg_sel(vcltq_f32(v, rg_zero()), vmulq_f32(rg_dup(alpha), v), v), n - i);
  }
}

void rg_leaky_relu_bwd__neon(int64_t n, float alpha, const float *x, const float *dy,
                             float *dx) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t d = rg_ld(dy + i, n - i);
    float32x4_t g = rg_sel(vcgtq_f32(rg_ld(x + i, n - i), rg_zero()), d,
                           vmulq_f32(rg_dup(alpha), d));
    rg_st(dx + i, vaddq_f32(rg_ld(dx + i, n - i), g), n - i);
  }
}

void rg_sigmoid_fwd__neon(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) rg_st(y + i, rg_sigmoid4(rg_ld(x + i, n - i)), n - i);
}

void rg_sigmoid_bwd__neon(int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(y + i, n - i);
    float32x4_t d = vmulq_f32(v, vsubq_f32(rg_dup(1.0f), v));
    rg_st(dx + i, vfmaq_f32(rg_ld(dx + i, n - i), rg_ld(dy + i, n - i), d), n - i);
  }
}

void rg_tanh_fwd__neon(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) rg_st(y + i, rg_tanh4(rg_ld(x + i, n - i)), n - i);
}

void rg_tanh_bwd__neon(int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(y + i, n - i);
    float32x4_t d = vfmaq_f32(rg_dup(1.0f), vnegq_f32(v), v);
    rg_st(dx + i, vfmaq_f32(rg_ld(dx + i, n - i), rg_ld(dy + i, n - i), d), n - i);
  }
}

void rg_gelu_fwd__neon(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    float32x4_t t = rg_tanh4(rg_gelu_u4(v));
    rg_st(y + i, vmulq_f32(vmulq_f32(rg_dup(0.5f), v), vaddq_f32(rg_dup(1.0f), t)), n - i);
  }
}

/* d = fmaf(0.5 x, fmaf(-t, t, 1) * du, 0.5 (1 + t)), du = c0 fmaf(3 c1,
 * min(x^2, 100), 1). */
void rg_gelu_bwd__neon(int64_t n, const float *x, const float *dy, float *dx) {
  const float32x4_t one = rg_dup(1.0f), half = rg_dup(0.5f);
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    float32x4_t t = rg_tanh4(rg_gelu_u4(v));
    float32x4_t du = vmulq_f32(rg_dup(RG_GELU_C0),
                               vfmaq_f32(one, rg_dup(3.0f * RG_GELU_C1), rg_gelu_x2_4(v)));
    float32x4_t d = vfmaq_f32(vmulq_f32(half, vaddq_f32(one, t)), vmulq_f32(half, v),
                              vmulq_f32(vfmaq_f32(one, vnegq_f32(t), t), du));
    rg_st(dx + i, vfmaq_f32(rg_ld(dx + i, n - i), rg_ld(dy + i, n - i), d), n - i);
  }
}

void rg_exp_fwd__neon(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) rg_st(y + i, rg_exp4(rg_ld(x + i, n - i)), n - i);
}

void rg_log_fwd__neon(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) rg_st(y + i, rg_log4(rg_ld(x + i, n - i)), n - i);
}

void rg_log_bwd__neon(int64_t n, const float *x, const float *dy, float *dx) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t q = vdivq_f32(rg_ld(dy + i, n - i), rg_ld(x + i, n - i));
    rg_st(dx + i, vaddq_f32(rg_ld(dx + i, n - i), q), n - i);
  }
}

void rg_clamp_fwd__neon(int64_t n, float lo, float hi, const float *x, float *y) {
  const float32x4_t l = rg_dup(lo), h = rg_dup(hi);
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    rg_st(y + i, rg_sel(vcltq_f32(v, l), l, rg_sel(vcgtq_f32(v, h), h, v)), n - i);
  }
}

void rg_clamp_bwd__neon(int64_t n, float lo, float hi, const float *x, const float *dy,
                        float *dx) {
  const float32x4_t l = rg_dup(lo), h = rg_dup(hi);
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    uint32x4_t in = vandq_u32(vcgeq_f32(v, l), vcleq_f32(v, h));
    float32x4_t g = rg_sel(in, rg_ld(dy + i, n - i), rg_zero());
    rg_st(dx + i, vaddq_f32(rg_ld(dx + i, n - i), g), n - i);
  }
}

void rg_add__neon(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i += 4)
    rg_st(y + i, vaddq_f32(rg_ld(a + i, n - i), rg_ld(b + i, n - i)), n - i);
}

void rg_sub__neon(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i += 4)
    rg_st(y + i, vsubq_f32(rg_ld(a + i, n - i), rg_ld(b + i, n - i)), n - i);
}

void rg_mul__neon(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i += 4)
    rg_st(y + i, vmulq_f32(rg_ld(a + i, n - i), rg_ld(b + i, n - i)), n - i);
}

void rg_scale__neon(int64_t n, float s, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4)
    rg_st(y + i, vmulq_f32(rg_dup(s), rg_ld(x + i, n - i)), n - i);
}

void rg_axpy__neon(int64_t n, float a, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4)
    rg_st(y + i, vfmaq_f32(rg_ld(y + i, n - i), rg_dup(a), rg_ld(x + i, n - i)), n - i);
}

void rg_mul_acc__neon(int64_t n, const float *a, const float *b, float *y) {
  for (int64_t i = 0; i < n; i += 4)
    rg_st(y + i, vfmaq_f32(rg_ld(y + i, n - i), rg_ld(a + i, n - i), rg_ld(b + i, n - i)),
          n - i);
}

void rg_sign_acc__neon(int64_t n, float a, const float *x, float *y) {
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t s = rg_signed(rg_ld(x + i, n - i), rg_dup(a));
    rg_st(y + i, vaddq_f32(rg_ld(y + i, n - i), s), n - i);
  }
}

/* Four columns at a time, each summed down the rows in order. */
void rg_colsum_acc__neon(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t j = 0; j < n; j += 4) {
    float32x4_t s = rg_ld(y + j, n - j);
    for (int64_t i = 0; i < m; i++) s = vaddq_f32(s, rg_ld(x + i * n + j, n - j));
    rg_st(y + j, s, n - j);
  }
}
