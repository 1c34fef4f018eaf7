/* report.md of `regrad study` (study_report.h). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "study_literature.h"
#include "study_plot.h"
#include "study_report.h"

#include "atomic_file.h"

static void header(FILE *f, const study_meta *m) {
  const study_setup *s = m->setup;
  char wall[32];
  progress_format_duration(m->wall_seconds, wall, sizeof wall);
  fprintf(f, "# regrad study: which remedies keep gradients alive in a deep network?\n\n");
  fprintf(f, "Command: `%s`\n\n", m->command);
  fprintf(f,
          "regrad %s, ISA %s, %d thread%s (%d run%s at once, %d thread%s each); wall time "
          "%s.\n\n",
          m->version, m->isa, m->threads, m->threads == 1 ? "" : "s", m->concurrent,
          m->concurrent == 1 ? "" : "s", m->threads_per_run, m->threads_per_run == 1 ? "" : "s",
          wall);
  fprintf(f, "## Setup\n\n");
  fprintf(f,
          "- Data: `%s`: %lld training rows (%lld more held out for validation), %lld test "
          "rows, %d features, %d classes; pixels standardized with the training part's mean "
          "and standard deviation.\n",
          m->data_dir, (long long)m->train_rows, (long long)m->val_rows, (long long)m->test_rows,
          m->features, m->classes);
  fprintf(f, "- Network: MLP %d-", m->features);
  fprintf(f,
          "%dx%d-%d (%d hidden layers of width %d, %d linear layers), except regimes that set "
          "their own depth (the papers' 30-layer nets, the depth sweep): their configuration "
          "names their hidden layers.\n",
          s->width, s->depth, m->classes, s->depth, s->width, s->depth + 1);
  fprintf(f,
          "- Every regime: the same data, batch (%lld), %lld optimizer steps and evaluation "
          "(test and validation accuracy on all their rows, training accuracy on up to 10000 "
          "training rows), trained once per seed: %d seed%s, %llu to %llu. The seed drives the "
          "init, dropout, the validation split and the shuffling.\n",
          (long long)s->batch, (long long)s->steps, m->seeds, m->seeds == 1 ? "" : "s",
          (unsigned long long)s->seed, (unsigned long long)(s->seed + (uint64_t)m->seeds - 1));
  if (m->seeds > 1)
    fprintf(f,
            "- Intervals: mean ± the half-width of a 95%% Student-t interval over the seeds (n - "
            "1 = %d degrees of freedom). Gradient-norm ratios span decades: their geometric mean "
            "and its 95%% interval in log10 space, [low, high].\n",
            m->seeds - 1);
  else
    fprintf(f,
            "- One seed: no intervals, so no difference between regimes is a finding; rerun "
            "with `--seeds 3` or more.\n");
  fprintf(f,
          "- Base: ReLU, Kaiming normal init, SGD momentum %g, lr %g, no schedule, no "
          "clipping. A regime changes only what its configuration names.\n",
          (double)STUDY_MOMENTUM, (double)STUDY_BASE_LR);
  fprintf(f,
          "- Gradient norms are |dL/dW| of each linear layer's weight before clipping, at "
          "step 0 and every %d steps; layer 1 is the input side, the last layer (%d at the "
          "setup's depth) the classifier. The signature is the first layer's norm over the "
          "last layer's.\n\n",
          s->sample_every, s->depth + 1);
}

/* "ranks 3-9", or "rank 3" */
static void rank_span(FILE *f, int from, int to) {
  if (from == to)
    fprintf(f, "rank %d", from);
  else
    fprintf(f, "ranks %d-%d", from, to);
}

/* Which ranks the intervals cannot separate. */
static void groups(FILE *f, const study_agg *aggs, int n, const int *order) {
  for (int k = 0; k < n;) {
    const study_agg *a = &aggs[order[k]];
    int end = k;
    while (end + 1 < n && aggs[order[end + 1]].group == a->group) end++;
    fprintf(f, "- ");
    rank_span(f, k + 1, end + 1);
    if (a->group == 0)
      fprintf(f, ": a seed diverged or failed; ranked last whatever the accuracy.\n");
    else if (end > k)
      fprintf(f,
              ": not separable (validation intervals overlap that of rank %d); their order "
              "is not a finding.\n",
              k + 1);
    else
      fprintf(f, ": separate from the ranks around it.\n");
    k = end + 1;
  }
}

