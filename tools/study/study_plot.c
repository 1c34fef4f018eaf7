/* Figures of `regrad study` through gnuplot (study_plot.h). */
#include "study_plot.h"

#include "atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { FIG_PROFILE, FIG_GRAD_STEPS, FIG_LOSS, FIG_ACCURACY, FIG_LAYER_MAP, FIG_COUNT };

/* Canvas sizes in pixels: single plots, and the panel figures. */
static const int figure_size[FIG_COUNT][2] = {
    {1400, 800}, {1600, 1000}, {1600, 1000}, {1400, 800}, {1800, 1200}};

static const study_figure figure_list[FIG_COUNT] = {
    {"grad_profile_step0", "Per-layer gradient norm at step 0",
     "|dL/dW| of every linear layer before the first update, log scale, one line per "
     "initialization or normalization regime (the remedies added to the Kaiming base share its "
     "profile): the geometric mean over the seeds, the band from the smallest to the largest "
     "seed. Dashed: vanishing baselines; dash-dotted: exploding baselines; solid: the rest."},
    {"grad_norm_steps", "First-layer gradient norm during training",
     "|dL/dW| of the first layer at every sampled step, log scale, one panel per family: the "
     "geometric mean over the seeds, the band from the smallest to the largest seed. A gap "
     "is a norm of exactly 0 in every seed (dead units, or every element of the gradient below "
     "what a float holds); a line that stops early belongs to runs that diverged."},
    {"loss", "Training loss",
     "Cross-entropy (plus penalty) averaged over each sampling window, log scale, one panel per "
     "family: the mean over the seeds, the band from the smallest to the largest seed."},
    {"accuracy", "Accuracy by regime",
     "Validation, test and training accuracy in rank order (by validation): the mean over the "
     "seeds with its 95% interval as an error bar; the dashed line is chance. Regimes with a "
     "seed that diverged are marked."},
    {"layer_heatmap", "Back-propagated gradient per layer over training",
     "log10 of |dL/dh|, the gradient reaching each layer's output (layers.csv, dLdh_norm), "
     "layer (1 = input side, top = classifier's logits) against step, one panel per "
     "initialization or normalization regime: the geometric mean over the seeds, every "
     "sample_every steps. One color scale (viridis) for all panels: dark is a vanished "
     "gradient, yellow a large one; a gradient that fades towards layer 1 is Glorot and "
     "Bengio's vanishing mechanism, and a column that changes over the steps shows training "
     "moving it. White: no finite value (a diverged run, or a norm of 0)."},
};

int study_figure_count(void) { return FIG_COUNT; }
const study_figure *study_figure_at(int i) {
  return i >= 0 && i < FIG_COUNT ? &figure_list[i] : NULL;
}

/* Panels of the figures over training: families grouped. */
static const struct {
  const char *title;
  const char *families[3];
} panels[] = {
    {"failing baselines, init, normalization", {"baseline", "init", "normalization"}},
    {"regularization", {"regularization"}},
    {"clipping", {"clipping"}},
    {"schedules, combined and its ablation", {"schedule", "combined", "ablation"}},
    {"settings from the papers, and the depth sweep", {"papers", "depth"}},
};
#define N_PANELS ((int)(sizeof panels / sizeof panels[0]))

static bool in_panel(const study_agg *r, int p) {
  for (int i = 0; i < 3 && panels[p].families[i]; i++)
    if (strcmp(r->regime->family, panels[p].families[i]) == 0) return true;
  return false;
}

static bool in_profile(const study_agg *r) {
  return in_panel(r, 0) || !strcmp(r->regime->family, "combined");
}

/* Okabe-Ito: told apart with every common color-vision deficiency. Past
 * eight regimes the colors repeat with other point types. */
static const char *colors[] = {"#E69F00", "#56B4E9", "#009E73", "#0072B2",
                               "#D55E00", "#CC79A7", "#000000", "#F0E442"};
