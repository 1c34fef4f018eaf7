/* Progress reporting for long runs. On a terminal: one bar redrawn in place,
 * "[#####.....]  45%  <status>  ETA 0:12", with permanent lines printed
 * above it. Elsewhere (a pipe or a file): only the permanent lines, so a log
 * gets one line per epoch (or per configuration) and no control characters.
 *
 * Typical use: progress_start(p, steps) at the start of a phase, then
 * progress_update(p, done, "epoch %d/%d  loss %.4f", ...) as work is done
 * (cheap: it redraws at most ten times a second), then progress_line(p, ...)
 * for the phase's summary. The ETA is the rate since progress_start applied
 * to the work left, so a study can run one phase over all its
 * configurations' steps and get an ETA for the whole study. Every function
 * accepts a NULL progress and then does nothing (for quiet runs). */
#ifndef RG_TOOLS_PROGRESS_H
#define RG_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress progress;

/* Reports to stream (normally stderr); bar mode when it is a terminal.
 * NULL when memory runs out. */
progress *progress_new(FILE *stream);
void progress_free(progress *p);
bool progress_is_terminal(const progress *p);

/* Starts a phase of total units of work (total >= 1): resets the count and
 * the clock of the ETA. */
void progress_start(progress *p, int64_t total);

/* done of the phase's total units are finished; status (printf format) is
 * shown beside the bar. Terminal only; nothing is printed otherwise. */
void progress_update(progress *p, int64_t done, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A permanent line (the bar, if shown, is cleared first and redrawn by the
 * next update). A newline is added. */
void progress_line(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seconds on a monotonic clock, for timing. */
double progress_now(void);

/* "1:05" or "2:03:07" for a duration in seconds. */
void progress_format_duration(double seconds, char *buf, size_t size);

#endif
