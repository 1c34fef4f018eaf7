/* Learning-rate schedules: pure functions of the step, computed in double
 * and rounded to float once. */
#include <math.h>

#include "core/internal.h"

static const double pi = 3.14159265358979323846;

/* What is wrong with s, or NULL when it is valid. */
static const char *problem(const rg_schedule *s) {
  const char *bad = NULL;
  if (!s) bad = "schedule is NULL";
  else if (!(s->lr0 >= 0.0f && s->lr0 < INFINITY)) bad = "lr0 must be finite and >= 0";
  else if ((unsigned)s->kind > RG_SCHED_COSINE) bad = "kind is unknown";
  else if (s->kind == RG_SCHED_STEP && s->step_size < 1) bad = "step_size must be >= 1";
  else if ((s->kind == RG_SCHED_STEP || s->kind == RG_SCHED_MULTISTEP ||
            s->kind == RG_SCHED_EXPONENTIAL) && !(s->gamma > 0.0f && s->gamma <= 1.0f))
    bad = "gamma must be in (0, 1]";
  else if (s->kind == RG_SCHED_MULTISTEP && (s->n_milestones < 1 || s->n_milestones > RG_MAX_MILESTONES))
    bad = "n_milestones must be 1 to 8";
  else if ((s->kind == RG_SCHED_POLYNOMIAL || s->kind == RG_SCHED_COSINE) && s->total_steps < 1)
    bad = "total_steps must be >= 1";
  else if (s->kind == RG_SCHED_POLYNOMIAL && !(s->power > 0.0f && s->power < INFINITY))
    bad = "power must be finite and > 0";
  else if (s->kind == RG_SCHED_INVERSE_TIME && !(s->k >= 0.0f && s->k < INFINITY))
    bad = "k must be finite and >= 0";
  else if (!(s->lr_min >= 0.0f && s->lr_min <= s->lr0)) bad = "lr_min must be in [0, lr0]";
  else if (s->warmup_steps < 0 || !(s->warmup_start >= 0.0f && s->warmup_start <= 1.0f))
    bad = "warmup_steps must be >= 0 and warmup_start in [0, 1]";
  for (int i = 1; !bad && s->kind == RG_SCHED_MULTISTEP && i < s->n_milestones; i++)
    if (s->milestones[i] <= s->milestones[i - 1]) bad = "milestones must increase";
  return bad;
}

rg_status rg_schedule_check(rg_ctx *ctx, const rg_schedule *s) {
  if (!rg_ctx_ok(ctx)) return rg_ctx_status(ctx);
  const char *bad = problem(s);
  if (bad) rg_fail(ctx, RG_EINVAL, "rg_schedule_check", "%s", bad);
  return ctx->status;
}

static double after_warmup(const rg_schedule *s, int64_t t) {
  double lr0 = s->lr0, lo = s->lr_min;
  double frac = s->total_steps > 0 ? (double)(t < s->total_steps ? t : s->total_steps) / (double)s->total_steps : 1.0;
  switch (s->kind) {
    case RG_SCHED_STEP: return lr0 * pow(s->gamma, (double)(t / s->step_size));
    case RG_SCHED_MULTISTEP: {
      int passed = 0;
      for (int i = 0; i < s->n_milestones; i++) passed += t >= s->milestones[i];
      return lr0 * pow(s->gamma, passed);
    }
    case RG_SCHED_EXPONENTIAL: return lr0 * pow(s->gamma, (double)t);
    case RG_SCHED_POLYNOMIAL: return (lr0 - lo) * pow(1.0 - frac, s->power) + lo;
    case RG_SCHED_INVERSE_TIME: return lr0 / (1.0 + s->k * (double)t);
    case RG_SCHED_COSINE: return lo + (lr0 - lo) * (1.0 + cos(pi * frac)) / 2.0;
    default: return lr0;
  }
}

float rg_schedule_lr(const rg_schedule *s, int64_t t) {
  /* An invalid schedule (a zero step_size would divide by zero) gives NaN,
   * which rg_optim_step rejects with RG_EINVAL. */
  if (problem(s)) return NAN;
  if (t < 0) t = 0;
  if (t < s->warmup_steps) {
    double f = s->warmup_start;
    return (float)(s->lr0 * (f + (1.0 - f) * (double)t / (double)s->warmup_steps));
  }
  return (float)after_warmup(s, t - s->warmup_steps);
}
