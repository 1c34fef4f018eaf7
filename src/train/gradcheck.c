/* Gradient check by central differences. The loss function is evaluated with
 * recording off and with the dropout stream rewound before every call, so
 * dropout masks repeat; buffers it changes (batch-norm running statistics)
 * are restored at the end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

static const char fn_name[] = "rg_gradcheck";

struct probe {
  rg_ctx *ctx;
  rg_loss_fn fn;
  void *user;
  uint64_t stream;
};

/* The loss at the current parameter values, or NAN if fn failed. */
static double eval_loss(struct probe *p) {
  rg_tape_reset(p->ctx);
  p->ctx->dropout_stream = p->stream;
  bool was = rg_set_grad_enabled(p->ctx, false);
  const rg_tensor *loss = rg_deref(p->fn(p->ctx, p->user));
  rg_set_grad_enabled(p->ctx, was);
  if (!loss || p->ctx->status != RG_OK || loss->numel != 1) return NAN;
  return loss->data[0];
}

static bool params_ok(rg_ctx *ctx, rg_loss_fn fn, rg_tensor *const *params, int n) {
  if (!rg_ctx_ok(ctx)) return false;
  if (!fn || !params || n < 1) {
    rg_fail(ctx, RG_EINVAL, fn_name, "fn, params and n >= 1 are required (n is %d)", n);
    return false;
  }
  for (int i = 0; i < n; i++) {
    const rg_tensor *p = rg_ref(ctx, fn_name, "params[i]", params[i]);
    if (!p || p->kind != RG_PARAM) {
      rg_fail(ctx, RG_EINVAL, fn_name, "params[%d] is not a parameter", i);
      return false;
    }
  }
  return true;
}

/* Copies of the analytic gradients and of every buffer, in one block. */
static float *snapshot(rg_ctx *ctx, rg_tensor *const *params, int n, size_t *len) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += (size_t)params[i]->numel;
  for (int i = 0; i < ctx->n_params; i++)
    if (ctx->params[i]->kind == RG_BUFFER) total += (size_t)ctx->params[i]->numel;
  *len = total;
  float *copy = rg_heap_alloc(ctx, fn_name, total * sizeof(float));
  if (!copy) return NULL;
  float *at = copy;
  for (int i = 0; i < n; i++, at += params[i - 1]->numel)
    memcpy(at, params[i]->grad, (size_t)params[i]->numel * sizeof(float));
  for (int i = 0; i < ctx->n_params; i++)
    if (ctx->params[i]->kind == RG_BUFFER) {
      memcpy(at, ctx->params[i]->data, (size_t)ctx->params[i]->numel * sizeof(float));
      at += ctx->params[i]->numel;
    }
  return copy;
}

static void restore_buffers(rg_ctx *ctx, const float *at) {
  for (int i = 0; i < ctx->n_params; i++)
    if (ctx->params[i]->kind == RG_BUFFER) {
      memcpy(ctx->params[i]->data, at, (size_t)ctx->params[i]->numel * sizeof(float));
      at += ctx->params[i]->numel;
    }
}

/* The central difference of the loss in *w with step h (the steps as the
 * float sums actually land); 2 in *bad when a loss is not finite. */
static double central(struct probe *p, float *w, float h, double *fp, double *fm) {
  float orig = *w, up = orig + h, down = orig - h;
  *w = up;
  *fp = eval_loss(p);
  *w = down;
  *fm = eval_loss(p);
  *w = orig;
  return (*fp - *fm) / (((double)up - orig) + ((double)orig - down));
}

/* Checks one element; returns -1 for a kink skip, 0 pass, 1 fail, 2 for a
 * non-finite loss. A difference beyond the tolerance is a kink (relu at 0,
 * |w| at 0, a clamp edge crossed between the probes) when the one-sided
 * slopes disagree, or when the difference with half the step disagrees with
 * the full one: a wrong gradient gives numeric estimates that agree with
 * each other and not with it. */
static int check_element(struct probe *p, float *w, double analytic, double f0,
                         const rg_gradcheck_opts *o, double *err) {
  float orig = *w;
  float h = (float)(o->eps * fmax(1.0, fabs(orig)));
  double fp, fm;
  double numeric = central(p, w, h, &fp, &fm);
  if (!isfinite(f0) || !isfinite(fp) || !isfinite(fm)) return 2;
  double tol = o->atol + o->rtol * fabs(numeric);
  *err = fabs(analytic - numeric);
  if (*err <= tol) return 0;
  double hp = (double)(orig + h) - orig, hm = (double)orig - (orig - h);
  double right = (fp - f0) / hp, left = (f0 - fm) / hm;
  if (fabs(right - left) > 4.0 * tol) return -1;
  double fp2, fm2, half = central(p, w, 0.5f * h, &fp2, &fm2);
  if (!isfinite(fp2) || !isfinite(fm2)) return 2;
  return fabs(half - numeric) > tol ? -1 : 1;
}

