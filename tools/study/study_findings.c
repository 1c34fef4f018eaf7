/* The finding of each regime in plain words, computed from its measurements
 * (study_report.h). */
#include <math.h>
#include <string.h>

#include "study_report.h"

#define VANISH_RATIO 1e-2 /* first/last below this: the gradient vanishes on the way back */
#define EXPLODE_RATIO 1e2
#define SAME_ORDER 10.0 /* first/last within [1/10, 10]: the same order of magnitude */
#define TINY_NORM 1e-3  /* every layer's gradient below this: vanished throughout */
#define HUGE_NORM 1e2
#define CHANCE_MARGIN 0.03
#define SPIKE_FACTOR 10.0 /* a global gradient norm this many times step 0's is a spike */

static void step0_sentence(const study_run *r, FILE *out) {
  char f[32], l[32], q[32], g[32];
  if (r->samples == 0 || r->sample_step[0] != 0) {
    fprintf(out, "No gradient was measured at step 0. ");
    return;
  }
  const float *p = study_run_sample(r, 0);
  double first = p[0], last = p[r->layers - 1], ratio = first / last;
  study_short_number(f, first);
  study_short_number(l, last);
  study_short_number(q, ratio);
  study_short_number(g, r->grad_norm[0]);
  if (!isfinite(first) || !isfinite(last)) {
    fprintf(out, "At step 0 the gradient is already not finite (first layer %s, last %s). ", f, l);
  } else if (first == 0.0 && last > 0.0) {
    fprintf(out,
            "At step 0 the first layer's gradient norm is 0 (below what a float holds) "
            "while the last layer's is %s: the gradient is gone before it reaches the "
            "input. ",
            l);
  } else if (ratio < VANISH_RATIO) {
    fprintf(out,
            "At step 0 the first layer's gradient norm is %s, %s of the last layer's (%s): "
            "the gradient vanishes on its way back through %d layers. ",
            f, q, l, r->layers);
  } else if (ratio > EXPLODE_RATIO) {
    fprintf(out,
            "At step 0 the first layer's gradient norm is %s, %s times the last layer's "
            "(%s): the gradient explodes on its way back through %d layers. ",
            f, q, l, r->layers);
  } else {
    bool same = ratio >= 1.0 / SAME_ORDER && ratio <= SAME_ORDER;
    fprintf(out, "At step 0 the first and last layers get gradients %s (%s and %s, ratio %s)",
            same ? "of the same order" : "within two orders of magnitude", f, l, q);
    if (fmax(first, last) < TINY_NORM)
      fprintf(out, ", but both are tiny: the whole network's gradient has vanished. ");
    else if (fmin(first, last) > HUGE_NORM)
      fprintf(out, ", but both are huge: the whole gradient has exploded (global norm %s). ", g);
    else
      fprintf(out, ": the gradient reaches the input intact. ");
  }
}

/* The last sample taken while everything was finite, or -1. */
static int last_finite_sample(const study_run *r) {
  for (int i = r->samples - 1; i > 0; i--) {
    int64_t t = r->sample_step[i];
    if (t < r->steps && r->finite[t]) return i;
  }
  return -1;
}

static void training_sentence(const study_run *r, FILE *out) {
  int i = last_finite_sample(r);
  if (i <= 0) return;
  char f[32], q[32];
  double first = study_run_sample(r, i)[0];
  study_short_number(f, first);
  study_short_number(q, study_run_signature(r, i));
  if (first == 0.0)
    fprintf(out,
            "By step %lld the first layer's gradient norm reads 0: it has vanished below "
            "what float32 measures. ",
            (long long)r->sample_step[i]);
  else
    fprintf(out, "By step %lld the first/last ratio is %s (first layer %s). ",
            (long long)r->sample_step[i], q, f);
}

