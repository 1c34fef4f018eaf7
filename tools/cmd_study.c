/* `regrad study`: trains a grid of regimes on the same deep MLP, data, seed
 * and step budget, measures how each keeps its gradients alive, and writes
 * report.md, CSV files and gnuplot figures into one directory. */
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
#include "study_grid.h"
#include "study_plot.h"
#include "study_report.h"
#include "study_run.h"

#define MAX_THREADS 256
#define NO_COUNT 9e18
/* Steps per regime: at most 2^40, so regimes x steps (the progress total)
 * and every per-step array size stay far from overflow. */
#define MAX_STEPS 1099511627776.0

/* Defaults of the full study and of --quick (flags given explicitly win). */
#define FULL_STEPS 3000
#define QUICK_STEPS 600
#define QUICK_TRAIN_LIMIT 12000
#define SAMPLE_POINTS 120 /* per-layer samples over a run, when --sample-every is 0 */

static const arg_choice isas[] = {{"auto", 0},   {"scalar", 1}, {"avx2", 2},
                                  {"avx512", 3}, {"neon", 4},   {NULL, 0}};

typedef struct study_options {
  study_setup setup;
  bool quick, list, figures;
  const char *grid, *data, *out;
  int64_t test_limit;
  int isa;
} study_options;

static int parse(int argc, char **argv, study_options *o) {
  study_setup *s = &o->setup;
  *o = (study_options){
      .setup = {.depth = 20, .width = 128, .batch = 128, .seed = 1, .val_fraction = 1.0 / 12.0},
      .figures = true,
      .data = RG_DEFAULT_DATA_DIR,
      .out = "study-out"};
  const arg_spec specs[] = {
      {"quick", ARG_BOOL, &o->quick, 0, 0, NULL, NULL,
       "the headline regimes, "
       "600 steps on 12000 rows (about 2 minutes)"},
      {"grid", ARG_STRING, &o->grid, 0, 0, NULL, "a,b,c", "regimes to run, by name (see --list)"},
      {"list", ARG_BOOL, &o->list, 0, 0, NULL, NULL, "print the regimes and exit"},
      {"depth", ARG_INT, &s->depth, 1, RG_MLP_MAX_LAYERS, NULL, "N", "hidden layers"},
      {"width", ARG_INT, &s->width, 1, 1 << 16, NULL, "N", "width of every hidden layer"},
      {"steps", ARG_INT64, &s->steps, 0, MAX_STEPS, NULL, "N",
       "optimizer steps per regime (0: 3000, or 600 with --quick)"},
      {"batch", ARG_INT64, &s->batch, 2, NO_COUNT, NULL, "N", "batch size"},
      {"test-limit", ARG_INT64, &o->test_limit, 0, NO_COUNT, NULL, "N",
       "test rows evaluated: the first N (0: all)"},
      {"train-limit", ARG_INT64, &s->train_limit, 0, NO_COUNT, NULL, "N",
       "training rows used (0: all, or 12000 with --quick)"},
      {"sample-every", ARG_INT, &s->sample_every, 0, 1 << 30, NULL, "N",
       "keep per-layer gradient norms every N steps (0: 120 samples a run)"},
      {"seed", ARG_UINT64, &s->seed, 0, 0, NULL, "N", "seed of init, shuffling and dropout"},
      {"data", ARG_STRING, &o->data, 0, 0, NULL, "DIR", "MNIST-format data directory"},
      {"out", ARG_STRING, &o->out, 0, 0, NULL, "DIR", "output directory (created)"},
      {"figures", ARG_BOOL, &o->figures, 0, 0, NULL, NULL, "draw figures with gnuplot"},
      {"isa", ARG_CHOICE, &o->isa, 0, 0, isas, NULL, "kernel ISA (auto: best, or REGRAD_ISA)"},
      {"threads", ARG_INT, &s->threads, 0, MAX_THREADS, NULL, "N",
       "threads (0: one per online CPU)"},
      {"mem-limit", ARG_BYTES, &s->mem_limit, 0, 0, NULL, "BYTES", "most memory a context holds, e.g. 8G (auto: 3/4 of RAM or of the cgroup limit; 0: none)"},
  };
  const arg_command cmd = {
      "regrad study", "regrad study [--quick] [--grid a,b,c] [flags]",
      "Trains a deep MLP once per regime (failing baselines, inits, batch norm, penalties, "
      "clipping, schedules) with the same data, seed and step budget, and writes report.md, "
      "CSV files and figures comparing how each keeps its gradients alive.",
      specs, (int)(sizeof specs / sizeof specs[0])};
  arg_result r = args_parse(&cmd, argc, argv);
  if (r != ARGS_OK) return args_exit_code(r);
  if (s->steps == 0) s->steps = o->quick ? QUICK_STEPS : FULL_STEPS;
  if (s->train_limit == 0 && o->quick) s->train_limit = QUICK_TRAIN_LIMIT;
  if (s->sample_every == 0)
    s->sample_every = (int)(s->steps / SAMPLE_POINTS > 0 ? s->steps / SAMPLE_POINTS : 1);
  if (s->threads == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
  }
  s->isa = o->isa ? args_choice_name(isas, o->isa) : NULL;
  return -1;
}

