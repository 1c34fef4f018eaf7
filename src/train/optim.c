/* SGD, Adam and AdamW over parameter groups, each update one fused kernel
 * call per parameter (gradient scale, weight decay, momentum or moments),
 * followed by the optional proximal L1 / L2 steps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/internal.h"

/* The most steps an optimizer counts: far beyond any run, far below where
 * steps + 1 or Adam's bias correction could misbehave. */
#define MAX_STEPS ((int64_t)1 << 53)

struct entry {
  rg_tensor *p;
  rg_tensor *state[2]; /* SGD: momentum; Adam: exp_avg, exp_avg_sq */
  rg_param_group group;
};

struct rg_optim {
  rg_ctx *ctx;
  rg_optim_config cfg;
  struct entry *entries;
  int n, cap;
  int64_t steps;
};

static bool config_ok(rg_ctx *ctx, const char *fn, rg_optim_config *c) {
  if (c->kind != RG_SGD && c->kind != RG_ADAM && c->kind != RG_ADAMW) {
    rg_fail(ctx, RG_EINVAL, fn, "kind is %d, expected RG_SGD, RG_ADAM or RG_ADAMW", (int)c->kind);
    return false;
  }
  /* Each of Adam's constants defaults on its own (the header's promise). */
  if (c->beta1 == 0.0f) c->beta1 = 0.9f;
  if (c->beta2 == 0.0f) c->beta2 = 0.999f;
  if (c->eps == 0.0f) c->eps = 1e-8f;
  /* Each value must lie in [lo, hi), or [lo, hi] when closed. */
  const struct { const char *name; float v, lo, hi; bool closed; } r[] = {
      {"lr", c->lr, 0, INFINITY, false},          {"momentum", c->momentum, 0, 1, true},
      {"dampening", c->dampening, 0, 1, true},    {"beta1", c->beta1, 0, 1, false},
      {"beta2", c->beta2, 0, 1, false},           {"eps", c->eps, 0, INFINITY, false},
      {"weight_decay", c->weight_decay, 0, INFINITY, false},
      {"prox_l1", c->prox_l1, 0, INFINITY, false}, {"prox_l2", c->prox_l2, 0, INFINITY, false},
  };
  for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++)
    if (!(r[i].v >= r[i].lo && (r[i].v < r[i].hi || (r[i].closed && r[i].v == r[i].hi)))) {
      rg_fail(ctx, RG_EINVAL, fn, "%s is %g, expected a value in [%g, %g%c", r[i].name,
              (double)r[i].v, (double)r[i].lo, (double)r[i].hi, r[i].closed ? ']' : ')');
      return false;
    }
  if (c->kind != RG_SGD && !(c->eps > 0.0f)) {
    /* A zero gradient would give 0 / (0 + 0) = NaN in every weight. */
    rg_fail(ctx, RG_EINVAL, fn, "eps is %g, expected > 0 for Adam and AdamW", (double)c->eps);
    return false;
  }
  if (c->nesterov && (c->momentum == 0.0f || c->dampening != 0.0f)) {
    rg_fail(ctx, RG_EINVAL, fn, "nesterov needs momentum > 0 and dampening 0 (momentum %g, dampening %g)",
            (double)c->momentum, (double)c->dampening);
    return false;
  }
  return true;
}

/* The checkpoint record: the step count (Adam's bias-correction t). */
static void state_save(const void *obj, uint8_t *rec) {
  rg_put_u64(rec, (uint64_t)((const rg_optim *)obj)->steps);
}

static bool state_check(rg_ctx *ctx, const char *fn, const char *where, const void *obj,
                        const uint8_t *rec) {
  (void)obj;
  int64_t steps = (int64_t)rg_get_u64(rec);
  if (steps >= 0 && steps <= MAX_STEPS) return true;
  rg_fail(ctx, RG_EFORMAT, fn, "%s: step count %lld, expected 0 to 2^53", where, (long long)steps);
  return false;
}

static void state_load(void *obj, const uint8_t *rec) {
  ((rg_optim *)obj)->steps = (int64_t)rg_get_u64(rec);
}

static const rg_state_kind optim_state = {"optim", 8, state_save, state_check, state_load};

rg_optim *rg_optim_new(rg_ctx *ctx, const rg_optim_config *cfg) {
  static const char fn[] = "rg_optim_new";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!cfg) {
    rg_fail(ctx, RG_EINVAL, fn, "cfg is NULL");
    return NULL;
  }
  rg_optim_config c = *cfg;
  if (!config_ok(ctx, fn, &c)) return NULL;
  rg_optim *opt = rg_heap_alloc(ctx, fn, sizeof *opt);
  if (!opt) return NULL;
  *opt = (rg_optim){.ctx = ctx, .cfg = c};
  if (!rg_state_add(ctx, fn, &optim_state, opt)) {
    rg_heap_free(ctx, opt, sizeof *opt);
    return NULL;
  }
  return opt;
}