/* The largest finite global gradient norm after step 0, when it is a spike. */
static void spike_sentence(const study_run *r, FILE *out) {
  int64_t at = -1;
  for (int64_t t = 1; t < r->steps; t++)
    if (r->finite[t] && (at < 0 || r->grad_norm[t] > r->grad_norm[at])) at = t;
  if (at < 0 || !(r->grad_norm[0] > 0.0f) || !(r->grad_norm[at] > SPIKE_FACTOR * r->grad_norm[0]))
    return;
  char peak[32], times[32];
  study_short_number(peak, r->grad_norm[at]);
  study_short_number(times, (double)r->grad_norm[at] / (double)r->grad_norm[0]);
  fprintf(out, "The global gradient norm spikes to %s at step %lld, %s times its value at step 0. ",
          peak, (long long)at, times);
}

static bool at_chance(double acc, int classes) {
  return classes > 0 && acc < 1.0 / classes + CHANCE_MARGIN;
}

static void outcome_sentence(const study_run *r, int classes, FILE *out) {
  const train_result *res = &r->result;
  if (res->status != RG_OK) {
    fprintf(out, "The run failed: %s (%s). ", res->message, rg_status_name(res->status));
    return;
  }
  if (study_run_diverged(r)) {
    fprintf(out, "The run diverges: %s, and training stops there (test accuracy %.1f%%). ",
            res->message[0] ? res->message : "a non-finite loss or gradient",
            study_pct(res->test_acc));
    return;
  }
  char loss[32];
  study_short_number(loss, study_run_tail_loss(r, r->steps / 10 + 1));
  fprintf(out,
          "After %lld steps the test accuracy is %.1f%% (validation %.1f%%, training "
          "%.1f%%; loss over the last tenth %s%s)",
          (long long)res->steps, study_pct(res->test_acc), study_pct(res->val_acc),
          study_pct(res->train_acc), loss,
          r->config.run.penalty != RG_PENALTY_NONE ? ", penalty included" : "");
  if (at_chance(res->test_acc, classes))
    fprintf(out, ": chance level, nothing was learned. ");
  else
    fprintf(out, ". ");
}

static void comparison_sentence(const study_run *r, const study_run *runs, int n, FILE *out) {
  const study_run *ref = study_find_run(runs, n, r->regime->reference);
  if (!ref || ref->result.status != RG_OK) return;
  bool dr = study_run_diverged(r), dref = study_run_diverged(ref);
  if (dref && !dr) {
    fprintf(out, "Its reference %s diverged at step %lld; this run did not. ", ref->regime->name,
            (long long)ref->result.diverged_step);
  } else if (!dr && !dref) {
    double d = study_pct(r->result.test_acc - ref->result.test_acc);
    fprintf(out, "Against %s (%.1f%%) that is %+.1f points. ", ref->regime->name,
            study_pct(ref->result.test_acc), d);
  }
}

static void sparsity_sentence(const study_run *r, FILE *out) {
  const train_config *c = &r->config;
  bool sparse_method =
      c->run.penalty == RG_PENALTY_L1 || c->run.penalty == RG_PENALTY_ELASTIC || c->optim.prox_l1 > 0.0f;
  if (!sparse_method && r->result.sparsity == 0.0) return;
  fprintf(out, "%.1f%% of the weights are exactly zero", study_pct(r->result.sparsity));
  if (c->run.penalty == RG_PENALTY_L1 && c->optim.prox_l1 == 0.0f && r->result.sparsity < 0.01)
    fprintf(out, " (a subgradient step almost never lands on 0 exactly)");
  fprintf(out, ". ");
}

void study_finding(const study_run *r, const study_run *runs, int n, int classes, FILE *out) {
  fprintf(out, "**%s** (%s", r->regime->name, study_role_name(r->regime->role));
  if (r->regime->reference) fprintf(out, ", against %s", r->regime->reference);
  fprintf(out, "): %s. ", r->regime->why);
  step0_sentence(r, out);
  spike_sentence(r, out);
  training_sentence(r, out);
  outcome_sentence(r, classes, out);
  comparison_sentence(r, runs, n, out);
  sparsity_sentence(r, out);
}
