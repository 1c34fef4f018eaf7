/* `regrad study`: first the interval statistics (study_stats.c) against
 * known values and the ranking (study_rank.c) on constructed regimes whose
 * validation and test orders differ; then end to end: a tiny grid of 2 seeds
 * on the real data, run with the scalar kernels on one thread and with the
 * best ISA on one and on two threads (two runs at once), must write the same
 * CSV bytes (timing.csv aside) and runs.csv must hold a row per regime and
 * seed; its report, CSVs and figures must be
 * well-formed (PNG chunks, CRCs and inflated image size; SVG; CSV columns and
 * numbers); the vanishing baseline's first/last gradient ratio must be far
 * below Kaiming's and batch norm's; a missing gnuplot must give a report and
 * a warning, not a crash.
 *
 * usage: test_study REGRAD SCRATCH_DIR. The data directory is
 * $REGRAD_TEST_DATA, or Fashion-MNIST where Debian installs it; exit 77
 * (skipped) when it holds no training images. */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "study_agg.h"
#include "study_literature.h"
#include "study_stats.h"

#define DATA_DIR "/usr/share/datasets/fashion-mnist"
#define GRID "sigmoid-small,kaiming,batchnorm,l2,clip-norm,sched-cosine,orthogonal-tanh"
#define GRID_REGIMES 7
#define SEEDS "2"
#define MIN_RATIO_GAP 100.0 /* the vanishing signature must be this many times smaller */

static int passed, failed;
static const char *data_dir = DATA_DIR;

static void check(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s - ", ok ? "ok" : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (ok)
    passed++;
  else
    failed++;
}

