/* The outputs of `regrad study`: the CSV files of every measurement, the
 * ranking, the plain-word findings and report.md. Every CSV except
 * timing.csv holds only values that the reproducibility contract makes
 * identical on every ISA and thread count, so the same command writes the
 * same bytes. */
#ifndef RG_TOOLS_STUDY_REPORT_H
#define RG_TOOLS_STUDY_REPORT_H

#include <stdio.h>

#include "study_run.h"

/* What the report says about the run as a whole. */
typedef struct study_meta {
  const char *command; /* the command line, as typed */
  const char *version; /* rg_version() */
  const char *isa;     /* rg_ctx_isa() */
  int threads;
  const char *data_dir;
  int64_t train_rows, val_rows, test_rows; /* as trained and evaluated */
  int features, classes;
  const study_setup *setup;
  double wall_seconds;
  const char *figures_note; /* NULL when the figures were drawn, else why not */
} study_meta;

/* Rank order: by test accuracy (higher first), runs that diverged or failed
 * last, ties by name. order gets n indices into runs. */
void study_rank(const study_run *runs, int n, int *order);

/* Writes summary.csv, grad_norms.csv, loss.csv, config.csv and timing.csv
 * into dir. Returns false with the reason in err. */
bool study_write_csvs(const char *dir, const study_run *runs, int n, const int *order, char *err,
                      size_t err_size);

/* Writes report.md into dir. */
bool study_write_report(const char *dir, const study_meta *meta, const study_run *runs, int n,
                        const int *order, char *err, size_t err_size);

/* The finding of one run in plain words (one paragraph, no newline), with
 * the runs of the study for comparisons with its reference regime. */
void study_finding(const study_run *run, const study_run *runs, int n, int classes, FILE *out);

/* A CSV number: "%.9g" (exact for a float), or nan, inf, -inf. */
const char *study_csv_number(char buf[32], double v);
/* A number for people: 3 significant digits, scientific when far from 1. */
const char *study_short_number(char buf[32], double v);
/* A fraction as a percentage. */
static inline double study_pct(double v) { return 100.0 * v; }
/* The run whose regime is named name, or NULL. */
const study_run *study_find_run(const study_run *runs, int n, const char *name);

#endif
