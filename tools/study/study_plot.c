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

enum { FIG_PROFILE, FIG_GRAD_STEPS, FIG_LOSS, FIG_ACCURACY, FIG_COUNT };

/* Canvas sizes in pixels: single plots, and the panel figures. */
static const int figure_size[FIG_COUNT][2] = {{1400, 800}, {1600, 1000}, {1600, 1000}, {1400, 800}};

static const study_figure figure_list[FIG_COUNT] = {
    {"grad_profile_step0", "Per-layer gradient norm at step 0",
     "|dL/dW| of every linear layer before the first update, log scale, one line per "
     "initialization or normalization regime (the remedies added to the Kaiming base share its "
     "profile). Dashed: vanishing baselines; dash-dotted: exploding baselines; solid: the rest."},
    {"grad_norm_steps", "First-layer gradient norm during training",
     "|dL/dW| of the first layer at every sampled step, log scale, one panel per family. A gap "
     "is a norm of exactly 0 (dead units, or every element of the gradient below what a float "
     "holds); a line that stops early belongs to a run that diverged."},
    {"loss", "Training loss",
     "Cross-entropy (plus penalty) averaged over each sampling window, log scale, one panel per "
     "family."},
    {"accuracy", "Accuracy by regime",
     "Training, validation and test accuracy in rank order; the dashed line is chance. Runs "
     "that diverged are marked."},
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
    {"schedules and combined", {"schedule", "combined"}},
};
#define N_PANELS ((int)(sizeof panels / sizeof panels[0]))

static bool in_panel(const study_run *r, int p) {
  for (int i = 0; i < 3 && panels[p].families[i]; i++)
    if (strcmp(r->regime->family, panels[p].families[i]) == 0) return true;
  return false;
}

static bool in_profile(const study_run *r) {
  return in_panel(r, 0) || !strcmp(r->regime->family, "combined");
}

static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                               "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#000000", "#aec7e8"};
#define N_COLORS ((int)(sizeof colors / sizeof colors[0]))

