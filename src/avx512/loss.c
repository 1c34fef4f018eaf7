/* AVX-512 bodies of the softmax family and the losses. Row max, sum and dot
 * use the 64-lane walks of lanes.h; per-row scalars (log of the sum, label
 * terms) are the plain float code of src/scalar/loss.c, and logf of a row
 * scalar goes through the 16-lane SLEEF function, which equals purecfma. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "lanes.h"
#include "vmath.h"

/* y[j] = y[j] / s over a row. */
static inline void div_row(int64_t n, float s, float *y) {
  __m512 vs = rg_splat(s);
  RG_EACH_BLOCK(n, j, k, { rg_store(y + j, k, _mm512_div_ps(rg_load(y + j, k), vs)); });
}

void rg_softmax_fwd__avx512(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = rg_row_max(n, xr);
    div_row(n, rg_row_expsum(n, xr, mx, yr), yr);
  }
}

void rg_softmax_bwd__avx512(int64_t m, int64_t n, const float *y, const float *dy, float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    __m512 s = rg_splat(rg_row_dot(n, gr, yr));
    RG_EACH_BLOCK(n, j, k, {
      __m512 t = _mm512_sub_ps(rg_load(gr + j, k), s);
      rg_store(dr + j, k, _mm512_fmadd_ps(rg_load(yr + j, k), t, rg_load(dr + j, k)));
    });
  }
}

void rg_log_softmax_fwd__avx512(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = rg_row_max(n, xr);
    __m512 vm = rg_splat(mx), lse = rg_splat(rg_v_log1(rg_row_expsum(n, xr, mx, NULL)));
    RG_EACH_BLOCK(n, j, k, {
      rg_store(yr + j, k, _mm512_sub_ps(_mm512_sub_ps(rg_load(xr + j, k), vm), lse));
    });
  }
}

/* dx += fmaf(-expf(y), s, dy) = fnmadd(expf(y), s, dy). */
void rg_log_softmax_bwd__avx512(int64_t m, int64_t n, const float *y, const float *dy,
                                float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    __m512 s = rg_splat(rg_row_sum(n, gr));
    RG_EACH_BLOCK(n, j, k, {
      __m512 t = _mm512_fnmadd_ps(rg_v_exp(rg_load(yr + j, k)), s, rg_load(gr + j, k));
      rg_store(dr + j, k, _mm512_add_ps(rg_load(dr + j, k), t));
    });
  }
}

void rg_xent_fwd__avx512(int64_t m, int64_t n, float smoothing, const float *x,
                         const int32_t *labels, float *probs, float *row_loss) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *pr = probs + r * n;
    float mx = rg_row_max(n, xr);
    float s = rg_row_expsum(n, xr, mx, pr);
    div_row(n, s, pr);
    float lse = mx + rg_v_log1(s);
    float tgt = xr[labels[r]];
    if (smoothing != 0.0f)
      tgt = fmaf(1.0f - smoothing, tgt, (smoothing / (float)n) * rg_row_sum(n, xr));
    row_loss[r] = lse - tgt;
  }
}

/* dx += g * (probs - target); the target is `off` except `on` at the label. */
void rg_xent_bwd__avx512(int64_t m, int64_t n, float smoothing, float g, const float *probs,
                         const int32_t *labels, float *dx) {
  float off = smoothing / (float)n;
  float on = (1.0f - smoothing) + off;
  __m512 vg = rg_splat(g), voff = rg_splat(off), von = rg_splat(on);
  for (int64_t r = 0; r < m; r++) {
    const float *pr = probs + r * n;
    float *dr = dx + r * n;
    int64_t label = labels[r];
    RG_EACH_BLOCK(n, j, k, {
      __mmask16 hit = (label >= j && label < j + RG_V) ? (__mmask16)(1u << (label - j)) : 0;
      __m512 t = _mm512_mask_mov_ps(voff, hit, von);
      __m512 d = _mm512_sub_ps(rg_load(pr + j, k), t);
      rg_store(dr + j, k, _mm512_fmadd_ps(vg, d, rg_load(dr + j, k)));
    });
  }
}

/* max(x, 0) - x t + log1p(exp(-|x|)), with (x > 0) ? x : 0 for the max. */
void rg_bce_fwd__avx512(int64_t n, const float *x, const float *t, float *loss) {
  __m512 zero = rg_zero();
  RG_EACH_BLOCK(n, i, k, {
    __m512 v = rg_load(x + i, k);
    __m512 pos = _mm512_maskz_mov_ps(rg_gt(v, zero), v);
    __m512 lin = _mm512_sub_ps(pos, _mm512_mul_ps(v, rg_load(t + i, k)));
    __m512 soft = rg_v_log1p(rg_v_exp(rg_neg(rg_abs(v))));
    rg_store(loss + i, k, _mm512_add_ps(lin, soft));
  });
}

void rg_bce_bwd__avx512(int64_t n, float g, const float *x, const float *t, float *dx) {
  __m512 vg = rg_splat(g);
  RG_EACH_BLOCK(n, i, k, {
    __m512 d = _mm512_sub_ps(rg_v_sigmoid(rg_load(x + i, k)), rg_load(t + i, k));
    rg_store(dx + i, k, _mm512_fmadd_ps(vg, d, rg_load(dx + i, k)));
  });
}