void rg_optim_free(rg_optim *opt) {
  if (!opt) return;
  rg_state_remove(opt->ctx, opt);
  rg_heap_free(opt->ctx, opt->entries, (size_t)opt->cap * sizeof *opt->entries);
  rg_heap_free(opt->ctx, opt, sizeof *opt);
}

static rg_tensor *state_buffer(rg_ctx *ctx, const rg_tensor *p, const char *suffix) {
  char name[512];
  snprintf(name, sizeof name, "%s.%s", p->name, suffix);
  return rg_persistent_new(ctx, "rg_optim_add", RG_BUFFER, name, p->shape, NULL);
}

static bool already_added(const rg_optim *opt, const rg_tensor *p) {
  for (int i = 0; i < opt->n; i++)
    if (opt->entries[i].p == p) return true;
  return false;
}

/* Whether p appears in list[0, n). */
static bool listed(rg_tensor *const *list, int n, const rg_tensor *p) {
  for (int i = 0; i < n; i++)
    if (list[i] == p) return true;
  return false;
}

rg_status rg_optim_add(rg_optim *opt, rg_tensor *const *params, int n, const rg_param_group *group) {
  static const char fn[] = "rg_optim_add";
  if (!opt) return RG_EINVAL;
  rg_ctx *ctx = opt->ctx;
  if (!rg_ctx_ok(ctx)) return rg_ctx_status(ctx);
  rg_param_group g = {opt->cfg.weight_decay, opt->cfg.prox_l1, opt->cfg.prox_l2};
  if (group) g = *group;
  if (!(g.weight_decay >= 0 && g.prox_l1 >= 0 && g.prox_l2 >= 0)) {
    rg_fail(ctx, RG_EINVAL, fn, "group decay %g, prox_l1 %g, prox_l2 %g must be >= 0",
            (double)g.weight_decay, (double)g.prox_l1, (double)g.prox_l2);
    return ctx->status;
  }
  if (n < 0 || (n > 0 && !params)) {
    rg_fail(ctx, RG_EINVAL, fn, "n is %d and params %s, expected n >= 0 and a list", n,
            params ? "a list" : "NULL");
    return ctx->status;
  }
  for (int i = 0; i < n; i++) {
    rg_tensor *p = rg_ref(ctx, fn, "params[i]", params[i]);
    if (!p) return ctx->status;
    if (p->kind != RG_PARAM || already_added(opt, p) || listed(params, i, p)) {
      rg_fail(ctx, RG_EINVAL, fn, "params[%d] (\"%s\") is %s", i, p->name ? p->name : "",
              p->kind != RG_PARAM ? "not a parameter" : "already in a group or listed twice");
      return ctx->status;
    }
  }
  if (opt->n + n > opt->cap) {
    int cap = opt->n + n + 16;
    struct entry *grown = rg_heap_alloc(ctx, fn, (size_t)cap * sizeof *grown);
    if (!grown) return ctx->status;
    if (opt->n) memcpy(grown, opt->entries, (size_t)opt->n * sizeof *grown);
    rg_heap_free(ctx, opt->entries, (size_t)opt->cap * sizeof *grown);
    opt->entries = grown;
    opt->cap = cap;
  }
  bool sgd = opt->cfg.kind == RG_SGD;
  int n_before = opt->n, params_before = ctx->n_params;
  for (int i = 0; i < n; i++) {
    struct entry *e = &opt->entries[opt->n];
    *e = (struct entry){.p = params[i], .group = g};
    if (sgd && opt->cfg.momentum != 0.0f) e->state[0] = state_buffer(ctx, params[i], "momentum");
    if (!sgd) {
      e->state[0] = state_buffer(ctx, params[i], "exp_avg");
      e->state[1] = state_buffer(ctx, params[i], "exp_avg_sq");
    }
    if (ctx->status != RG_OK) {
      /* All or nothing: a retry after the error must not find stale state. */
      opt->n = n_before;
      rg_params_truncate(ctx, params_before);
      return ctx->status;
    }
    opt->n++;
  }
  return RG_OK;
}