#define N_COLORS ((int)(sizeof colors / sizeof colors[0]))

/* Line style i + 1 for run i: a color, and a dash type by role. */
static void line_styles(FILE *g, const study_agg *runs, int n) {
  for (int i = 0; i < n; i++) {
    study_role role = runs[i].regime->role;
    int dt = role == ROLE_VANISHING ? 2 : role == ROLE_EXPLODING ? 4 : 1;
    fprintf(g, "set style line %d lc rgb '%s' lw 2.5 dt %d pt %d ps 0.8\n", i + 1,
            colors[i % N_COLORS], dt, 1 + (i / N_COLORS) % 6);
  }
}

static void number(FILE *g, double v) {
  if (isfinite(v) && v > 0.0)
    fprintf(g, " %.9g", v);
  else
    fprintf(g, " NaN");
}

/* "x center low high": the center over the seeds' values v[0..k) (the
 * geometric mean for norms, else the mean) and the band from the smallest
 * to the largest; values that cannot be drawn (non-finite, and not
 * positive on a log scale) are left out. */
static void band_row(FILE *g, double x, const double *v, int k, bool geometric) {
  double sum = 0.0, lo = INFINITY, hi = -INFINITY;
  int used = 0;
  for (int i = 0; i < k; i++) {
    if (!isfinite(v[i]) || !(v[i] > 0.0)) continue;
    sum += geometric ? log(v[i]) : v[i];
    lo = fmin(lo, v[i]);
    hi = fmax(hi, v[i]);
    used++;
  }
  double center = used ? sum / used : NAN;
  fprintf(g, "%.9g", x);
  number(g, geometric ? exp(center) : center);
  number(g, used ? lo : NAN);
  number(g, used ? hi : NAN);
  fprintf(g, "\n");
}

/* The mean loss of the finite steps of window [t0, t0 + every). */
static double window_loss(const study_run *r, int64_t t0) {
  double sum = 0.0;
  int64_t k = 0;
  for (int64_t t = t0; t < r->steps && t < t0 + r->sample_every; t++)
    if (r->finite[t]) sum += r->loss[t], k++;
  return k ? sum / (double)k : NAN;
}

/* $P<i>: step-0 profile; $S<i>: first layer over the sampled steps; $L<i>:
 * windowed loss, each over the seeds of regime i. */
static void regime_blocks(FILE *g, const study_agg *a, int i, double *v) {
  const study_run *r0 = &a->runs[0];
  int seeds = a->seeds;
  fprintf(g, "$P%d << EOD\n", i);
  for (int l = 0; l < r0->layers; l++) {
    for (int k = 0; k < seeds; k++) {
      const float *row = study_run_sample_at(&a->runs[k], 0);
      v[k] = row ? row[l] : NAN;
    }
    band_row(g, l + 1, v, seeds, true);
  }
  fprintf(g, "EOD\n$S%d << EOD\n", i);
  for (int64_t t = 0; t < r0->capacity; t++) {
    bool any = false;
    for (int k = 0; k < seeds; k++) {
      const float *row = study_run_sample_at(&a->runs[k], t);
      v[k] = row ? row[0] : NAN;
      any |= row != NULL;
    }
    if (any) band_row(g, (double)t, v, seeds, true);
  }
  fprintf(g, "EOD\n$L%d << EOD\n", i);
  for (int64_t t0 = 0; t0 < r0->capacity; t0 += r0->sample_every) {
    for (int k = 0; k < seeds; k++)
      v[k] = t0 < a->runs[k].steps ? window_loss(&a->runs[k], t0) : NAN;
    band_row(g, (double)t0, v, seeds, false);
  }
  fprintf(g, "EOD\n");
}

/* The geometric mean over the seeds of |dL/dh| of layer l at step t (NaN
 * when no seed has a finite positive value there). */
