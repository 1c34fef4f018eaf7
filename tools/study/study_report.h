/* The outputs of `regrad study`: the CSV files of every measurement, the
 * ranking, the plain-word findings and report.md. Every CSV except
 * timing.csv holds only values that the reproducibility contract makes
 * identical on every ISA and thread count, so the same command writes the
 * same bytes. */
#ifndef RG_TOOLS_STUDY_REPORT_H
#define RG_TOOLS_STUDY_REPORT_H

#include <stdio.h>

#include "study_agg.h"

/* What the report says about the run as a whole. */
typedef struct study_meta {
  const char *command; /* the command line, as typed */
  const char *version; /* rg_version() */
  const char *isa;     /* rg_ctx_isa() */
  int threads;
  int seeds;                            /* runs per regime */
  int concurrent, threads_per_run;      /* runs at once, threads each */
  const char *data_dir;
  int64_t train_rows, val_rows, test_rows; /* as trained and evaluated */
  int features, classes;
  const study_setup *setup;
  double wall_seconds;
  const char *figures_note; /* NULL when the figures were drawn, else why not */
} study_meta;

/* Writes summary.csv (one row per regime, rank order), runs.csv (one row
 * per run), grad_norms.csv, loss.csv, config.csv and timing.csv into dir.
 * Returns false with the reason in err. */
bool study_write_csvs(const char *dir, const study_agg *aggs, int n, const int *order, char *err,
                      size_t err_size);

/* Writes report.md into dir. */
bool study_write_report(const char *dir, const study_meta *meta, const study_agg *aggs, int n,
                        const int *order, char *err, size_t err_size);

/* The finding of one regime in plain words (one paragraph, no newline),
 * with the regimes of the study for the comparison with its reference. */
void study_finding(const study_agg *a, const study_agg *aggs, int n, int classes, FILE *out);

/* "85.2% ± 0.4" for an accuracy interval, "85.2% (one seed, no interval)"
 * when n < 2. */
const char *study_pct_ci(char buf[64], const study_ci *c);
/* "1.2e-05 [3.1e-06, 4.5e-05]": a mean (geometric or not) and its interval
 * in short numbers; the mean alone when n is 1, "—" when 0. */
const char *study_short_ci(char buf[96], const study_ci *c);

/* A CSV number: "%.9g" (exact for a float), or nan, inf, -inf. */
const char *study_csv_number(char buf[32], double v);
/* A number for people: 3 significant digits, scientific when far from 1. */
const char *study_short_number(char buf[32], double v);
/* A fraction as a percentage. */
static inline double study_pct(double v) { return 100.0 * v; }

#endif
