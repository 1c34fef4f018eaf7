/* `regrad study`: trains a grid of regimes on the same deep MLP, data, seeds
 * and step budget, each regime once per seed, measures how each keeps its
 * gradients alive, and writes report.md, CSV files and gnuplot figures into
 * one directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "limits.h"
#include "outdir.h"
#include "study_flags.h"
#include "study_grid.h"
#include "study_agg.h"
#include "study_plot.h"
#include "study_pool.h"
#include "study_report.h"
#include "study_run.h"

static void list_regimes(const study_setup *setup) {
  int n;
  const study_regime *r = study_regimes(&n);
  for (int i = 0; i < n; i++) {
    train_config c;
    char text[512];
    study_regime_config(&r[i], setup, &c);
    study_config_describe(&c, text, sizeof text);
    printf("%-24s %-14s %-19s%s\n  %s\n  %s\n", r[i].name, r[i].family, study_role_name(r[i].role),
           r[i].quick ? " (quick)" : "", text, r[i].why);
  }
}

/* mkdir -p. */
static bool make_dirs(const char *path, char *err, size_t size) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    bool end = *p == '\0';
    if (*p == '/' || end) {
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        snprintf(err, size, "cannot create %.900s: %s", buf, strerror(errno));
        return false;
      }
      if (end) break;
      *p = '/';
    }
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, size, "%s is not a directory", path);
    return false;
  }
  return true;
}

static void command_line(int argc, char **argv, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "regrad");
  for (int i = 0; i < argc && used < size; i++) {
    bool quote = strpbrk(argv[i], " \t'\"$") != NULL;
    used += (size_t)snprintf(buf + used, size - used, quote ? " '%s'" : " %s", argv[i]);
  }
}

/* The first n rows of *ds in place of *ds, when n is a limit below its size. */
static void keep_first_rows(rg_ctx *ctx, rg_dataset **ds, int64_t n) {
  if (!*ds || n <= 0 || n >= (*ds)->n) return;
  int64_t *rows = malloc((size_t)n * sizeof *rows);
  for (int64_t i = 0; rows && i < n; i++) rows[i] = i;
  rg_dataset *part = rows ? rg_dataset_subset(ctx, *ds, rows, n) : NULL;
  free(rows);
  rg_dataset_free(*ds);
  *ds = part;
}

static void fill_meta(study_meta *m, const study_options *o, const rg_ctx *ctx,
                      const rg_dataset *train, const rg_dataset *test) {
  const study_setup *s = &o->setup;
  int64_t rows = s->train_limit > 0 && s->train_limit < train->n ? s->train_limit : train->n;
  int64_t val = (int64_t)(s->val_fraction * (double)rows + 0.5);
  *m = (study_meta){.version = rg_version(),
                    .isa = rg_ctx_isa(ctx),
                    .threads = s->threads,
                    .seeds = o->seeds,
                    .data_dir = o->data,
                    .train_rows = rows - val,
                    .val_rows = val,
                    .test_rows = test->n,
                    .features = (int)train->features,
                    .classes = train->classes > test->classes ? train->classes : test->classes,
                    .setup = s};
}

