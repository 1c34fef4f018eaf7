/* L2 norms over the whole float range (issue 15 item 6): rg_norm's value
 * and gradient, the norms the clippers measure (global, per tensor, AGC's
 * rows) and the diagnostics' |g| |w| |dw|, on every ISA this CPU runs with
 * 1 and 2 threads, against long double references: within 2 float ulps from
 * the smallest subnormal to FLT_MAX. */
#define RG_TEST_MAIN
#include <float.h>
#include <math.h>

#include "helpers.h"

#define TOL_ULPS 2.0

/* The contexts to run on: every ISA this CPU runs, with 1 and 2 threads. */
static int contexts(rg_ctx **out) {
  static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
  int n = 0;
  for (int i = 0; i < 4; i++)
    for (int threads = 1; threads <= 2 && rg_isa_supported(isas[i]); threads++) {
      out[n] = rg_ctx_new(&(rg_config){.isa = isas[i], .threads = threads});
      cr_assert(out[n] && rg_ctx_status(out[n]) == RG_OK, "%s", rg_ctx_message(out[n]));
      n++;
    }
  return n;
}

static void free_all(rg_ctx **ctx, int n) {
  for (int i = 0; i < n; i++) rg_ctx_free(ctx[i]);
}

static const char *isa_of(rg_ctx *ctx) { return rg_ctx_isa(ctx); }

/* |got - want| in float ulps at want (the subnormal spacing below FLT_MIN);
 * a want past FLT_MAX must come out as inf. */
static double ulps(float got, long double want) {
  if (fabsl(want) > (long double)FLT_MAX)
    return isinf(got) && signbit(got) == signbit(want) ? 0 : INFINITY;
  long double w = fabsl(want);
  int e = w >= (long double)FLT_MIN ? ilogbl(w) : -126;
  return (double)(fabsl((long double)got - want) / ldexpl(1.0L, e - 23));
}

static long double ref_sumsq(const float *x, int64_t n) {
  long double s = 0;
  for (int64_t i = 0; i < n; i++) s += (long double)x[i] * x[i];
  return s;
}

#define CLOSE(got, want, ...) \
  cr_assert(ulps(got, want) <= TOL_ULPS, __VA_ARGS__)

/* Random signs, magnitudes 10^(lo .. hi) uniformly in the exponent. */
static void fill_log(float *x, int64_t n, uint64_t seed, double lo, double hi) {
  for (int64_t i = 0; i < n; i++) {
    double u = (double)(th_next(&seed) >> 11) * 0x1p-53;
    double v = pow(10.0, lo + (hi - lo) * u);
    x[i] = (float)((th_next(&seed) & 1) ? -v : v);
  }
}

/* rg_norm(x, 2) and its gradient x / |x| on every context. */
static void check_norm(const char *what, const float *x, int64_t n) {
  rg_ctx *ctx[8];
  int nc = contexts(ctx);
  long double norm = sqrtl(ref_sumsq(x, n));
  float first = 0;
  for (int c = 0; c < nc; c++) {
    rg_tensor *p = rg_param_new(ctx[c], "x", rg_shape1(n), x);
    rg_tensor *y = rg_norm(ctx[c], p, 2.0f);
    cr_assert(y && rg_backward(ctx[c], y) == RG_OK, "%s", rg_ctx_message(ctx[c]));
    float v = rg_tensor_data(y)[0];
    CLOSE(v, norm, "%s on %s: |x| = %a, reference %La (%.1f ulps)", what, isa_of(ctx[c]), v,
          norm, ulps(v, norm));
    const float *g = rg_tensor_grad(p);
    for (int64_t i = 0; i < n; i++) {
      long double want = (long double)x[i] / norm;
      cr_assert(isfinite(g[i]) && ulps(g[i], want) <= TOL_ULPS,
                "%s on %s: d|x|/dx[%lld] = %a, reference %La (x = %a)", what, isa_of(ctx[c]),
                (long long)i, g[i], want, x[i]);
    }
    if (c == 0) first = v;
    cr_assert(memcmp(&v, &first, sizeof v) == 0, "%s: %s differs from scalar", what,
              isa_of(ctx[c]));
  }
  free_all(ctx, nc);
}