static double dldh_gmean(const study_agg *a, int64_t t, int l) {
  double sum = 0.0;
  int used = 0;
  for (int k = 0; k < a->seeds; k++) {
    const study_run *r = &a->runs[k];
    for (int s = 0; s < r->samples; s++) {
      if (r->sample_step[s] != t) continue;
      double v = study_run_layer_stats(r, s)[l].dldh_norm;
      if (isfinite(v) && v > 0.0) sum += log(v), used++;
    }
  }
  return used ? exp(sum / used) : NAN;
}

/* $H<i>: "step layer log10|dL/dh|" of regime i on the regular samples
 * (every sample_every steps: a uniform grid for `with image`); the range of
 * the values into *lo, *hi. */
static void heat_block(FILE *g, const study_agg *a, int i, double *lo, double *hi) {
  const study_run *r0 = &a->runs[0];
  fprintf(g, "$H%d << EOD\n", i);
  for (int64_t t = 0; t < r0->capacity; t += r0->sample_every) {
    for (int l = 0; l < r0->layers; l++) {
      double v = log10(dldh_gmean(a, t, l));
      fprintf(g, "%lld %d", (long long)t, l + 1);
      if (isfinite(v)) {
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
        fprintf(g, " %.6g\n", v);
      } else {
        fprintf(g, " NaN\n");
      }
    }
    fprintf(g, "\n");
  }
  fprintf(g, "EOD\n");
}

/* A mean and its interval in percent; the mean for both bounds when there is
 * no interval. */
static void acc_fields(FILE *g, const study_ci *c) {
  double m = isfinite(c->mean) ? 100.0 * c->mean : 0.0;
  bool ci = isfinite(c->lo) && isfinite(c->hi);
  fprintf(g, " %.4f %.4f %.4f", m, ci ? 100.0 * c->lo : m, ci ? 100.0 * c->hi : m);
}

static bool data_blocks(FILE *g, const study_agg *aggs, int n, const int *order) {
  int seeds = 1;
  for (int i = 0; i < n; i++) seeds = aggs[i].seeds > seeds ? aggs[i].seeds : seeds;
  double *v = calloc((size_t)seeds, sizeof *v);
  if (!v) return false;
  for (int i = 0; i < n; i++) regime_blocks(g, &aggs[i], i, v);
  free(v);
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; i++)
    if (in_profile(&aggs[i])) heat_block(g, &aggs[i], i, &lo, &hi);
  if (!(lo <= hi)) lo = -1.0, hi = 0.0;
  fprintf(g, "HEAT_LO = %.6g\nHEAT_HI = %.6g\n", floor(lo), ceil(hi) > floor(lo) ? ceil(hi) : floor(lo) + 1);
  fprintf(g, "$ACC << EOD\n");
  for (int k = 0; k < n; k++) {
    const study_agg *a = &aggs[order[k]];
    fprintf(g, "\"%s%s\"", a->regime->name, a->diverged ? " (diverged)" : "");
    acc_fields(g, &a->val);
    acc_fields(g, &a->test);
    acc_fields(g, &a->train);
    fprintf(g, "\n");
  }
  fprintf(g, "EOD\n");
  return true;
}

/* "plot" with one band and one curve per selected regime from data blocks
 * $<prefix><i> (x, center, low, high). */
static void plot_curves(FILE *g, const study_agg *runs, int n, char prefix, int panel) {
  const char *sep = "plot";
  for (int i = 0; i < n; i++) {
    bool take = panel < 0 ? in_profile(&runs[i]) : in_panel(&runs[i], panel);
    if (!take) continue;
    fprintf(g,
            "%s $%c%d using 1:3:4 with filledcurves fc rgb '%s' fs transparent solid 0.15 "
            "noborder notitle, \\\n    $%c%d using 1:2 with linespoints ls %d pi %d title '%s' "
            "noenhanced",
            sep, prefix, i, colors[i % N_COLORS], prefix, i, i + 1, prefix == 'P' ? 1 : 15,
            runs[i].regime->name);
    sep = ", \\\n    ";
  }
  fprintf(g, "\n");
}

