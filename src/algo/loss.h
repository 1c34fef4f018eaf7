/* The row-wise softmax family and the losses. Row max, sum and dot use the
 * 64 lanes of rows.h; the per-row scalar steps (log of the sum, label
 * terms) are plain float code, and logf of a row scalar goes through the
 * ISA's vector log (rg_logf_lane), whose bits equal the scalar one's. */
#ifndef RG_ALGO_LOSS_H
#define RG_ALGO_LOSS_H

/* y = y / s over a row. */
RG_INLINE void rg_row_div(int64_t n, float s, float *y) {
  const rg_vf vs = rg_vset(s);
  RG_EACH_BLOCK(n, j, t, { rg_vstore(y + j, rg_vdiv(rg_vload(y + j, t), vs), t); });
}

/* Per row: y = exp(x - max) / sum of those. */
void RG_PICK(rg_softmax_fwd__scalar, rg_softmax_fwd__avx2, rg_softmax_fwd__avx512,
             rg_softmax_fwd__neon)(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    rg_row_div(n, rg_row_expsum(n, xr, rg_row_max(n, xr), yr), yr);
  }
}

/* Per row: dx = fma(y, dy - s, dx) with s = the lane dot of dy and y. */
void RG_PICK(rg_softmax_bwd__scalar, rg_softmax_bwd__avx2, rg_softmax_bwd__avx512,
             rg_softmax_bwd__neon)(int64_t m, int64_t n, const float *y, const float *dy,
                                   float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    const rg_vf s = rg_vset(rg_row_dot(n, gr, yr));
    RG_EACH_BLOCK(n, j, t, {
      rg_vf d = rg_vsub(rg_vload(gr + j, t), s);
      rg_vstore(dr + j, rg_vfma(rg_vload(yr + j, t), d, rg_vload(dr + j, t)), t);
    });
  }
}

/* Per row: y = (x - max) - log(sum of exp(x - max)). */
void RG_PICK(rg_log_softmax_fwd__scalar, rg_log_softmax_fwd__avx2, rg_log_softmax_fwd__avx512,
             rg_log_softmax_fwd__neon)(int64_t m, int64_t n, const float *x, float *y) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = rg_row_max(n, xr);
    const rg_vf vm = rg_vset(mx), lse = rg_vset(rg_logf_lane(rg_row_expsum(n, xr, mx, NULL)));
    RG_EACH_BLOCK(n, j, t, {
      rg_vstore(yr + j, rg_vsub(rg_vsub(rg_vload(xr + j, t), vm), lse), t);
    });
  }
}

/* Per row: dx = dx + fma(-exp(y), s, dy) with s = the lane sum of dy. */
void RG_PICK(rg_log_softmax_bwd__scalar, rg_log_softmax_bwd__avx2, rg_log_softmax_bwd__avx512,
             rg_log_softmax_bwd__neon)(int64_t m, int64_t n, const float *y, const float *dy,
                                       float *dx) {
  for (int64_t r = 0; r < m; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    const rg_vf s = rg_vset(rg_row_sum(n, gr));
    RG_EACH_BLOCK(n, j, t, {
      rg_vf d = rg_vfnma(rg_vexp(rg_vload(yr + j, t)), s, rg_vload(gr + j, t));
      rg_vstore(dr + j, rg_vadd(rg_vload(dr + j, t), d), t);
    });
  }
}

/* Per row: probs = softmax(x); loss = logsumexp(x) - target . x, where the
 * target is one-hot at the label, smoothed to (1 - s) one-hot + s / n. */
void RG_PICK(rg_xent_fwd__scalar, rg_xent_fwd__avx2, rg_xent_fwd__avx512,
             rg_xent_fwd__neon)(int64_t m, int64_t n, float smoothing, const float *x,
                                const int32_t *labels, float *probs, float *row_loss) {
  for (int64_t r = 0; r < m; r++) {
    const float *xr = x + r * n;
    float *pr = probs + r * n;
    float mx = rg_row_max(n, xr);
    float s = rg_row_expsum(n, xr, mx, pr);
    rg_row_div(n, s, pr);
    float lse = mx + rg_logf_lane(s);
    float tgt = xr[labels[r]];
    if (smoothing != 0.0f)
      tgt = fmaf(1.0f - smoothing, tgt, (smoothing / (float)n) * rg_row_sum(n, xr));
    row_loss[r] = lse - tgt;
  }
}

/* dx = fma(g, probs - target, dx): the target is `on` at the label's
 * column, `off` elsewhere. */
void RG_PICK(rg_xent_bwd__scalar, rg_xent_bwd__avx2, rg_xent_bwd__avx512,
             rg_xent_bwd__neon)(int64_t m, int64_t n, float smoothing, float g,
                                const float *probs, const int32_t *labels, float *dx) {
  const float off = smoothing / (float)n;
  const float on = (1.0f - smoothing) + off;
  const rg_vf vg = rg_vset(g), von = rg_vset(on), voff = rg_vset(off);
  for (int64_t r = 0; r < m; r++) {
    const float *pr = probs + r * n;
    float *dr = dx + r * n;
    const int64_t label = labels[r];
    RG_EACH_BLOCK(n, j, t, {
      rg_vf target = rg_vsel(rg_vlane_is(label - j), von, voff);
      rg_vf d = rg_vsub(rg_vload(pr + j, t), target);
      rg_vstore(dr + j, rg_vfma(vg, d, rg_vload(dr + j, t)), t);
    });
  }
}

/* Binary cross-entropy with logits, per element, in the overflow-free form
 * (max(x, 0) - x t) + log1p(exp(-|x|)), max(x, 0) being (x > 0) ? x : 0. */
void RG_PICK(rg_bce_fwd__scalar, rg_bce_fwd__avx2, rg_bce_fwd__avx512,
             rg_bce_fwd__neon)(int64_t n, const float *x, const float *t, float *loss) {
  RG_EACH_BLOCK(n, i, lv, {
    rg_vf v = rg_vload(x + i, lv);
    rg_vf lin = rg_vsub(rg_vmax(v, rg_vzero()), rg_vmul(v, rg_vload(t + i, lv)));
    rg_vstore(loss + i, rg_vadd(lin, rg_vlog1p(rg_vexp(rg_vneg(rg_vabs(v))))), lv);
  });
}

/* fma(g, sigmoid(x) - t, dx) */
void RG_PICK(rg_bce_bwd__scalar, rg_bce_bwd__avx2, rg_bce_bwd__avx512,
             rg_bce_bwd__neon)(int64_t n, float g, const float *x, const float *t, float *dx) {
  const rg_vf vg = rg_vset(g);
  RG_EACH_BLOCK(n, i, lv, {
    rg_vf d = rg_vsub(rg_vsigmoid(rg_vload(x + i, lv)), rg_vload(t + i, lv));
    rg_vstore(dx + i, rg_vfma(vg, d, rg_vload(dx + i, lv)), lv);
  });
}
#endif