static char *read_all(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  if (size) *size = n;
  return buf;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* Runs regrad with args (NULL-terminated), REGRAD_ISA set to isa_env (or unset)
 * and PATH replaced by path_env when given; stdout and stderr go to log_path.
 * Returns the exit status (-1 if it did not exit normally). */
static int run(const char *regrad, const char *isa_env, const char *path_env, const char *log_path,
               const char *const *args) {
  pid_t pid = fork();
  if (pid == 0) {
    if (isa_env)
      setenv("REGRAD_ISA", isa_env, 1);
    else
      unsetenv("REGRAD_ISA");
    unsetenv("REGRAD_GNUPLOT");
    if (path_env) setenv("PATH", path_env, 1);
    FILE *log = freopen(log_path, "w", stderr);
    if (log) dup2(fileno(log), STDOUT_FILENO);
    const char *argv[32] = {regrad};
    for (int i = 0; args[i] && i < 30; i++) argv[i + 1] = args[i];
    execv(regrad, (char *const *)argv);
    _exit(127);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int tiny_study(const char *regrad, const char *out, const char *isa, const char *threads,
                      const char *path, const char *grid) {
  char log[4096];
  snprintf(log, sizeof log, "%.3000s.log", out);
  // clang-format off
  const char *args[] = {"study", "--grid", grid, "--depth", "4", "--width", "32",
                        "--steps", "30", "--sample-every", "5", "--seeds", SEEDS,
                        "--train-limit", "3000", "--test-limit", "2000",
                        "--threads", threads, "--data", data_dir, "--out", out, NULL};
  // clang-format on
  return run(regrad, isa, path, log, args);
}

/* ---- units: intervals and ranking */

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static void check_stats(void) {
  const double x[5] = {1, 2, 3, 4, 5};
  study_ci c = study_mean_ci(x, 5);
  /* t(0.975, 4) = 2.776; half-width 2.776 sqrt(2.5) / sqrt(5) = 1.963 */
  check(c.n == 5 && near(c.mean, 3.0, 1e-12) && near(c.hi - c.mean, 1.963, 1e-3) &&
            near(c.mean - c.lo, 1.963, 1e-3),
        "mean and 95%% interval of {1..5}: %g [%g, %g]", c.mean, c.lo, c.hi);
  check(near(study_t975(1), 12.706, 1e-3) && near(study_t975(4), 2.776, 1e-3) &&
            near(study_t975(30), 2.042, 1e-3) && study_t975(31) == 1.96 && isnan(study_t975(0)),
        "t(0.975, df): 12.706 at 1, 2.776 at 4, 2.042 at 30, 1.96 beyond, none at 0");
  const double one[2] = {7.0, NAN};
  c = study_mean_ci(one, 2);
  check(c.n == 1 && c.mean == 7.0 && isnan(c.lo) && isnan(c.hi),
        "one finite value: the mean, no interval (NaN skipped)");
  const double decades[3] = {1, 10, 100};
  c = study_geomean_ci(decades, 3);
  /* log10: mean 1, sd 1, half-width 4.303 / sqrt(3) = 2.484 */
  check(near(c.mean, 10.0, 1e-9) && near(log10(c.lo), 1 - 2.4842, 1e-3) &&
            near(log10(c.hi), 1 + 2.4842, 1e-3),
        "geometric mean of {1, 10, 100}: %g [%g, %g]", c.mean, c.lo, c.hi);
  const double y[5] = {11, 12, 13, 14, 15};
  study_ci a = study_mean_ci(x, 5), b = study_mean_ci(y, 5);
  study_diff d = study_welch(&a, &b);
  /* equal variances 2.5, n 5: se 1, Welch df 8, t 2.306 */
  check(d.df == 8 && near(d.d, -10.0, 1e-12) && near(d.lo, -12.306, 1e-3) &&
            near(d.hi, -7.694, 1e-3) && study_diff_separates(&d),
        "Welch difference {1..5} - {11..15}: %g [%g, %g], df %d", d.d, d.lo, d.hi, d.df);
  const double z[5] = {2, 3, 4, 5, 6};
  study_ci e = study_mean_ci(z, 5);
  d = study_welch(&a, &e);
  check(!study_diff_separates(&d) && study_ci_overlap(&a, &e),
        "a shift of 1 within a spread of 1.6 does not separate: [%g, %g]", d.lo, d.hi);
}

static study_ci interval(double mean, double half) {
  return (study_ci){.n = 5, .mean = mean, .lo = mean - half, .hi = mean + half, .sd = half};
}

/* Validation and test orders disagree: the ranking follows validation. */
static void check_ranking(void) {
  static const study_regime regs[4] = {{.name = "a-test-best"}, {.name = "b-val-best"},
                                       {.name = "c-diverged"}, {.name = "d-close-to-a"}};
  study_agg aggs[4] = {
      {.regime = &regs[0], .seeds = 5, .val = interval(0.80, 0.01), .test = interval(0.95, 0.01)},
      {.regime = &regs[1], .seeds = 5, .val = interval(0.90, 0.01), .test = interval(0.70, 0.01)},
      {.regime = &regs[2], .seeds = 5, .diverged = 1, .val = interval(0.99, 0.01),
       .test = interval(0.99, 0.01)},
      {.regime = &regs[3], .seeds = 5, .val = interval(0.795, 0.01), .test = interval(0.5, 0.01)}};
  int order[4];
  study_rank(aggs, 4, order);
  check(order[0] == 1 && order[1] == 0 && order[2] == 3 && order[3] == 2,
        "ranking by validation, not test; a regime with a diverged seed last (%d %d %d %d)",
        order[0], order[1], order[2], order[3]);
  check(aggs[1].group == 1 && aggs[0].group == 2 && aggs[3].group == 2 && aggs[2].group == 0,
        "overlapping validation intervals share a group, separate ones do not (%d %d %d %d)",
        aggs[1].group, aggs[0].group, aggs[3].group, aggs[2].group);
}


/* The verdict of He et al.'s 30-layer claim on constructed aggregates. */
static study_verdict he_verdict(study_agg *kaiming, study_agg *xavier, bool with_xavier) {
  const study_claim *c = NULL;
  for (int i = 0; i < study_claim_count(); i++)
    if (!strcmp(study_claim_at(i)->regimes[0], "he-kaiming-relu-30")) c = study_claim_at(i);
  if (!c) return (study_verdict)-1;
  study_agg aggs[2] = {*kaiming, *xavier};
  return study_claim_verdict(c, aggs, with_xavier ? 2 : 1, 10);
}

static void check_literature(void) {
  static const study_regime regs[2] = {{.name = "he-kaiming-relu-30"},
                                       {.name = "he-xavier-relu-30"}};
  study_agg kaiming = {.regime = &regs[0], .seeds = 5, .val = interval(0.85, 0.01)};
  study_agg stalled = {.regime = &regs[1], .seeds = 5, .val = interval(0.11, 0.02)};
  study_agg learned = {.regime = &regs[1], .seeds = 5, .val = interval(0.60, 0.02)};
  study_agg better = {.regime = &regs[1], .seeds = 5, .val = interval(0.95, 0.01)};
  study_agg close = {.regime = &regs[1], .seeds = 5, .val = interval(0.12, 0.80)};
  study_verdict v = he_verdict(&kaiming, &stalled, true);
  check(v == VERDICT_AGREE, "He 30 layers: Kaiming above, Xavier at chance: %s",
        study_verdict_name(v));
  v = he_verdict(&kaiming, &learned, true);
  check(v == VERDICT_DISAGREE, "He 30 layers: both learned (Xavier 60%%): %s",
        study_verdict_name(v));
  v = he_verdict(&kaiming, &better, true);
  check(v == VERDICT_DISAGREE, "He 30 layers: Xavier above Kaiming: %s", study_verdict_name(v));
  v = he_verdict(&kaiming, &close, true);
  check(v == VERDICT_INCONCLUSIVE, "He 30 layers: overlapping intervals: %s",
        study_verdict_name(v));
  v = he_verdict(&kaiming, &stalled, false);
  check(v == VERDICT_NOT_RUN, "He 30 layers: Xavier not in the grid: %s", study_verdict_name(v));
  study_agg diverged = stalled;
  diverged.diverged = 2, diverged.val = interval(0.5, 0.3);
  v = he_verdict(&kaiming, &diverged, true);
  check(v == VERDICT_AGREE,
        "He 30 layers: a diverged Xavier counts as stalled, not as learned: %s",
        study_verdict_name(v));
  study_agg one = kaiming;
  one.seeds = 1;
  v = he_verdict(&one, &stalled, true);
  check(v == VERDICT_NOT_MEASURED, "He 30 layers: one seed: %s", study_verdict_name(v));
}

/* ---- PNG: signature, chunk CRCs, IHDR, IDAT inflating to the image size */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *png_problem(const unsigned char *d, size_t n) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n < 8 || memcmp(d, sig, 8) != 0) return "bad signature";
  uint32_t width = 0, height = 0;
  int depth = 0, color = 0, interlace = 0;
  unsigned char *idat = NULL;
  size_t idat_n = 0;
  const char *bad = "no IEND chunk";
  for (size_t pos = 8; pos + 12 <= n;) {
    uint32_t len = be32(d + pos);
    if (len > n - pos - 12) {
      bad = "chunk runs past the end";
      break;
    }
    const unsigned char *type = d + pos + 4, *body = d + pos + 8;
    if (crc32(crc32(0, NULL, 0), type, len + 4) != be32(body + len)) {
      bad = "chunk CRC mismatch";
      break;
    }
    if (!memcmp(type, "IHDR", 4) && len == 13) {
      width = be32(body), height = be32(body + 4), depth = body[8], color = body[9];
      interlace = body[12];
    } else if (!memcmp(type, "IDAT", 4)) {
      idat = realloc(idat, idat_n + len);
      memcpy(idat + idat_n, body, len);
      idat_n += len;
    } else if (!memcmp(type, "IEND", 4)) {
      bad = NULL;
      break;
    }
    pos += 12 + len;
  }
  if (!bad && (!width || !height || !idat_n)) bad = "no IHDR or IDAT";
  if (!bad && interlace) bad = "interlaced (not checked)";
  if (!bad) {
    static const int channels[7] = {1, 0, 3, 1, 2, 0, 4};
    size_t bits = (size_t)width * (size_t)depth * (size_t)(color <= 6 ? channels[color] : 0);
    uLongf want = (uLongf)(height * (1 + (bits + 7) / 8)), got = want + 1;
    unsigned char *raw = malloc(want + 1);
    int z = uncompress(raw, &got, idat, idat_n);
    if (!bits || z != Z_OK || got != want)
      bad = "IDAT does not inflate to height x (1 + row bytes)";
    free(raw);
  }
  free(idat);
  return bad;
}

/* ---- CSV: consistent columns, numbers where numbers belong */

static const char *text_columns[] = {"regime",     "family",   "role",    "reference",
                                     "activation", "init",     "penalty", "optimizer",
                                     "clip",       "schedule", NULL};

static int is_text_column(const char *name) {
  for (int i = 0; text_columns[i]; i++)
    if (!strcmp(name, text_columns[i])) return 1;
  return 0;
}

/* Splits line in place at commas into at most cap fields; returns the count. */
static int split(char *line, char **fields, int cap) {
  int n = 0;
  for (char *p = line; n < cap;) {
    fields[n++] = p;
    char *c = strchr(p, ',');
    if (!c) break;
    *c = '\0';
    p = c + 1;
  }
  return n;
}

static const char *csv_problem(const char *path, int *rows_out) {
  static char why[512];
  char *text = read_all(path, NULL);
  if (!text) return "missing";
  char *header[64], *fields[64], *save = NULL;
  char *line = strtok_r(text, "\n", &save);
  int cols = line ? split(line, header, 64) : 0, rows = 0;
  const char *bad = cols < 2 ? "no header" : NULL;
  while (!bad && (line = strtok_r(NULL, "\n", &save))) {
    rows++;
    int n = split(line, fields, 64);
    if (n != cols) {
      snprintf(why, sizeof why, "row %d has %d fields, the header %d", rows, n, cols);
      bad = why;
    }
    for (int i = 0; !bad && i < n; i++) {
      char *end;
      if (is_text_column(header[i])) continue;
      strtod(fields[i], &end);
      if (end == fields[i] || *end) {
        snprintf(why, sizeof why, "row %d column %s: \"%s\" is not a number", rows, header[i],
                 fields[i]);
        bad = why;
      }
    }
  }
  free(text);
  if (!bad && rows == 0) bad = "no rows";
  *rows_out = rows;
  return bad;
}

/* A numeric field of the summary row of regime. */
static double summary_value(const char *dir, const char *regime, const char *column) {
  char path[4096];
  snprintf(path, sizeof path, "%.3000s/summary.csv", dir);
  char *text = read_all(path, NULL), *save = NULL, *header[64], *fields[64];
  double v = NAN;
  char *line = text ? strtok_r(text, "\n", &save) : NULL;
  int cols = line ? split(line, header, 64) : 0, col = -1, name = -1;
  for (int i = 0; i < cols; i++) {
    if (!strcmp(header[i], column)) col = i;
    if (!strcmp(header[i], "regime")) name = i;
  }
  while (col >= 0 && name >= 0 && (line = strtok_r(NULL, "\n", &save)))
    if (split(line, fields, 64) == cols && !strcmp(fields[name], regime))
      v = strtod(fields[col], NULL);
  free(text);
  return v;
}

static void check_outputs(const char *dir) {
  static const char *csvs[] = {"summary.csv", "runs.csv",   "grad_norms.csv", "layers.csv",
                               "loss.csv",    "config.csv", "timing.csv"};
  static const char *figures[] = {"grad_profile_step0", "grad_norm_steps", "loss", "accuracy",
                                  "layer_heatmap"};
  char path[4096];
  int grad_norm_rows = -1;
  for (int i = 0; i < 7; i++) {
    int rows = 0;
    snprintf(path, sizeof path, "%.3000s/%.200s", dir, csvs[i]);
    const char *bad = csv_problem(path, &rows);
    check(!bad, "%s parses (%d rows)%s%s", csvs[i], rows, bad ? ": " : "", bad ? bad : "");
    if (!strcmp(csvs[i], "runs.csv"))
      check(rows == GRID_REGIMES * atoi(SEEDS), "runs.csv has a row per regime and seed (%d)",
            rows);
    if (!strcmp(csvs[i], "summary.csv"))
      check(rows == GRID_REGIMES, "summary.csv has a row per regime (%d)", rows);
    if (!strcmp(csvs[i], "grad_norms.csv")) grad_norm_rows = rows;
    /* 30 steps sampled every 5 (0, 5, ..., 25) and the last (29): 7 samples
     * of 5 linear layers (depth 4) per run; none of the grid diverges */
    if (!strcmp(csvs[i], "layers.csv"))
      check(rows == grad_norm_rows && rows == GRID_REGIMES * atoi(SEEDS) * 7 * 5,
            "layers.csv has a row per sampled step and layer (%d; grad_norms.csv %d)", rows,
            grad_norm_rows);
  }
  for (int i = 0; i < 5; i++) {
    size_t n;
    snprintf(path, sizeof path, "%.3000s/%.200s.png", dir, figures[i]);
    unsigned char *png = (unsigned char *)read_all(path, &n);
    const char *bad = png ? png_problem(png, n) : "missing";
    check(!bad, "%s.png decodes%s%s", figures[i], bad ? ": " : "", bad ? bad : "");
    free(png);
    snprintf(path, sizeof path, "%.3000s/%.200s.svg", dir, figures[i]);
    char *svg = read_all(path, NULL);
    check(svg && strstr(svg, "<svg") && strstr(svg, "</svg>"), "%s.svg is an SVG", figures[i]);
    free(svg);
  }
  snprintf(path, sizeof path, "%.3000s/report.md", dir);
  char *md = read_all(path, NULL);
  check(md && strstr(md, "# regrad study") && strstr(md, "| # | group | regime") &&
            strstr(md, "By mean validation accuracy") && strstr(md, "ISA ") &&
            strstr(md, "regrad study --grid") &&
            strstr(md, "![Per-layer gradient norm at step 0](grad_profile_step0.png)") &&
            strstr(md, "**sigmoid-small**") && strstr(md, "**batchnorm**"),
        "report.md has the command, ISA, ranking, findings and figures");
  free(md);
  /* Every file is written to a temporary name and renamed: none is left. */
  DIR *d = opendir(dir);
  int left = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    left += e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  if (d) closedir(d);
  check(d && left == 0, "no temporary files are left in the output directory (%d)", left);
}

static void check_same_csvs(const char *a, const char *b, const char *what) {
  static const char *csvs[] = {"summary.csv", "runs.csv", "grad_norms.csv", "layers.csv",
                               "loss.csv", "config.csv"};
  for (size_t i = 0; i < sizeof csvs / sizeof csvs[0]; i++) {
    char pa[4096], pb[4096];
    size_t na, nb;
    snprintf(pa, sizeof pa, "%.3000s/%.200s", a, csvs[i]);
    snprintf(pb, sizeof pb, "%.3000s/%.200s", b, csvs[i]);
    char *x = read_all(pa, &na), *y = read_all(pb, &nb);
    check(x && y && na == nb && memcmp(x, y, na) == 0, "%s is byte-identical for %s (%zu bytes)",
          csvs[i], what, na);
    free(x);
    free(y);
  }
}

static void check_signatures(const char *dir) {
  double vanish = summary_value(dir, "sigmoid-small", "signature_step0_gmean");
  double kaiming = summary_value(dir, "kaiming", "signature_step0_gmean");
  double bn = summary_value(dir, "batchnorm", "signature_step0_gmean");
  printf("# geometric mean first/last gradient ratio at step 0: sigmoid-small %g, kaiming %g, "
         "batchnorm %g\n",
         vanish, kaiming, bn);
  check(vanish > 0 && vanish * MIN_RATIO_GAP < kaiming,
        "vanishing baseline's ratio is %gx below Kaiming's", kaiming / vanish);
  check(vanish > 0 && vanish * MIN_RATIO_GAP < bn,
        "vanishing baseline's ratio is %gx below batch norm's", bn / vanish);
}

static void check_without_gnuplot(const char *regrad, const char *dir) {
  char path[4096];
  int rc = tiny_study(regrad, dir, NULL, "1", "/nonexistent", "kaiming");
  snprintf(path, sizeof path, "%.3000s.log", dir);
  char *log = read_all(path, NULL);
  snprintf(path, sizeof path, "%.3000s/report.md", dir);
  char *md = read_all(path, NULL);
  check(rc == 0 && log && strstr(log, "warning: no figures") && md && strstr(md, "No figures"),
        "without gnuplot: exit %d, a warning and a report without figures", rc);
  free(log);
  free(md);
}

/* --seeds N refuses 0 and junk: exit 2, the first line names the flag. */
static void check_bad_seeds(const char *regrad, const char *scratch, const char *value) {
  char log[4096], out[4096];
  snprintf(log, sizeof log, "%.3000s/bad-seeds.log", scratch);
  snprintf(out, sizeof out, "%.3000s/bad-seeds", scratch);
  /* a tiny study if the value were taken, so that a regression fails fast */
  const char *args[] = {"study",  "--seeds", value,    "--grid", "kaiming", "--steps",
                        "1",      "--depth", "1",      "--data", data_dir,  "--figures=false",
                        "--out",  out,       NULL};
  int rc = run(regrad, NULL, NULL, log, args);
  char *text = read_all(log, NULL);
  char *nl = text ? strchr(text, '\n') : NULL;
  if (nl) *nl = '\0';
  check(rc == 2 && text && strstr(text, "--seeds"), "--seeds %s is refused (exit %d): %s", value,
        rc, text ? text : "(no output)");
  free(text);
}


/* --list names every regime of the papers, the depth sweep and the ablation,
 * with its depth in the configuration line. */
static void check_list(const char *regrad, const char *scratch) {
  static const char *names[] = {
      "glorot-standard-tanh", "glorot-normalized-tanh", "he-xavier-relu-30",
      "he-kaiming-relu-30",   "orthogonal-tanh",        "relu-batchnorm",
      "depth-kaiming-10",     "depth-kaiming-60",       "depth-xavier-tanh-40",
      "depth-sigmoid-small-20", "combined-minus-bn",    "combined-minus-wd",
      "combined-minus-clip",  "combined-minus-schedule", "combined-minus-hotlr", NULL};
  char log[4096];
  snprintf(log, sizeof log, "%.3000s/list.log", scratch);
  const char *args[] = {"study", "--list", NULL};
  int rc = run(regrad, NULL, NULL, log, args);
  char *text = read_all(log, NULL);
  int missing = 0;
  for (int i = 0; names[i]; i++)
    if (!text || !strstr(text, names[i])) {
      printf("# --list lacks %s\n", names[i]);
      missing++;
    }
  const char *he = text ? strstr(text, "he-kaiming-relu-30") : NULL;
  const char *sixty = text ? strstr(text, "depth-kaiming-60") : NULL;
  check(rc == 0 && !missing && he && strstr(he, "30 hidden layers, ReLU, Kaiming") &&
            sixty && strstr(sixty, "60 hidden layers"),
        "--list shows the new regimes with their depth (exit %d, %d missing)", rc, missing);
  free(text);
}

/* A regime with its own depth (30) on a tiny budget: grad_norms.csv holds
 * layers 1..31, and the literature table names what was not run. */
static void check_own_depth(const char *regrad, const char *scratch) {
  char out[4096], log[4096], path[4096];
  snprintf(out, sizeof out, "%.3000s/depth30", scratch);
  snprintf(log, sizeof log, "%.3000s/depth30.log", scratch);
  const char *args[] = {"study", "--grid", "he-kaiming-relu-30", "--steps", "3", "--seeds", "1",
                        "--train-limit", "600", "--test-limit", "100", "--figures=false",
                        "--threads", "2", "--data", data_dir, "--out", out, NULL};
  int rc = run(regrad, NULL, NULL, log, args);
  snprintf(path, sizeof path, "%.3000s/grad_norms.csv", out);
  char *text = read_all(path, NULL), *save = NULL;
  int max_layer = 0, step0_rows = 0;
  char *line = text ? strtok_r(text, "\n", &save) : NULL;
  while (line && (line = strtok_r(NULL, "\n", &save))) {
    char *f[8];
    if (split(line, f, 8) < 5) continue;
    int layer = atoi(f[3]);
    if (layer > max_layer) max_layer = layer;
    step0_rows += atoi(f[2]) == 0;
  }
  free(text);
  check(rc == 0 && max_layer == 31 && step0_rows == 31,
        "he-kaiming-relu-30 runs at depth 30: grad_norms.csv has %d layers (%d at step 0), exit %d",
        max_layer, step0_rows, rc);
  snprintf(path, sizeof path, "%.3000s/report.md", out);
  char *md = read_all(path, NULL);
  check(md && strstr(md, "## Compared with the literature") &&
            strstr(md, "he-xavier-relu-30: not run") && strstr(md, "| not run |"),
        "report.md compares with the literature: a missing regime is not run");
  free(md);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s REGRAD SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  check_stats();
  check_ranking();
  check_literature();
  const char *env = getenv("REGRAD_TEST_DATA");
  if (env && *env) data_dir = env;
  char images[4096], images_gz[4096];
  snprintf(images, sizeof images, "%.3000s/train-images-idx3-ubyte", data_dir);
  snprintf(images_gz, sizeof images_gz, "%.3000s/train-images-idx3-ubyte.gz", data_dir);
  if (access(images, R_OK) != 0 && access(images_gz, R_OK) != 0) {
    printf("SKIP: no MNIST-format data in %s (Debian: apt-get install dataset-fashion-mnist)\n",
           data_dir);
    return failed ? 1 : 77;
  }
  const char *regrad = argv[1], *scratch = argv[2];
  nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  mkdir(scratch, 0777);
  char scalar[4096], best[4096], best1[4096], nognuplot[4096];
  snprintf(scalar, sizeof scalar, "%.3000s/scalar", scratch);
  snprintf(best, sizeof best, "%.3000s/best", scratch);
  snprintf(best1, sizeof best1, "%.3000s/best-1-thread", scratch);
  snprintf(nognuplot, sizeof nognuplot, "%.3000s/no-gnuplot", scratch);
  int rc = tiny_study(regrad, scalar, "scalar", "1", NULL, GRID);
  check(rc == 0, "tiny grid with REGRAD_ISA=scalar, 1 thread exits 0 (got %d)", rc);
  rc = tiny_study(regrad, best, NULL, "2", NULL, GRID);
  check(rc == 0, "tiny grid with the best ISA, 2 threads (2 runs at once) exits 0 (got %d)", rc);
  rc = tiny_study(regrad, best1, NULL, "1", NULL, GRID);
  check(rc == 0, "tiny grid with the best ISA, 1 thread exits 0 (got %d)", rc);
  check_outputs(best);
  check_same_csvs(best1, best, "--threads 1 and --threads 2 (the best ISA)");
  check_same_csvs(scalar, best, "scalar/1 thread and the best ISA/2 threads");
  check_signatures(best);
  check_without_gnuplot(regrad, nognuplot);
  check_list(regrad, scratch);
  check_own_depth(regrad, scratch);
  const char *bad_grid[] = {"study", "--grid", "no-such-regime", NULL};
  snprintf(scalar, sizeof scalar, "%.3000s/bad-grid.log", scratch);
  rc = run(regrad, NULL, NULL, scalar, bad_grid);
  check(rc == 2, "an unknown regime in --grid is a usage error (exit %d)", rc);
  check_bad_seeds(regrad, scratch, "0");
  check_bad_seeds(regrad, scratch, "x");
  printf("study: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