Test(norm, l2_value_and_gradient_from_subnormals_to_flt_max) {
  static const struct {
    const char *what;
    int n;
    float v[8];
  } vecs[] = {
      {"huge (issue 15)", 4, {3e20f, 4e20f, -1e20f, 2e20f}},
      {"tiny (issue 15)", 4, {3e-25f, 4e-25f, -1e-25f, 2e-25f}},
      {"smallest subnormals", 4, {1e-45f, -1e-45f, 1e-45f, 1e-45f}},
      {"subnormals", 5, {1e-40f, -1e-45f, 3e-39f, -1e-40f, 2e-44f}},
      {"FLT_MAX / 4", 3, {FLT_MAX / 4, -FLT_MAX / 4, 1.0f}},
      {"norm past FLT_MAX", 3, {FLT_MAX, -FLT_MAX, FLT_MAX}},
      {"mixed", 8, {1e30f, 1e-30f, 3e-40f, -2e25f, 7.0f, -1e-20f, 1e35f, FLT_MAX / 1e3f}},
      {"ordinary", 5, {0.5f, -1.25f, 3.0f, 1e-3f, 2.0f}},
  };
  for (unsigned i = 0; i < sizeof vecs / sizeof *vecs; i++)
    check_norm(vecs[i].what, vecs[i].v, vecs[i].n);
}

/* Longer than 4 chunks of the threaded reduction, magnitudes 1e-44 to 1e37. */
Test(norm, l2_of_a_long_vector_over_the_float_range) {
  enum { N = 4 * 16384 + 777 };
  static float x[N];
  fill_log(x, N, 5, -44, 37);
  check_norm("long, 1e-44 .. 1e37", x, N);
  fill_log(x, N, 6, -32, -30); /* the study's vanishing sigmoid gradients */
  check_norm("long, 1e-32 .. 1e-30", x, N);
}

/* Two gradients of n elements around scale0 and scale1; the report's norms
 * against long double. */
static void check_measure(float scale0, float scale1) {
  enum { N0 = 1000, N1 = 333 };
  static float g0[N0], g1[N1];
  fill_log(g0, N0, 11, -0.1, 0.1);
  fill_log(g1, N1, 12, -0.1, 0.1);
  for (int i = 0; i < N0; i++) g0[i] *= scale0;
  for (int i = 0; i < N1; i++) g1[i] *= scale1;
  long double s0 = ref_sumsq(g0, N0), s1 = ref_sumsq(g1, N1), global = sqrtl(s0 + s1);
  rg_ctx *ctx[8];
  int nc = contexts(ctx);
  for (int c = 0; c < nc; c++) {
    rg_tensor *p[2] = {rg_param_new(ctx[c], "a", rg_shape2(10, N0 / 10), NULL),
                       rg_param_new(ctx[c], "b", rg_shape1(N1), NULL)};
    memcpy(rg_tensor_grad(p[0]), g0, sizeof g0);
    memcpy(rg_tensor_grad(p[1]), g1, sizeof g1);
    rg_grad_report *r = rg_grad_report_new(ctx[c], 2);
    cr_assert_eq(rg_grad_measure(ctx[c], p, 2, r), RG_OK);
    CLOSE(r->tensor_l2[0], sqrtl(s0), "%s: |g0| = %a, reference %La", isa_of(ctx[c]),
          r->tensor_l2[0], sqrtl(s0));
    CLOSE(r->tensor_l2[1], sqrtl(s1), "%s: |g1| = %a, reference %La", isa_of(ctx[c]),
          r->tensor_l2[1], sqrtl(s1));
    CLOSE(r->global_l2, global, "%s: global = %a, reference %La", isa_of(ctx[c]), r->global_l2,
          global);
    rg_clip_result res;
    cr_assert_eq(rg_clip_grad_norm(ctx[c], p, 2, 1.0f, 2.0f, NULL, &res), RG_OK);
    cr_assert_eq(res.norm, r->global_l2, "%s: the clipper reports the measured norm",
                 isa_of(ctx[c]));
    if (global > 1) { /* clipped to 1: measure again */
      cr_assert(res.clipped && res.scale < 1.0f);
      cr_assert_eq(rg_grad_measure(ctx[c], p, 2, r), RG_OK);
      cr_assert(fabsf(r->global_l2 - 1.0f) < 1e-5f, "%s: %g after clipping", isa_of(ctx[c]),
                r->global_l2);
    } else {
      cr_assert(!res.clipped && res.scale == 1.0f);
    }
    rg_grad_report_free(r);
  }
  free_all(ctx, nc);
}