static void profile(FILE *g, const study_agg *runs, int n) {
  int layers = 1; /* regimes may set their own depth: the deepest sets the axis */
  for (int i = 0; i < n; i++)
    if (in_profile(&runs[i]) && runs[i].runs[0].layers > layers) layers = runs[i].runs[0].layers;
  fprintf(g, "set title 'Per-layer gradient norm at step 0 (up to %d hidden layers; log scale)'\n",
          layers - 1);
  fprintf(g,
          "set xlabel 'layer (1 = input side, %d = classifier)'\n"
          "set ylabel '|dL/dW| at step 0'\nset logscale y\nset format y '10^{%%T}'\n"
          "set xrange [0.5:%d.5]\nset xtics 1\nset mytics 1\nset grid ytics xtics\n"
          "set key outside right top spacing 1.2\n",
          layers, layers);
  plot_curves(g, runs, n, 'P', -1);
}

static void panel_layout(FILE *g, const study_agg *runs, int n, const char *title, int *used) {
  int count = 0;
  for (int p = 0; p < N_PANELS; p++)
    for (int i = 0; i < n; i++)
      if (in_panel(&runs[i], p)) {
        used[count++] = p;
        break;
      }
  int cols = count > 1 ? 2 : 1, rows = (count + cols - 1) / cols;
  fprintf(g, "set multiplot layout %d,%d title '%s'\n", rows > 0 ? rows : 1, cols, title);
  used[count] = -1;
}

static void over_steps(FILE *g, const study_agg *runs, int n, char prefix, const char *title,
                       const char *ylabel) {
  int used[N_PANELS + 1];
  panel_layout(g, runs, n, title, used);
  int64_t steps = 1;
  for (int i = 0; i < n; i++)
    steps = runs[i].runs[0].capacity > steps ? runs[i].runs[0].capacity : steps;
  /* a little room left of step 0, so that a run that diverged at once shows its point */
  fprintf(g,
          "set logscale y\nset format y '10^{%%T}'\nset xlabel 'step'\nset ylabel '%s'\n"
          "set grid\nset key outside right top\nset xrange [%g:%lld]\n",
          ylabel, -0.02 * (double)steps, (long long)steps);
  for (int k = 0; used[k] >= 0; k++) {
    fprintf(g, "set title '%s'\n", panels[used[k]].title);
    plot_curves(g, runs, n, prefix, used[k]);
  }
  fprintf(g, "unset multiplot\n");
}

static void accuracy(FILE *g, int classes) {
  fprintf(
      g,
      "unset logscale y\nset format y '%%g%%%%'\nset yrange [0:100]\nset title "
      "'Accuracy by regime (rank order)'\nset xlabel ''\nset ylabel 'accuracy'\n"
      "set style data histograms\nset style histogram errorbars gap 1 lw 1.5\n"
      "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
      "set xtics rotate by 40 right nomirror noenhanced\nset bmargin 9\nset grid noxtics ytics\n"
      "set key inside top right\n"
      "set arrow 1 from graph 0, first %g to graph 1, first %g nohead dt 2 lw 1.5 "
      "lc rgb '#555555'\n",
      100.0 / classes, 100.0 / classes);
  fprintf(g,
          "plot $ACC using 2:3:4:xtic(1) title 'validation (ranks)' lc rgb '#0072B2', '' using "
          "5:6:7 title 'test' lc rgb '#E69F00', '' using 8:9:10 title 'train' lc rgb "
          "'#56B4E9'\n");
}

/* One heat map panel per regime of the profile (layer x step, colour the
 * log10 of |dL/dh|), on one colour scale. viridis: sequential, readable
 * with every common colour-vision deficiency and in grey. */
