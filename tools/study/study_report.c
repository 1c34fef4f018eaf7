/* report.md of `regrad study` (study_report.h). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "study_plot.h"
#include "study_report.h"

#include "atomic_file.h"

static void header(FILE *f, const study_meta *m) {
  const study_setup *s = m->setup;
  char wall[32];
  progress_format_duration(m->wall_seconds, wall, sizeof wall);
  fprintf(f, "# regrad study: which remedies keep gradients alive in a deep network?\n\n");
  fprintf(f, "Command: `%s`\n\n", m->command);
  fprintf(f, "regrad %s, ISA %s, %d thread%s; wall time %s.\n\n", m->version, m->isa, m->threads,
          m->threads == 1 ? "" : "s", wall);
  fprintf(f, "## Setup\n\n");
  fprintf(f,
          "- Data: `%s`: %lld training rows (%lld more held out for validation), %lld test "
          "rows, %d features, %d classes; pixels standardized with the training part's mean "
          "and standard deviation.\n",
          m->data_dir, (long long)m->train_rows, (long long)m->val_rows, (long long)m->test_rows,
          m->features, m->classes);
  fprintf(f, "- Network: MLP %d-", m->features);
  fprintf(f, "%dx%d-%d (%d hidden layers of width %d, %d linear layers).\n", s->width, s->depth,
          m->classes, s->depth, s->width, s->depth + 1);
  fprintf(f,
          "- Every regime: the same data, split, seed (%llu), batch (%lld), %lld optimizer "
          "steps and evaluation (test and validation accuracy on all their rows, training "
          "accuracy on up to 10000 training rows).\n",
          (unsigned long long)s->seed, (long long)s->batch, (long long)s->steps);
  fprintf(f,
          "- Base: ReLU, Kaiming normal init, SGD momentum %g, lr %g, no schedule, no "
          "clipping. A regime changes only what its configuration names.\n",
          (double)STUDY_MOMENTUM, (double)STUDY_BASE_LR);
  fprintf(f,
          "- Gradient norms are |dL/dW| of each linear layer's weight before clipping, at "
          "step 0 and every %d steps; layer 1 is the input side, layer %d the classifier. The "
          "signature is the first layer's norm over the last layer's.\n\n",
          s->sample_every, s->depth + 1);
}

static void ranking(FILE *f, const study_run *runs, int n, const int *order) {
  fprintf(f, "## Ranking\n\nBy test accuracy; runs that diverged come last.\n\n");
  fprintf(f,
          "| # | regime | role | test | val | train | loss (last 10%%) | first/last at step 0 "
          "| first/last at end | diverged at | sparsity | time |\n");
  fprintf(f, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int k = 0; k < n; k++) {
    const study_run *r = &runs[order[k]];
    char loss[32], s0[32], s1[32];
    study_short_number(s0, study_run_signature(r, 0));
    study_short_number(s1, study_run_signature(r, r->samples - 1));
    bool diverged = study_run_diverged(r);
    if (diverged)
      snprintf(loss, sizeof loss, "—");
    else
      study_short_number(loss, study_run_tail_loss(r, r->steps / 10 + 1));
    fprintf(f, "| %d | %s | %s | %.1f%% | %.1f%% | %.1f%% | %s | %s | %s | ", k + 1,
            r->regime->name, study_role_name(r->regime->role), study_pct(r->result.test_acc),
            study_pct(r->result.val_acc), study_pct(r->result.train_acc), loss, s0, s1);
    if (diverged)
      fprintf(f, "step %lld", (long long)r->result.diverged_step);
    else
      fprintf(f, "—");
    fprintf(f, " | %.1f%% | %.1f s |\n", study_pct(r->result.sparsity), r->result.seconds);
  }
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

/* The best run, then each failing baseline in grid order. */
static void summary(FILE *f, const study_run *runs, int n, const int *order, int classes) {
  fprintf(f, "## Summary\n\n");
  const study_run *best = &runs[order[0]];
  if (!study_run_diverged(best) && best->result.status == RG_OK)
    fprintf(f, "- Best: **%s** with %.1f%% test accuracy.\n", best->regime->name,
            study_pct(best->result.test_acc));
  for (int k = 0; k < n; k++) {
    const study_run *r = &runs[k];
    if (r->regime->role != ROLE_VANISHING && r->regime->role != ROLE_EXPLODING) continue;
    char s0[32], first[32], last[32];
    const float *p0 = r->samples ? study_run_sample(r, 0) : NULL;
    study_short_number(s0, study_run_signature(r, 0));
    study_short_number(first, p0 ? p0[0] : NAN);
    study_short_number(last, p0 ? p0[r->layers - 1] : NAN);
    fprintf(f,
            "- %s (%s): at step 0 the first layer's gradient norm is %s, the last's %s "
            "(ratio %s); ",
            r->regime->name, study_role_name(r->regime->role), first, last, s0);
    if (study_run_diverged(r))
      fprintf(f, "diverged at step %lld.\n", (long long)r->result.diverged_step);
    else
      fprintf(f, "%.1f%% test accuracy%s.\n", study_pct(r->result.test_acc),
              r->result.test_acc < 1.0 / classes + 0.03 ? " (chance)" : "");
  }
  fprintf(f, "\n");
}

static void findings(FILE *f, const study_meta *m, const study_run *runs, int n) {
  fprintf(f,
          "## Findings\n\nOne paragraph per regime, in the order of the grid; every number "
          "is measured in this run.\n\n");
  for (int i = 0; i < n; i++) {
    study_finding(&runs[i], runs, n, m->classes, f);
    fprintf(f, "\n\n");
  }
}

static void configurations(FILE *f, const study_run *runs, int n) {
  fprintf(f, "## Configurations\n\n");
  fprintf(f, "| regime | family | role | applied to | configuration |\n|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    char text[512];
    const study_regime *g = runs[i].regime;
    study_config_describe(&runs[i].config, text, sizeof text);
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
          "- `summary.csv`: one row per regime in rank order (accuracies, loss, divergence, "
          "gradient signature, sparsity).\n"
          "- `grad_norms.csv`: regime, step, layer, |dL/dW| of every sampled step.\n"
          "- `loss.csv`: regime, step, loss, learning rate, global gradient norm, finite.\n"
          "- `config.csv`: the configuration of every regime.\n"
          "- `timing.csv`: wall-clock seconds per regime (the only file that changes between "
          "identical runs).\n"
          "- `figures.gp`: the gnuplot script that drew the figures, data included.\n");
}

bool study_write_report(const char *dir, const study_meta *meta, const study_run *runs, int n,
                        const int *order, char *err, size_t err_size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/report.md", dir);
  atomic_file a;
  FILE *f = atomic_open(&a, path, err, err_size);
  if (!f) return false;
  header(f, meta);
  summary(f, runs, n, order, meta->classes);
  ranking(f, runs, n, order);
  figures(f, meta);
  findings(f, meta, runs, n);
  configurations(f, runs, n);
  files(f);
  return atomic_commit(&a, true, err, err_size);
}