Test(clip, global_and_tensor_norms_of_vanishing_gradients) {
  check_measure(1.9e-31f, 1e-21f); /* elements ~1.9e-31: squares below FLT_TRUE_MIN */
  check_measure(1e-21f, 3e-40f);   /* subnormal elements */
}

Test(clip, global_and_tensor_norms_of_huge_gradients) {
  check_measure(1e19f, 1e20f); /* squares past FLT_MAX, norms near 1e21 */
  check_measure(1e36f, 1e35f); /* norm 3e37, still below FLT_MAX */
}

/* A finite gradient whose norm passes FLT_MAX: three elements of FLT_MAX
 * (norm sqrt(3) FLT_MAX). The float norm is inf, but the coefficient comes
 * from the double sum, so the clipped gradient has norm 1 (globally and per
 * tensor) instead of being zeroed. The coefficient, 1.7e-39, is a float
 * subnormal with 17 significant bits: hence the 1e-4 tolerance. */
Test(clip, norm_past_flt_max_scales_instead_of_zeroing) {
  rg_ctx *ctx[8];
  int nc = contexts(ctx);
  for (int c = 0; c < nc; c++) {
    for (int per_tensor = 0; per_tensor < 2; per_tensor++) {
      rg_tensor *w = rg_param_new(ctx[c], per_tensor ? "t" : "g", rg_shape1(3), NULL);
      memcpy(rg_tensor_grad(w), (float[]){FLT_MAX, -FLT_MAX, FLT_MAX}, 3 * sizeof(float));
      rg_clip_result r;
      rg_status st = per_tensor ? rg_clip_grad_norm_per_tensor(ctx[c], &w, 1, 1.0f, NULL, &r)
                                : rg_clip_grad_norm(ctx[c], &w, 1, 1.0f, 2.0f, NULL, &r);
      cr_assert_eq(st, RG_OK, "%s", rg_ctx_message(ctx[c]));
      cr_assert(isinf(r.norm) && r.finite, "%s: the float norm is inf, the gradient finite",
                isa_of(ctx[c]));
      const float *g = rg_tensor_grad(w);
      for (int i = 0; i < 3; i++)
        cr_assert(fabs(fabsf(g[i]) - 1.0 / sqrt(3.0)) < 1e-4, "%s %s: element %d is %a",
                  isa_of(ctx[c]), per_tensor ? "per tensor" : "global", i, g[i]);
    }
  }
  free_all(ctx, nc);
}

/* AGC with weights and gradients whose row squares pass FLT_MAX: the rows
 * [3e20, 4e20] (|w| 5e20) get the gradient [6e20, 8e20] (|g| 1e21) cut to
 * 0.1 |w|, [3e19, 4e19]. */