static void layer_map(FILE *g, const study_agg *runs, int n) {
  int count = 0, layers = n ? runs[0].runs[0].layers : 1;
  int64_t steps = 1;
  for (int i = 0; i < n; i++)
    if (in_profile(&runs[i])) {
      count++;
      steps = runs[i].runs[0].capacity > steps ? runs[i].runs[0].capacity : steps;
    }
  int cols = count > 2 ? 3 : count > 0 ? count : 1, rows = (count + cols - 1) / cols;
  fprintf(g,
          "set palette defined (0 '#440154', 1 '#482878', 2 '#3E4A89', 3 '#31688E', "
          "4 '#26828E', 5 '#1F9E89', 6 '#35B779', 7 '#6DCD59', 8 '#B4DE2C', 9 '#FDE725')\n"
          "set cbrange [HEAT_LO:HEAT_HI]\nset cblabel 'log_{10} |dL/dh|'\n"
          "set xlabel 'step'\nset ylabel 'layer (1 = input side)'\n"
          "set xrange [0:%lld]\nset yrange [0.5:%d.5]\nset ytics 1,%d\nunset key\n"
          "set multiplot layout %d,%d title 'Back-propagated gradient |dL/dh| per layer "
          "(log_{10}, geometric mean over seeds)'\n",
          (long long)steps, layers, layers > 10 ? 5 : 1, rows > 0 ? rows : 1, cols);
  for (int i = 0; i < n; i++) {
    if (!in_profile(&runs[i])) continue;
    fprintf(g, "set title '%s' noenhanced\nplot $H%d using 1:2:3 with image\n",
            runs[i].regime->name, i);
  }
  fprintf(g, "unset multiplot\n");
}

/* Every figure, for the terminal in TERM; ext is "png" or "svg". */
static void draw_all(FILE *g, const study_agg *runs, int n, int classes, const char *ext) {
  for (int f = 0; f < FIG_COUNT; f++) {
    fprintf(g, "reset\neval(TERM.' size %d,%d')\n", figure_size[f][0], figure_size[f][1]);
    line_styles(g, runs, n);
    fprintf(g, "set output '%s.%s'\n", figure_list[f].name, ext);
    switch (f) {
      case FIG_PROFILE:
        profile(g, runs, n);
        break;
      case FIG_GRAD_STEPS:
        over_steps(g, runs, n, 'S', "First-layer gradient norm during training", "|dL/dW_1|");
        break;
      case FIG_LOSS:
        over_steps(g, runs, n, 'L', "Training loss", "loss (window mean)");
        break;
      case FIG_LAYER_MAP:
        layer_map(g, runs, n);
        break;
      default:
        accuracy(g, classes > 0 ? classes : 10);
        break;
    }
    fprintf(g, "set output\n");
  }
}

static bool write_script(FILE *g, const study_agg *runs, int n, const int *order, int classes) {
  fprintf(g, "# Figures of `regrad study`; run with: gnuplot figures.gp (in this directory)\n");
  if (!data_blocks(g, runs, n, order)) return false;
  fprintf(g,
          "if (strstrt(GPVAL_TERMINALS, ' pngcairo ') > 0) {\n"
          "  TERM = \"set terminal pngcairo enhanced font 'DejaVu Sans,12'\"\n"
          "} else {\n  TERM = \"set terminal png enhanced\"\n}\n");
  draw_all(g, runs, n, classes, "png");
  fprintf(g, "TERM = \"set terminal svg enhanced font 'DejaVu Sans,12' dynamic\"\n");
  draw_all(g, runs, n, classes, "svg");
  return true;
}

/* The gnuplot program: REGRAD_GNUPLOT, or "gnuplot" if it is on PATH. */
static bool find_gnuplot(char *prog, size_t size, char *note, size_t note_size) {
  const char *env = getenv("REGRAD_GNUPLOT");
  if (env && *env) {
    snprintf(prog, size, "%s", env);
    if (access(prog, X_OK) == 0) return true;
    snprintf(note, note_size, "REGRAD_GNUPLOT=%s is not an executable program", env);
    return false;
  }
  const char *path = getenv("PATH");
  for (const char *p = path ? path : ""; *p;) {
    size_t len = strcspn(p, ":");
    snprintf(prog, size, "%.*s/gnuplot", (int)len, p);
    if (len && access(prog, X_OK) == 0) return true;
    p += len + (p[len] == ':');
  }
  snprintf(note, note_size, "gnuplot was not found on PATH (Debian: apt-get install gnuplot-nox)");
  return false;
}