static int study(const study_options *o, const study_regime **sel, int n, const char *cmdline) {
  char err[1024];
  if (!make_dirs(o->out, err, sizeof err) || !outdir_writable(o->out, err, sizeof err))
    return command_failed("%s", err);
  rg_config cfg = {.seed = o->setup.seed, .threads = o->setup.threads, .isa = o->setup.isa,
                   .mem_limit = limits_mem(o->setup.mem_limit)};
  rg_ctx *ctx = rg_ctx_new(&cfg);
  if (!ctx) return command_failed("out of memory");
  if (rg_ctx_status(ctx) != RG_OK) {
    int rc = command_failed("%s", rg_ctx_message(ctx));
    rg_ctx_free(ctx);
    return rc;
  }
  double started = progress_now();
  int jobs = n * o->seeds;
  study_workers w = study_workers_for(o->setup.threads, jobs);
  fprintf(stderr,
          "study: %d regime%s x %d seed%s x %lld steps, MLP with %d hidden layers of %d, ISA %s; "
          "%d run%s at once on %d thread%s each; data %s; output %s\n",
          n, n == 1 ? "" : "s", o->seeds, o->seeds == 1 ? "" : "s", (long long)o->setup.steps,
          o->setup.depth, o->setup.width, rg_ctx_isa(ctx), w.concurrent,
          w.concurrent == 1 ? "" : "s", w.threads_per_run, w.threads_per_run == 1 ? "" : "s",
          o->data, o->out);
  /* Loaded once: every run only reads them (rg_dataset is plain memory that
   * no context owns), copying what it needs into its own context. */
  rg_dataset *train = rg_dataset_load_mnist(ctx, o->data, true);
  rg_dataset *test = train ? rg_dataset_load_mnist(ctx, o->data, false) : NULL;
  keep_first_rows(ctx, &test, o->test_limit);
  study_run *runs = calloc((size_t)jobs, sizeof *runs);
  study_agg *aggs = calloc((size_t)n, sizeof *aggs);
  int *order = calloc((size_t)n, sizeof *order);
  int rc = 0;
  if (!train || !test) {
    rc = command_failed("cannot load the data in %s: %s", o->data, rg_ctx_message(ctx));
  } else if (!runs || !aggs || !order) {
    rc = command_failed("out of memory");
  } else {
    int failures = study_run_all(sel, n, o->seeds, &o->setup, w, train, test, runs);
    for (int i = 0; i < n; i++) study_aggregate(runs + (size_t)i * o->seeds, o->seeds, &aggs[i]);
    study_rank(aggs, n, order);
    study_meta meta;
    fill_meta(&meta, o, ctx, train, test);
    meta.concurrent = w.concurrent;
    meta.threads_per_run = w.threads_per_run;
    char note[1024] = "";
    bool drawn = o->figures && study_plot(o->out, aggs, n, order, meta.classes, note, sizeof note);
    if (!o->figures)
      snprintf(note, sizeof note, "--figures=false was given");
    else if (!drawn)
      fprintf(stderr, "regrad: warning: no figures: %s\n", note);
    meta.command = cmdline;
    meta.figures_note = drawn ? NULL : note;
    meta.wall_seconds = progress_now() - started;
    if (!study_write_csvs(o->out, aggs, n, order, err, sizeof err) ||
        !study_write_report(o->out, &meta, aggs, n, order, err, sizeof err))
      rc = command_failed("%s", err);
    else if (failures)
      rc = command_failed("%d of %d runs failed; see %s/report.md", failures, jobs, o->out);
    else
      fprintf(stderr, "study: %d run%s in %.1f s; report in %s/report.md\n", jobs,
              jobs == 1 ? "" : "s", meta.wall_seconds, o->out);
  }
  for (int j = 0; runs && j < jobs; j++) study_run_free(&runs[j]);
  free(runs);
  free(aggs);
  free(order);
  rg_dataset_free(train);
  rg_dataset_free(test);
  rg_ctx_free(ctx);
  return rc;
}

int cmd_study(int argc, char **argv) {
  study_options o;
  int rc = study_flags_parse(argc, argv, &o);
  if (rc >= 0) return rc;
  if (o.list) {
    list_regimes(&o.setup);
    return 0;
  }
  int total;
  study_regimes(&total);
  const study_regime **sel = calloc((size_t)total, sizeof *sel);
  if (!sel) return command_failed("out of memory");
  char bad[64];
  int n = study_select(o.grid, o.quick, sel, total, bad, sizeof bad);
  if (n <= 0) {
    free(sel);
    if (n < 0)
      args_complain("regrad study", "unknown regime \"%s\" in --grid (see --list)", bad);
    else
      args_complain("regrad study", "--grid selects no regime");
    return 2;
  }
  char cmdline[2048];
  command_line(argc, argv, cmdline, sizeof cmdline);
  rc = study(&o, sel, n, cmdline);
  free(sel);
  return rc;
}
