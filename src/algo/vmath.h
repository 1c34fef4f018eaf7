/* The regrad formulations on top of SLEEF's exp (src/<isa>/vmath.h): tanh
 * with its own expm1, sigmoid, and the pieces of gelu's tanh form, written
 * once on the vocabulary, so they are the same operations on every ISA.
 * See docs/vector-math.md for the error and speed of each formulation. */
#ifndef RG_ALGO_VMATH_H
#define RG_ALGO_VMATH_H

/* logf of a per-row scalar through the vector log, so that it is the same
 * function as the lanes'. */
RG_INLINE float rg_logf_lane(float x) { return rg_vlane0(rg_vlog(rg_vset(x))); }

/* expm1(y) for y in [0, 2 * RG_TANH_CAP] (or NaN), the e of rg_vtanh:
 *   t = fma(y, 1/ln2, 1.5 * 2^23)  1.5 * 2^23 + k with k = round(y / ln2): at
 *                                  that magnitude floats are the integers, so
 *                                  the FMA's own rounding is the rounding to
 *                                  nearest, identical on every ISA;
 *   k = t - 1.5 * 2^23             exact;
 *   r = fma(k, -ln2, y)            |r| <= ln2 / 2 (one step: ln2 rounded to
 *                                  float is 2e-9 off, which moves tanh by
 *                                  under 0.1 ulp for any k <= 29);
 *   p = fma(r * r, Q(r), r)        expm1(r), Q a degree-5 minimax fit of
 *                                  (expm1(r) - r) / r^2 on [-ln2/2, ln2/2]
 *                                  (relative error 4e-9), by Estrin's scheme
 *                                  with FMA: with r2 = r * r,
 *                                  Q = fma(fma(Q45, r2, Q23), r2, Q01) where
 *                                  Qij = fma(Qj, r, Qi) (a shorter chain than
 *                                  Horner's, so more of them overlap);
 *   s = 2^k                        from t's bits (rg_vscale2k): k sits in the
 *                                  low mantissa bits of t, so (bits(t) << 23)
 *                                  + bits(1.0f) is the float 2^k (k <= 29);
 *   e = fma(s, p, s - 1)           2^k (1 + p) - 1 = expm1(y).
 * k = 0 gives e = p exactly, so a tiny y keeps all its digits; y = +0 gives
 * +0. A NaN y makes r, p and e NaN whatever garbage s holds. */
#define RG_EXPM1_SHIFT 0x1.8p23f       /* 1.5 * 2^23 */
#define RG_EXPM1_INVLN2 0x1.715476p0f  /* 1 / ln 2 */
#define RG_EXPM1_NLN2 (-0x1.62e43p-1f) /* -ln 2 */
#define RG_EXPM1_Q0 0x1p-1f
#define RG_EXPM1_Q1 0x1.555556p-3f
#define RG_EXPM1_Q2 0x1.55547p-5f
#define RG_EXPM1_Q3 0x1.1110acp-7f
#define RG_EXPM1_Q4 0x1.6da758p-10f
#define RG_EXPM1_Q5 0x1.a17df6p-13f

RG_INLINE rg_vf rg_vexpm1_tanh(rg_vf y) {
  rg_vf t = rg_vfma(y, rg_vset(RG_EXPM1_INVLN2), rg_vset(RG_EXPM1_SHIFT));
  rg_vf k = rg_vsub(t, rg_vset(RG_EXPM1_SHIFT));
  rg_vf r = rg_vfma(k, rg_vset(RG_EXPM1_NLN2), y);
  rg_vf r2 = rg_vmul(r, r);
  rg_vf q01 = rg_vfma(rg_vset(RG_EXPM1_Q1), r, rg_vset(RG_EXPM1_Q0));
  rg_vf q23 = rg_vfma(rg_vset(RG_EXPM1_Q3), r, rg_vset(RG_EXPM1_Q2));
  rg_vf q45 = rg_vfma(rg_vset(RG_EXPM1_Q5), r, rg_vset(RG_EXPM1_Q4));
  rg_vf q = rg_vfma(rg_vfma(q45, r2, q23), r2, q01);
  rg_vf p = rg_vfma(r2, q, r);
  rg_vf s = rg_vscale2k(t);
  return rg_vfma(s, p, rg_vsub(s, rg_vset(1.0f)));
}

/* tanh(x) = sign(x) * e / (e + 2) with e = expm1(2|x|): no cancellation near
 * 0, and |x| is capped at 10 where the quotient is already 1.0f. The cap is
 * (a > cap) ? cap : a = min(cap, a), so a NaN passes it unchanged. The
 * quotient is +0 or more (or NaN), so copysign only has to set the sign. */
#define RG_TANH_CAP 10.0f
RG_INLINE rg_vf rg_vtanh(rg_vf x) {
  rg_vf a = rg_vmin(rg_vset(RG_TANH_CAP), rg_vabs(x));
  rg_vf e = rg_vexpm1_tanh(rg_vadd(a, a));
  return rg_vsetsign(rg_vdiv(e, rg_vadd(e, rg_vset(2.0f))), x);
}

/* 1 / (1 + exp(-x)) */
RG_INLINE rg_vf rg_vsigmoid(rg_vf x) {
  return rg_vdiv(rg_vset(1.0f), rg_vadd(rg_vset(1.0f), rg_vexp(rg_vneg(x))));
}

/* gelu, tanh form: u = c0 * (x + c1 * x^3) = c0 * fma(c1, (x * x) * x, x). */
#define RG_GELU_C0 0.7978845608028654f /* sqrt(2 / pi) */
#define RG_GELU_C1 0.044715f
RG_INLINE rg_vf rg_vgelu_u(rg_vf x) {
  rg_vf x3 = rg_vmul(rg_vmul(x, x), x);
  return rg_vmul(rg_vset(RG_GELU_C0), rg_vfma(rg_vset(RG_GELU_C1), x3, x));
}

/* x^2 as gelu's derivative takes it, min(x^2, 100) = (x2 > cap) ? cap : x2,
 * so that a NaN passes. x^2 overflows for |x| >= 1.85e19, and du = c0 (1 +
 * 3 c1 x^2) = inf times 1 - t^2 = 0 was NaN. Past |x| = 10, u >= 43.6 is
 * beyond tanh's cap, t = +-1 exactly and 1 - t^2 is exactly +0, so any
 * finite du gives the same bits: the cap changes no result that was not NaN
 * (checked over all 2^32 floats), and the limits come out exactly, dy for
 * x -> +inf and 0 for x -> -inf. */
#define RG_GELU_X2_CAP 100.0f
RG_INLINE rg_vf rg_vgelu_x2(rg_vf x) { return rg_vmin(rg_vset(RG_GELU_X2_CAP), rg_vmul(x, x)); }
#endif