Test(clip, agc_rows_of_huge_weights) {
  rg_ctx *ctx[8];
  int nc = contexts(ctx);
  for (int c = 0; c < nc; c++) {
    rg_tensor *w = rg_param_new(ctx[c], "w", rg_shape2(2, 2), (float[]){3e20f, 4e20f, 1, 0});
    memcpy(rg_tensor_grad(w), (float[]){6e20f, 8e20f, 1e-30f, 0}, 4 * sizeof(float));
    rg_clip_result r;
    cr_assert_eq(rg_clip_agc(ctx[c], &w, 1, 0.1f, NULL, NULL, &r), RG_OK);
    const float *g = rg_tensor_grad(w);
    CLOSE(g[0], 3e19L, "%s: row 0 clipped to %a, expected 3e19", isa_of(ctx[c]), g[0]);
    CLOSE(g[1], 4e19L, "%s: %a, expected 4e19", isa_of(ctx[c]), g[1]);
    cr_assert(g[2] == 1e-30f && r.clipped == 1, "%s: row 1 untouched", isa_of(ctx[c]));
  }
  free_all(ctx, nc);
}

/* |g| of a vanishing gradient, |w| of huge weights and |dw| / |w| of an
 * update far below FLT_MIN. */
Test(diag, norms_over_the_float_range) {
  rg_ctx *ctx[8];
  int nc = contexts(ctx);
  for (int c = 0; c < nc; c++) {
    static const float w0[2] = {3e20f, 4e20f}, gw[2] = {1.8e-31f, 2.4e-31f};
    static const float u0[2] = {3e-25f, 4e-25f}, gu[2] = {2e-25f, 2e-25f};
    rg_tensor *w = rg_param_new(ctx[c], "w", rg_shape1(2), w0);
    rg_tensor *u = rg_param_new(ctx[c], "u", rg_shape1(2), u0);
    memcpy(rg_tensor_grad(w), gw, sizeof gw);
    memcpy(rg_tensor_grad(u), gu, sizeof gu);
    rg_optim *o = rg_optim_new(ctx[c], &(rg_optim_config){.kind = RG_SGD, .lr = 0.5f});
    rg_optim_add_all(o);
    rg_diag *d = rg_diag_new(ctx[c], 0, 0);
    cr_assert_eq(rg_diag_before_step(d), RG_OK);
    cr_assert_eq(rg_optim_step(o, 0.5f, 1.0f), RG_OK);
    cr_assert_eq(rg_diag_after_step(d), RG_OK);
    int n;
    const rg_param_diag *rows = rg_diag_params(d, &n);
    const float *u1 = rg_tensor_data(u);
    float du[2] = {u1[0] - u0[0], u1[1] - u0[1]}; /* the update, as diag forms it */
    long double wn = sqrtl(ref_sumsq(u1, 2)), dw = sqrtl(ref_sumsq(du, 2));
    cr_assert(dw > 0, "the step moved u");
    CLOSE(rows[0].grad_norm, sqrtl(ref_sumsq(gw, 2)), "%s: |g| = %a", isa_of(ctx[c]),
          rows[0].grad_norm);
    CLOSE(rows[0].weight_norm, sqrtl(ref_sumsq(w0, 2)), "%s: |w| = %a", isa_of(ctx[c]),
          rows[0].weight_norm);
    CLOSE(rows[1].grad_norm, sqrtl(ref_sumsq(gu, 2)), "%s: |g_u| = %a", isa_of(ctx[c]),
          rows[1].grad_norm);
    CLOSE(rows[1].weight_norm, wn, "%s: |w'| = %a, reference %La", isa_of(ctx[c]),
          rows[1].weight_norm, wn);
    cr_assert(fabs(rows[1].update_ratio - (double)(dw / wn)) < 1e-6,
              "%s: |dw| / |w| = %g, reference %Lg", isa_of(ctx[c]), rows[1].update_ratio,
              dw / wn);
    cr_assert(!rows[0].exploding && rows[0].vanishing, "%s: w's gradient vanishes",
              isa_of(ctx[c]));
    rg_diag_free(d);
    rg_optim_free(o);
  }
  free_all(ctx, nc);
}