rg_status rg_optim_add_all(rg_optim *opt) {
  if (!opt) return RG_EINVAL;
  rg_ctx *ctx = opt->ctx;
  rg_param_group no_decay = {0.0f, 0.0f, 0.0f};
  for (int i = 0; i < ctx->n_params && ctx->status == RG_OK; i++) {
    rg_tensor *p = ctx->params[i];
    if (p->kind != RG_PARAM || already_added(opt, p)) continue;
    rg_optim_add(opt, &p, 1, p->shape.rank >= 2 ? NULL : &no_decay);
  }
  return ctx->status;
}

/* Decoupled decay coefficient d such that the kernel's w -= lr d w applies
 * lr wd (PyTorch) or (lr / lr0) wd (schedule factor only). */
static float decoupled(const rg_optim_config *c, float wd) {
  return c->decay_schedule_only && c->lr > 0.0f ? wd / c->lr : wd;
}

/* Elements per piece of an update: the step, the proximal steps and the
 * gradient zeroing run one after another on a piece while it is in L1 (all
 * are elementwise, so the pieces do not change a bit of the result). */
#define PIECE 4096

static void update(rg_optim *opt, const struct entry *e, float lr, float scale) {
  const rg_optim_config *c = &opt->cfg;
  const struct rg_kernels *k = opt->ctx->k;
  rg_tensor *p = e->p;
  float wd = e->group.weight_decay, l1 = lr * e->group.prox_l1;
  float l2_shrink = 1.0f / (1.0f + lr * e->group.prox_l2);
  bool decouple = c->kind == RG_ADAMW || c->decoupled;
  struct rg_sgd_hyper sgd = {lr, c->momentum, c->dampening, decouple ? 0.0f : wd,
                             decouple ? decoupled(c, wd) : 0.0f, scale, c->nesterov,
                             opt->steps == 1};
  struct rg_adam_hyper adam = {lr, c->beta1, c->beta2, c->eps, decouple ? 0.0f : wd,
                               decouple ? decoupled(c, wd) : 0.0f, scale, 1.0f, 1.0f};
  if (c->kind != RG_SGD) { /* the bias corrections */
    double t = (double)opt->steps;
    adam.bias_c1 = (float)(1.0 - pow(c->beta1, t));
    adam.sqrt_bias_c2 = (float)sqrt(1.0 - pow(c->beta2, t));
  }
  float *s0 = e->state[0] ? e->state[0]->data : NULL, *s1 = e->state[1] ? e->state[1]->data : NULL;
  for (int64_t lo = 0; lo < p->numel; lo += PIECE) {
    int64_t n = p->numel - lo < PIECE ? p->numel - lo : PIECE;
    float *w = p->data + lo, *g = p->grad + lo;
    if (c->kind == RG_SGD)
      k->sgd_step(n, &sgd, w, g, s0 ? s0 + lo : NULL);
    else
      k->adam_step(n, &adam, w, g, s0 + lo, s1 + lo);
    if (l1 > 0.0f) k->prox_l1(n, l1, w);
    if (e->group.prox_l2 > 0.0f) k->scale(n, l2_shrink, w, w);
    if (c->zero_grad) memset(g, 0, (size_t)n * sizeof *g);
  }
}

rg_status rg_optim_step(rg_optim *opt, float lr, float grad_scale) {
  static const char fn[] = "rg_optim_step";
  if (!opt) return RG_EINVAL;
  rg_ctx *ctx = opt->ctx;
  if (!rg_ctx_ok(ctx)) return rg_ctx_status(ctx);
  if (!(lr >= 0.0f && lr < INFINITY) || !(grad_scale >= 0.0f && grad_scale < INFINITY)) {
    rg_fail(ctx, RG_EINVAL, fn, "lr is %g and grad_scale %g, expected finite values >= 0",
            (double)lr, (double)grad_scale);
    return ctx->status;
  }
  if (opt->steps >= MAX_STEPS) {
    rg_fail(ctx, RG_EOVERFLOW, fn, "the optimizer has taken %lld steps, the most it counts",
            (long long)opt->steps);
    return ctx->status;
  }
  opt->steps++;
  for (int i = 0; i < opt->n; i++) update(opt, &opt->entries[i], lr, grad_scale);
  return RG_OK;
}

int64_t rg_optim_steps(const rg_optim *opt) { return opt ? opt->steps : 0; }

rg_status rg_optim_set_steps(rg_optim *opt, int64_t steps) {
  if (!opt) return RG_EINVAL;
  if (!rg_ctx_ok(opt->ctx)) return rg_ctx_status(opt->ctx);
  if (steps < 0 || steps > MAX_STEPS) {
    rg_fail(opt->ctx, RG_EINVAL, "rg_optim_set_steps", "steps is %lld, expected 0 to 2^53",
            (long long)steps);
    return opt->ctx->status;
  }
  opt->steps = steps;
  return RG_OK;
}
