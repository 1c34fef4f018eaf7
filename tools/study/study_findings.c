/* The finding of each regime in plain words, computed from its measurements
 * over the seeds (study_report.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "study_report.h"

#define VANISH_RATIO 1e-2 /* first/last below this: the gradient vanishes on the way back */
#define EXPLODE_RATIO 1e2
#define SAME_ORDER 10.0 /* first/last within [1/10, 10]: the same order of magnitude */
#define TINY_NORM 1e-3  /* every layer's gradient below this: vanished throughout */
#define HUGE_NORM 1e2
#define CHANCE_MARGIN 0.03
#define SPIKE_FACTOR 10.0 /* a global gradient norm this many times step 0's is a spike */

/* Seeds that ran (a failed run has no measurements). */
static int ran(const study_agg *a) { return a->seeds - a->failed; }

static void step0_sentence(const study_agg *a, FILE *out) {
  int zero_first = 0, nonfinite = 0, missing = 0;
  for (int k = 0; k < a->seeds; k++) {
    const study_run *r = &a->runs[k];
    if (r->result.status != RG_OK) continue;
    if (r->samples == 0 || r->sample_step[0] != 0) {
      missing++;
      continue;
    }
    const float *p = study_run_sample(r, 0);
    nonfinite += !isfinite(p[0]) || !isfinite(p[r->layers - 1]);
    zero_first += p[0] == 0.0f && p[r->layers - 1] > 0.0f;
  }
  int n = ran(a);
  if (n == 0 || missing == n) {
    fprintf(out, "No gradient was measured at step 0. ");
    return;
  }
  char f[96], l[96], q[96], g[96];
  study_short_ci(f, &a->first0);
  study_short_ci(l, &a->last0);
  study_short_ci(q, &a->sig0);
  study_short_ci(g, &a->global0);
  int layers = a->runs[0].layers;
  if (nonfinite) {
    fprintf(out, "At step 0 the gradient is already not finite in %d of %d seeds. ", nonfinite, n);
    return;
  }
  if (zero_first == n) {
    fprintf(out,
            "At step 0 the first layer's gradient norm is 0 (below what a float holds) in "
            "every seed while the last layer's is %s: the gradient is gone before it reaches "
            "the input. ",
            l);
    return;
  }
  if (zero_first)
    fprintf(out, "At step 0 the first layer's gradient norm is 0 in %d of %d seeds. ", zero_first,
            n);
  double first = a->first0.mean, last = a->last0.mean, ratio = a->sig0.mean;
  fprintf(out, "At step 0 (geometric means over the seeds, 95%% intervals) ");
  if (ratio < VANISH_RATIO) {
    fprintf(out,
            "the first layer's gradient norm is %s, a ratio of %s to the last layer's (%s): "
            "the gradient vanishes on its way back through %d layers. ",
            f, q, l, layers);
  } else if (ratio > EXPLODE_RATIO) {
    fprintf(out,
            "the first layer's gradient norm is %s, %s times the last layer's (%s): the "
            "gradient explodes on its way back through %d layers. ",
            f, q, l, layers);
  } else {
    bool same = ratio >= 1.0 / SAME_ORDER && ratio <= SAME_ORDER;
    fprintf(out, "the first and last layers get gradients %s (%s and %s, ratio %s)",
            same ? "of the same order" : "within two orders of magnitude", f, l, q);
    if (fmax(first, last) < TINY_NORM)
      fprintf(out, ", but both are tiny: the whole network's gradient has vanished. ");
    else if (fmin(first, last) > HUGE_NORM)
      fprintf(out, ", but both are huge: the whole gradient is large, at every layer alike "
                   "(global norm %s). ", g);
    else if (same)
      fprintf(out, ": the gradient reaches the input at the scale of the output. ");
    else
      fprintf(out, ": the gradient %s on its way back. ", ratio > 1.0 ? "grows" : "shrinks");
  }
  if (a->runs[0].config.model.batch_norm && ratio > SAME_ORDER)
    fprintf(out,
            "With batch norm, a first layer's gradient more than %g times the last's at "
            "initialization is the gradient explosion batch norm causes in deep networks "
            "(Yang et al. 2019), not a sign of health. ",
            SAME_ORDER);
}

/* The last sample taken while everything was finite, or -1. */
static int last_finite_sample(const study_run *r) {
  for (int i = r->samples - 1; i > 0; i--) {
    int64_t t = r->sample_step[i];
    if (t < r->steps && r->finite[t]) return i;
  }
  return -1;
}

/* The first/last ratio at each seed's last finite sample, over the seeds. */
static void training_sentence(const study_agg *a, FILE *out) {
  double *ratio = a->seeds > 0 ? calloc((size_t)a->seeds, sizeof *ratio) : NULL;
  if (!ratio) return;
  int zero = 0, used = 0;
  for (int k = 0; k < a->seeds; k++) {
    const study_run *r = &a->runs[k];
    int i = r->result.status == RG_OK ? last_finite_sample(r) : -1;
    ratio[k] = i > 0 ? study_run_signature(r, i) : NAN;
    if (i > 0) used++, zero += study_run_sample(r, i)[0] == 0.0f;
  }
  study_ci c = study_geomean_ci(ratio, a->seeds);
  free(ratio);
  if (used == 0) return;
  if (zero == used) {
    fprintf(out,
            "By the last sample of every seed the first layer's gradient norm reads 0: it has "
            "vanished below what float32 measures. ");
    return;
  }
  char q[96];
  fprintf(out, "By the last sample (before any divergence) the first/last ratio is %s",
          study_short_ci(q, &c));
  if (zero) fprintf(out, "; the first layer's norm reads 0 in %d of %d seeds", zero, used);
  fprintf(out, ". ");
}