static void ranking(FILE *f, const study_agg *aggs, int n, const int *order) {
  fprintf(f,
          "## Ranking\n\nBy mean validation accuracy over the seeds (the test set is never used "
          "to choose; its accuracy is shown beside). Regimes where a seed diverged or failed "
          "come last. Group: ranks whose validation intervals overlap the first of their group "
          "cannot be told apart.\n\n");
  fprintf(f, "| # | group | regime | role | val | test | train | loss (last 10%%) | first/last "
             "at step 0 | first/last at end | diverged | sparsity |\n");
  fprintf(f, "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int k = 0; k < n; k++) {
    const study_agg *a = &aggs[order[k]];
    char val[64], test[64], train[64], loss[96], s0[96], s1[96], group[16];
    snprintf(group, sizeof group, a->group ? "%d" : "—", a->group);
    if (a->tail_loss.n == 0)
      snprintf(loss, sizeof loss, "—");
    else
      study_short_ci(loss, &a->tail_loss);
    fprintf(f, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d of %d | %.1f%% |\n", k + 1,
            group, a->regime->name, study_role_name(a->regime->role),
            study_pct_ci(val, &a->val), study_pct_ci(test, &a->test),
            study_pct_ci(train, &a->train), loss, study_short_ci(s0, &a->sig0),
            study_short_ci(s1, &a->sig_end), a->diverged + a->failed, a->seeds,
            study_pct(a->sparsity.mean));
  }
  fprintf(f, "\n");
  groups(f, aggs, n, order);
  fprintf(f, "\n");
}

static void figures(FILE *f, const study_meta *m) {
  fprintf(f, "## Figures\n\n");
  if (m->figures_note) {
    fprintf(f, "No figures: %s. The CSV files hold every number they would show.\n\n",
            m->figures_note);
    return;
  }
  for (int i = 0; i < study_figure_count(); i++) {
    const study_figure *fig = study_figure_at(i);
    fprintf(f, "![%s](%s.png)\n\n*%s* (also [%s.svg](%s.svg))\n\n", fig->title, fig->name,
            fig->caption, fig->name, fig->name);
  }
}

/* The top group, then each failing baseline in grid order. */
static void summary(FILE *f, const study_agg *aggs, int n, const int *order, int classes) {
  fprintf(f, "## Summary\n\n");
  const study_agg *best = &aggs[order[0]];
  char ci[64], ci2[64];
  if (best->group > 0) {
    int top = 0;
    while (top < n && aggs[order[top]].group == best->group) top++;
    if (top == 1)
      fprintf(f, "- Best by validation: **%s** with %s (test %s).\n", best->regime->name,
              study_pct_ci(ci, &best->val), study_pct_ci(ci2, &best->test));
    else {
      fprintf(f, "- Best by validation, not separable from each other:");
      for (int k = 0; k < top; k++)
        fprintf(f, "%s **%s** (%s)", k ? "," : "", aggs[order[k]].regime->name,
                study_pct_ci(ci, &aggs[order[k]].val));
      fprintf(f, ".\n");
    }
  }
  for (int k = 0; k < n; k++) {
    const study_agg *a = &aggs[k];
    if (a->regime->role != ROLE_VANISHING && a->regime->role != ROLE_EXPLODING) continue;
    char s0[96], first[96], last[96];
    fprintf(f,
            "- %s (%s): at step 0 the first layer's gradient norm is %s, the last's %s "
            "(ratio %s); ",
            a->regime->name, study_role_name(a->regime->role), study_short_ci(first, &a->first0),
            study_short_ci(last, &a->last0), study_short_ci(s0, &a->sig0));
    if (a->diverged)
      fprintf(f, "diverged in %d of %d seeds.\n", a->diverged, a->seeds);
    else
      fprintf(f, "%s test accuracy%s.\n", study_pct_ci(ci, &a->test),
              a->test.mean < 1.0 / classes + 0.03 ? " (chance)" : "");
  }
  fprintf(f, "\n");
}

static void findings(FILE *f, const study_meta *m, const study_agg *aggs, int n) {
  fprintf(f,
          "## Findings\n\nOne paragraph per regime, in the order of the grid; every number "
          "is measured in this study, over its %d seed%s. A comparison with a reference is "
          "a finding only where the interval of the difference excludes 0.\n\n",
          m->seeds, m->seeds == 1 ? "" : "s");
  for (int i = 0; i < n; i++) {
    study_finding(&aggs[i], aggs, n, m->classes, f);
    fprintf(f, "\n\n");
  }
}

