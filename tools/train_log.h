/* What `regrad train` writes as training runs: the --log CSV (one row per
 * parameter per step, with the step's loss, learning rate, global gradient
 * norm and clip scale) and gradient alerts on stderr, rate-limited. */
#ifndef RG_TOOLS_TRAIN_LOG_H
#define RG_TOOLS_TRAIN_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "regrad.h"

/* The CSV is written to "<path>.partial" and renamed to path when the log is
 * closed, so path only ever holds a complete log. */
typedef struct train_log {
  FILE *file;
  char *path, *partial;
  int err; /* errno of the first failed write, 0 while all is well */
} train_log;

/* Opens the log; false with why (the path and the system's reason). */
bool train_log_open(train_log *log, const char *path, char *why, size_t size);
/* Rows for one step: needs s->diag (diagnostics on). */
void train_log_step(train_log *log, const rg_step_info *s);
/* Flushes, syncs and renames into place (kept as .partial after a write
 * error); false with why. A closed or never opened log passes. */
bool train_log_close(train_log *log, char *why, size_t size);

/* Alerts: a parameter whose gradient norm is below vanish or above explode
 * (or not finite). One line at the first alert, then at most one every
 * `every` steps, naming the step, the first parameter that fired and what,
 * and how many others fired since the last line. */
typedef struct train_alerts {
  float vanish, explode;
  int64_t every, last_line, pending;
} train_alerts;

/* The alert line due at this step into line (true), or false for none. */
bool train_alerts_step(train_alerts *a, const rg_step_info *s, char *line, size_t size);

#endif