/* Seeds whose largest finite global gradient norm after step 0 is a spike. */
static void spike_sentence(const study_agg *a, FILE *out) {
  int spikes = 0;
  double worst = 0.0;
  for (int k = 0; k < a->seeds; k++) {
    const study_run *r = &a->runs[k];
    int64_t at = -1;
    for (int64_t t = 1; t < r->steps; t++)
      if (r->finite[t] && (at < 0 || r->grad_norm[t] > r->grad_norm[at])) at = t;
    if (at < 0 || !(r->grad_norm[0] > 0.0f)) continue;
    double times = (double)r->grad_norm[at] / (double)r->grad_norm[0];
    if (times > SPIKE_FACTOR) spikes++, worst = fmax(worst, times);
  }
  if (!spikes) return;
  char w[32];
  fprintf(out,
          "In %d of %d seeds the global gradient norm spikes to more than %g times its value "
          "at step 0 (at most %s times). ",
          spikes, a->seeds, SPIKE_FACTOR, study_short_number(w, worst));
}

static bool at_chance(double acc, int classes) {
  return classes > 0 && acc < 1.0 / classes + CHANCE_MARGIN;
}

static void outcome_sentence(const study_agg *a, int classes, FILE *out) {
  if (a->failed)
    fprintf(out, "%d of %d seeds failed to run: %s (%s). ", a->failed, a->seeds,
            a->runs[0].result.message, rg_status_name(a->runs[0].result.status));
  if (ran(a) == 0) return;
  char val[64], test[64], train[64], loss[96];
  study_pct_ci(val, &a->val);
  study_pct_ci(test, &a->test);
  study_pct_ci(train, &a->train);
  if (a->diverged) {
    int64_t first = -1;
    for (int k = 0; k < a->seeds; k++) {
      int64_t d = a->runs[k].result.diverged_step;
      if (d >= 0 && (first < 0 || d < first)) first = d;
    }
    fprintf(out,
            "%d of %d seeds diverged (the first at step %lld) and stopped there; over all "
            "seeds validation accuracy is %s, test %s. ",
            a->diverged, a->seeds, (long long)first, val, test);
    return;
  }
  fprintf(out,
          "After %lld steps the validation accuracy is %s (test %s, training %s; loss over "
          "the last tenth %s%s)",
          (long long)a->runs[0].result.steps, val, test, train,
          study_short_ci(loss, &a->tail_loss),
          a->runs[0].config.run.penalty != RG_PENALTY_NONE ? ", penalty included" : "");
  if (at_chance(a->val.mean, classes))
    fprintf(out, ": chance level, nothing was learned. ");
  else
    fprintf(out, ". ");
}

/* The difference of mean validation accuracies with Welch's interval; a
 * finding only where that interval excludes 0. */
static void comparison_sentence(const study_agg *a, const study_agg *aggs, int n, FILE *out) {
  const study_agg *ref = study_find_agg(aggs, n, a->regime->reference);
  if (!ref || ref->failed || a->failed) return;
  if (ref->diverged && !a->diverged) {
    fprintf(out, "Its reference %s diverged in %d of %d seeds; this regime in none. ",
            ref->regime->name, ref->diverged, ref->seeds);
    return;
  }
  if (ref->diverged || a->diverged) return;
  char r[64];
  study_diff d = study_welch(&a->val, &ref->val);
  fprintf(out, "Against %s (validation %s) that is %+.1f points of validation accuracy",
          ref->regime->name, study_pct_ci(r, &ref->val), study_pct(d.d));
  if (!isfinite(d.lo)) {
    fprintf(out, " from one seed: no interval, no conclusion. ");
    return;
  }
  fprintf(out, " (95%% Welch interval [%+.1f, %+.1f], %d degrees of freedom): %s. ",
          study_pct(d.lo), study_pct(d.hi), d.df,
          study_diff_separates(&d) ? "the intervals separate"
                                   : "within the seed-to-seed spread, no conclusion");
}

static void sparsity_sentence(const study_agg *a, FILE *out) {
  const train_config *c = &a->runs[0].config;
  bool sparse_method = c->run.penalty == RG_PENALTY_L1 || c->run.penalty == RG_PENALTY_ELASTIC ||
                       c->optim.prox_l1 > 0.0f;
  double mean = a->sparsity.mean;
  if (!sparse_method && !(mean > 0.0)) return;
  fprintf(out, "%.1f%% of the weights are exactly zero (mean over the seeds)", study_pct(mean));
  if (c->run.penalty == RG_PENALTY_L1 && c->optim.prox_l1 == 0.0f && mean < 0.01)
    fprintf(out, " (a subgradient step almost never lands on 0 exactly)");
  fprintf(out, ". ");
}

void study_finding(const study_agg *a, const study_agg *aggs, int n, int classes, FILE *out) {
  fprintf(out, "**%s** (%s", a->regime->name, study_role_name(a->regime->role));
  if (a->regime->reference) fprintf(out, ", against %s", a->regime->reference);
  fprintf(out, "): %s. ", a->regime->why);
  step0_sentence(a, out);
  spike_sentence(a, out);
  training_sentence(a, out);
  outcome_sentence(a, classes, out);
  comparison_sentence(a, aggs, n, out);
  sparsity_sentence(a, out);
}