/* s in single quotes for sh. */
static void sh_quote(const char *s, char *out, size_t size) {
  size_t k = 0;
  out[k++] = '\'';
  for (; *s && k + 5 < size; s++) {
    if (*s == '\'') {
      memcpy(out + k, "'\\''", 4);
      k += 4;
    } else {
      out[k++] = *s;
    }
  }
  out[k++] = '\'';
  out[k] = '\0';
}

/* Moves every figure gnuplot drew in tmp into dir (each rename atomic),
 * then removes tmp; false with a note when one is missing. */
static bool move_figures(const char *tmp, const char *dir, char *note, size_t note_size) {
  char from[4200], to[4200];
  bool ok = true;
  for (int f = 0; f < FIG_COUNT; f++)
    for (int e = 0; e < 2; e++) {
      const char *ext = e ? "svg" : "png";
      snprintf(from, sizeof from, "%s/%s.%s", tmp, figure_list[f].name, ext);
      snprintf(to, sizeof to, "%s/%s.%s", dir, figure_list[f].name, ext);
      if (ok && rename(from, to) != 0) {
        snprintf(note, note_size, "gnuplot did not write %s.%s (%s)", figure_list[f].name, ext,
                 strerror(errno));
        ok = false;
      }
      unlink(from);
    }
  rmdir(tmp);
  return ok;
}

bool study_plot(const char *dir, const study_agg *runs, int n, const int *order, int classes,
                char *note, size_t note_size) {
  char prog[4096], path[4096], tmp[4200], qtmp[8400], qprog[8192], cmd[17000];
  if (!find_gnuplot(prog, sizeof prog, note, note_size)) return false;
  snprintf(path, sizeof path, "%s/figures.gp", dir);
  atomic_file a;
  FILE *g = atomic_open(&a, path, note, note_size);
  if (!g) return false;
  if (!write_script(g, runs, n, order, classes)) {
    atomic_commit(&a, false, note, note_size);
    snprintf(note, note_size, "out of memory writing figures.gp");
    return false;
  }
  if (!atomic_commit(&a, true, note, note_size)) return false;
  /* gnuplot draws into a scratch directory beside the figures; each is then
   * renamed into place, so a figure is never seen half drawn. */
  snprintf(tmp, sizeof tmp, "%s/.figures.XXXXXX", dir);
  if (!mkdtemp(tmp)) {
    snprintf(note, note_size, "%s: cannot make a scratch directory: %s", dir, strerror(errno));
    return false;
  }
  sh_quote(tmp, qtmp, sizeof qtmp);
  sh_quote(prog, qprog, sizeof qprog);
  snprintf(cmd, sizeof cmd, "cd %s && %s ../figures.gp 2>&1", qtmp, qprog);
  FILE *p = popen(cmd, "r");
  if (!p) {
    snprintf(note, note_size, "cannot run %s: %s", prog, strerror(errno));
    rmdir(tmp);
    return false;
  }
  char line[512], first_error[512] = "";
  while (fgets(line, sizeof line, p))
    if (!first_error[0] && strstr(line, "rror"))
      snprintf(first_error, sizeof first_error, "%s", line);
  int status = pclose(p);
  if (status != 0) {
    first_error[strcspn(first_error, "\n")] = '\0';
    snprintf(note, note_size, "gnuplot failed (status %d)%s%s",
             WIFEXITED(status) ? WEXITSTATUS(status) : status, first_error[0] ? ": " : "",
             first_error);
    move_figures(tmp, dir, line, sizeof line); /* clears the scratch directory */
    return false;
  }
  return move_figures(tmp, dir, note, note_size);
}