rg_status rg_gradcheck(rg_ctx *ctx, rg_loss_fn fn, void *user, rg_tensor *const *params, int n,
                       const rg_gradcheck_opts *opts, rg_gradcheck_report *report) {
  rg_gradcheck_report r = {0};
  if (report) *report = r;
  if (!params_ok(ctx, fn, params, n)) return ctx ? ctx->status : RG_EINVAL;
  rg_gradcheck_opts o = {1e-2, 1e-3, 1e-2, 0};
  if (opts) o = *opts;
  if (!(o.eps >= 0 && o.eps < 1) || !(o.atol >= 0 && o.atol < INFINITY) ||
      !(o.rtol >= 0 && o.rtol < INFINITY) || o.max_elems < 0) {
    rg_fail(ctx, RG_EINVAL, fn_name, "opts: eps %g, atol %g, rtol %g, max_elems %lld: expected eps "
            "in [0, 1) (0: 1e-2), finite atol and rtol >= 0, max_elems >= 0", o.eps, o.atol,
            o.rtol, (long long)o.max_elems);
    return ctx->status;
  }
  if (o.eps == 0) o.eps = 1e-2;
  struct probe p = {ctx, fn, user, ctx->dropout_stream};
  size_t len;
  for (int i = 0; i < n; i++) memset(params[i]->grad, 0, (size_t)params[i]->numel * sizeof(float));
  rg_tape_reset(ctx);
  ctx->dropout_stream = p.stream;
  rg_tensor *loss = fn(ctx, user);
  if (!loss && ctx->status == RG_OK)
    rg_fail(ctx, RG_EINVAL, fn_name, "fn returned NULL without setting an error");
  const rg_tensor *l = loss ? rg_ref(ctx, fn_name, "the loss fn returned", loss) : NULL;
  if (l && l->numel != 1)
    rg_fail(ctx, RG_ESHAPE, fn_name, "fn returned a %s loss, expected a single element",
            RG_SHAPE_STR(l->shape));
  if (rg_backward(ctx, loss) != RG_OK) return ctx->status;
  float *saved = snapshot(ctx, params, n, &len);
  if (!saved) return ctx->status;
  const float *analytic = saved;
  size_t grads_len = 0;
  for (int i = 0; i < n; i++) grads_len += (size_t)params[i]->numel;
  double f0 = eval_loss(&p);
  rg_status st = RG_OK;
  for (int i = 0; i < n && st == RG_OK; i++) {
    rg_tensor *t = params[i];
    int64_t stride = (o.max_elems > 0 && t->numel > o.max_elems) ? t->numel / o.max_elems : 1;
    for (int64_t e = 0; e < t->numel; e += stride) {
      double err = 0;
      int verdict = check_element(&p, &t->data[e], analytic[e], f0, &o, &err);
      if (verdict == 2) {
        rg_fail(ctx, RG_ENONFINITE, fn_name, "the loss is not finite near %s[%lld]", t->name,
                (long long)e);
        st = RG_ENONFINITE;
        break;
      }
      if (verdict < 0) {
        r.skipped_kinks++;
        continue;
      }
      r.checked++;
      r.failed += verdict;
      if (err > r.max_abs_err) r.max_abs_err = err, r.worst = t, r.worst_index = e;
    }
    analytic += t->numel;
  }
  restore_buffers(ctx, saved + grads_len);
  rg_heap_free(ctx, saved, len * sizeof(float));
  rg_tape_reset(ctx);
  if (report) *report = r;
  if (st == RG_OK && r.failed > 0) {
    rg_fail(ctx, RG_EINVAL, fn_name, "%lld of %lld elements differ; worst %s[%lld], |error| %g",
            (long long)r.failed, (long long)r.checked, r.worst ? r.worst->name : "?",
            (long long)r.worst_index, r.max_abs_err);
    st = RG_EINVAL;
  } else if (st == RG_OK && r.checked == 0) {
    rg_fail(ctx, RG_EINVAL, fn_name, "no element could be checked: all %lld sit on kinks",
            (long long)r.skipped_kinks);
    st = RG_EINVAL;
  }
  return st;
}