static void list_regimes(const study_setup *setup) {
  int n;
  const study_regime *r = study_regimes(&n);
  for (int i = 0; i < n; i++) {
    train_config c;
    char text[512];
    study_regime_config(&r[i], setup, &c);
    study_config_describe(&c, text, sizeof text);
    printf("%-15s %-14s %-19s%s\n  %s\n  %s\n", r[i].name, r[i].family, study_role_name(r[i].role),
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

/* Trains every selected regime in turn with one progress bar over all. */
static int run_all(const study_regime **sel, int n, const study_setup *setup,
                   const rg_dataset *train, const rg_dataset *test, study_run *runs) {
  progress *bar = progress_new(stderr);
  progress_start(bar, (int64_t)n * setup->steps);
  int failures = 0;
  for (int i = 0; i < n; i++) {
    study_progress sp = {bar, i, n, (int64_t)i * setup->steps};
    progress_update(bar, sp.steps_before, "config %d/%d %-14s starting", i + 1, n, sel[i]->name);
    if (!study_run_regime(sel[i], setup, train, test, &sp, &runs[i])) {
      progress_line(bar, "[%d/%d] %s: failed: %s", i + 1, n, sel[i]->name, runs[i].result.message);
      failures++;
      continue;
    }
    const train_result *r = &runs[i].result;
    char diverged[64] = "";
    if (r->diverged_step >= 0)
      snprintf(diverged, sizeof diverged, ", diverged at step %lld", (long long)r->diverged_step);
    progress_line(bar, "[%d/%d] %-15s test %5.1f%%  val %5.1f%%%s  (%.1f s)", i + 1, n,
                  sel[i]->name, 100.0 * r->test_acc, 100.0 * r->val_acc, diverged, r->seconds);
  }
  progress_free(bar);
  return failures;
}

static void fill_meta(study_meta *m, const study_options *o, const rg_ctx *ctx,
                      const rg_dataset *train, const rg_dataset *test) {
  const study_setup *s = &o->setup;
  int64_t rows = s->train_limit > 0 && s->train_limit < train->n ? s->train_limit : train->n;
  int64_t val = (int64_t)(s->val_fraction * (double)rows + 0.5);
  *m = (study_meta){.version = rg_version(),
                    .isa = rg_ctx_isa(ctx),
                    .threads = s->threads,
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
  fprintf(stderr,
          "study: %d regime%s x %lld steps, MLP with %d hidden layers of %d, ISA %s, %d "
          "thread%s; data %s; output %s\n",
          n, n == 1 ? "" : "s", (long long)o->setup.steps, o->setup.depth, o->setup.width,
          rg_ctx_isa(ctx), o->setup.threads, o->setup.threads == 1 ? "" : "s", o->data, o->out);
  rg_dataset *train = rg_dataset_load_mnist(ctx, o->data, true);
  rg_dataset *test = train ? rg_dataset_load_mnist(ctx, o->data, false) : NULL;
  keep_first_rows(ctx, &test, o->test_limit);
  study_run *runs = calloc((size_t)n, sizeof *runs);
  int *order = calloc((size_t)n, sizeof *order);
  int rc = 0;
  if (!train || !test) {
    rc = command_failed("cannot load the data in %s: %s", o->data, rg_ctx_message(ctx));
  } else if (!runs || !order) {
    rc = command_failed("out of memory");
  } else {
    int failures = run_all(sel, n, &o->setup, train, test, runs);
    study_rank(runs, n, order);
    study_meta meta;
    fill_meta(&meta, o, ctx, train, test);
    char note[1024] = "";
    bool drawn = o->figures && study_plot(o->out, runs, n, order, meta.classes, note, sizeof note);
    if (!o->figures)
      snprintf(note, sizeof note, "--figures=false was given");
    else if (!drawn)
      fprintf(stderr, "regrad: warning: no figures: %s\n", note);
    meta.command = cmdline;
    meta.figures_note = drawn ? NULL : note;
    meta.wall_seconds = progress_now() - started;
    if (!study_write_csvs(o->out, runs, n, order, err, sizeof err) ||
        !study_write_report(o->out, &meta, runs, n, order, err, sizeof err))
      rc = command_failed("%s", err);
    else if (failures)
      rc = command_failed("%d of %d regimes failed; see %s/report.md", failures, n, o->out);
    else
      fprintf(stderr, "study: %d regime%s in %.1f s; report in %s/report.md\n", n,
              n == 1 ? "" : "s", meta.wall_seconds, o->out);
  }
  for (int i = 0; runs && i < n; i++) study_run_free(&runs[i]);
  free(runs);
  free(order);
  rg_dataset_free(train);
  rg_dataset_free(test);
  rg_ctx_free(ctx);
  return rc;
}

int cmd_study(int argc, char **argv) {
  study_options o;
  int rc = parse(argc, argv, &o);
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