/* One regime's measurements as a claim's row shows them. */
static void claim_measurement(FILE *f, const char *name, const study_agg *aggs, int n) {
  const study_agg *a = study_find_agg(aggs, n, name);
  if (!a) {
    fprintf(f, "%s: not run", name);
    return;
  }
  char q[96], v[64];
  if (a->sig0.n == 0 && a->first0.n == 0 && a->last0.n > 0)
    snprintf(q, sizeof q, "first layer 0 (or not finite) in every seed");
  else
    study_short_ci(q, &a->sig0);
  fprintf(f, "%s: step-0 first/last %s; validation %s; diverged %d of %d", name, q,
          study_pct_ci(v, &a->val), a->diverged + a->failed, a->seeds);
}

static void literature(FILE *f, const study_agg *aggs, int n, int classes) {
  fprintf(f,
          "## Compared with the literature\n\nOne row per published claim: the regimes that "
          "test it (at this study's width and step budget, not the paper's), what they measured here "
          "(step-0 first/last gradient ratio: geometric mean [95%% interval]; validation "
          "accuracy: mean ± 95%% half-width), and a verdict computed by the rule listed "
          "under the table. \"not run\": a regime is not in `--grid`; \"not measured\": a "
          "seed failed or there is one seed (no interval).\n\n");
  fprintf(f, "| # | paper | claim | regimes: regrad's measurement | verdict |\n"
             "|---|---|---|---|---|\n");
  for (int i = 0; i < study_claim_count(); i++) {
    const study_claim *c = study_claim_at(i);
    fprintf(f, "| %d | %s | %s | ", i + 1, c->paper, c->claim);
    for (int k = 0; k < STUDY_CLAIM_REGIMES && c->regimes[k]; k++) {
      if (k) fprintf(f, "<br>");
      claim_measurement(f, c->regimes[k], aggs, n);
    }
    fprintf(f, " | %s |\n", study_verdict_name(study_claim_verdict(c, aggs, n, classes)));
  }
  fprintf(f, "\nRules:\n\n");
  for (int i = 0; i < study_claim_count(); i++)
    fprintf(f, "%d. %s.\n", i + 1, study_claim_at(i)->rule);
  fprintf(f, "\n");
}

static void configurations(FILE *f, const study_agg *aggs, int n) {
  fprintf(f, "## Configurations\n\n");
  fprintf(f, "| regime | family | role | applied to | configuration |\n|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    char text[512];
    const study_regime *g = aggs[i].regime;
    study_config_describe(&aggs[i].runs[0].config, text, sizeof text);
    const char *on = !g->reference                          ? "—"
                     : strcmp(g->reference, "kaiming") == 0 ? "the Kaiming base"
                                                            : g->reference;
    fprintf(f, "| %s | %s | %s | %s | %s |\n", g->name, g->family, study_role_name(g->role), on,
            text);
  }
  fprintf(f,
          "\n\"applied to\": the failing baseline a remedy tries to rescue, or the sensible "
          "base it is added to.\n\n");
}

static void files(FILE *f) {
  fprintf(f,
          "## Files\n\n"
          "- `summary.csv`: one row per regime in rank order: group, seeds, diverged seeds, "
          "and mean, ci_low, ci_high of every metric (geometric for the gradient ratios and "
          "norms).\n"
          "- `runs.csv`: one row per regime and seed (accuracies, loss, divergence, gradient "
          "signature, sparsity).\n"
          "- `grad_norms.csv`: regime, seed, step, layer, |dL/dW| of every sampled step.\n"
          "- `layers.csv`: per layer at every sampled step: activation mean, std and "
          "saturation, |dL/dh|, |dL/dW| (Frobenius and per-element RMS), update ratio.\n"
          "- `loss.csv`: regime, seed, step, loss, learning rate, global gradient norm, "
          "finite.\n"
          "- `config.csv`: the configuration of every regime (the same for every seed).\n"
          "- `timing.csv`: wall-clock seconds per run (the only file that changes between "
          "identical runs).\n"
          "- `figures.gp`: the gnuplot script that drew the figures, data included.\n");
}

bool study_write_report(const char *dir, const study_meta *meta, const study_agg *aggs, int n,
                        const int *order, char *err, size_t err_size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/report.md", dir);
  atomic_file a;
  FILE *f = atomic_open(&a, path, err, err_size);
  if (!f) return false;
  header(f, meta);
  summary(f, aggs, n, order, meta->classes);
  ranking(f, aggs, n, order);
  figures(f, meta);
  findings(f, meta, aggs, n);
  literature(f, aggs, n, meta->classes);
  configurations(f, aggs, n);
  files(f);
  return atomic_commit(&a, true, err, err_size);
}