/* Line style i + 1 for run i: a color, and a dash type by role. */
static void line_styles(FILE *g, const study_run *runs, int n) {
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

static void data_blocks(FILE *g, const study_run *runs, int n, const int *order) {
  for (int i = 0; i < n; i++) {
    const study_run *r = &runs[i];
    fprintf(g, "$P%d << EOD\n", i);
    for (int l = 0; r->samples > 0 && l < r->layers; l++) {
      fprintf(g, "%d", l + 1);
      number(g, study_run_sample(r, 0)[l]);
      fprintf(g, "\n");
    }
    fprintf(g, "EOD\n$S%d << EOD\n", i);
    for (int s = 0; s < r->samples; s++) {
      fprintf(g, "%lld", (long long)r->sample_step[s]);
      number(g, study_run_sample(r, s)[0]);
      fprintf(g, "\n");
    }
    fprintf(g, "EOD\n$L%d << EOD\n", i);
    for (int64_t t0 = 0; t0 < r->steps; t0 += r->sample_every) {
      double sum = 0.0;
      int64_t k = 0;
      for (int64_t t = t0; t < r->steps && t < t0 + r->sample_every; t++)
        if (r->finite[t]) sum += r->loss[t], k++;
      fprintf(g, "%lld", (long long)t0);
      number(g, k ? sum / (double)k : NAN);
      fprintf(g, "\n");
    }
    fprintf(g, "EOD\n");
  }
  fprintf(g, "$ACC << EOD\n");
  for (int k = 0; k < n; k++) {
    const study_run *r = &runs[order[k]];
    bool div = r->result.diverged_step >= 0;
    fprintf(g, "\"%s%s\" %.4f %.4f %.4f\n", r->regime->name, div ? " (diverged)" : "",
            isfinite(r->result.train_acc) ? 100.0 * r->result.train_acc : 0.0,
            isfinite(r->result.val_acc) ? 100.0 * r->result.val_acc : 0.0,
            isfinite(r->result.test_acc) ? 100.0 * r->result.test_acc : 0.0);
  }
  fprintf(g, "EOD\n");
}

/* "plot" with one curve per selected run from data blocks $<prefix><i>. */
static void plot_curves(FILE *g, const study_run *runs, int n, char prefix, int panel) {
  const char *sep = "plot";
  for (int i = 0; i < n; i++) {
    bool take = panel < 0 ? in_profile(&runs[i]) : in_panel(&runs[i], panel);
    if (!take) continue;
    fprintf(g, "%s $%c%d using 1:2 with linespoints ls %d pi %d title '%s' noenhanced", sep, prefix,
            i, i + 1, prefix == 'P' ? 1 : 15, runs[i].regime->name);
    sep = ", \\\n    ";
  }
  fprintf(g, "\n");
}

static void profile(FILE *g, const study_run *runs, int n) {
  int layers = n ? runs[0].layers : 1;
  fprintf(g, "set title 'Per-layer gradient norm at step 0 (%d hidden layers; log scale)'\n",
          layers - 1);
  fprintf(g,
          "set xlabel 'layer (1 = input side, %d = classifier)'\n"
          "set ylabel '|dL/dW| at step 0'\nset logscale y\nset format y '10^{%%T}'\n"
          "set xrange [0.5:%d.5]\nset xtics 1\nset mytics 1\nset grid ytics xtics\n"
          "set key outside right top spacing 1.2\n",
          layers, layers);
  plot_curves(g, runs, n, 'P', -1);
}

static void panel_layout(FILE *g, const study_run *runs, int n, const char *title, int *used) {
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

static void over_steps(FILE *g, const study_run *runs, int n, char prefix, const char *title,
                       const char *ylabel) {
  int used[N_PANELS + 1];
  panel_layout(g, runs, n, title, used);
  int64_t steps = 1;
  for (int i = 0; i < n; i++) steps = runs[i].capacity > steps ? runs[i].capacity : steps;
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
      "set style data histograms\nset style histogram clustered gap 1\n"
      "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
      "set xtics rotate by 40 right nomirror noenhanced\nset bmargin 9\nset grid noxtics ytics\n"
      "set key inside top right\n"
      "set arrow 1 from graph 0, first %g to graph 1, first %g nohead dt 2 lw 1.5 "
      "lc rgb '#555555'\n",
      100.0 / classes, 100.0 / classes);
  fprintf(g,
          "plot $ACC using 2:xtic(1) title 'train' lc rgb '#aec7e8', '' using 3 title "
          "'validation' lc rgb '#6baed6', '' using 4 title 'test' lc rgb '#08519c'\n");
}

/* Every figure, for the terminal in TERM; ext is "png" or "svg". */
static void draw_all(FILE *g, const study_run *runs, int n, int classes, const char *ext) {
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
      default:
        accuracy(g, classes > 0 ? classes : 10);
        break;
    }
    fprintf(g, "set output\n");
  }
}

static void write_script(FILE *g, const study_run *runs, int n, const int *order, int classes) {
  fprintf(g, "# Figures of `regrad study`; run with: gnuplot figures.gp (in this directory)\n");
  data_blocks(g, runs, n, order);
  fprintf(g,
          "if (strstrt(GPVAL_TERMINALS, ' pngcairo ') > 0) {\n"
          "  TERM = \"set terminal pngcairo enhanced font 'DejaVu Sans,12'\"\n"
          "} else {\n  TERM = \"set terminal png enhanced\"\n}\n");
  draw_all(g, runs, n, classes, "png");
  fprintf(g, "TERM = \"set terminal svg enhanced font 'DejaVu Sans,12' dynamic\"\n");
  draw_all(g, runs, n, classes, "svg");
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

bool study_plot(const char *dir, const study_run *runs, int n, const int *order, int classes,
                char *note, size_t note_size) {
  char prog[4096], path[4096], tmp[4200], qtmp[8400], qprog[8192], cmd[17000];
  if (!find_gnuplot(prog, sizeof prog, note, note_size)) return false;
  snprintf(path, sizeof path, "%s/figures.gp", dir);
  atomic_file a;
  FILE *g = atomic_open(&a, path, note, note_size);
  if (!g) return false;
  write_script(g, runs, n, order, classes);
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
