/* Progress bar with ETA on a terminal, plain lines elsewhere (progress.h). */
#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define REDRAW_SECONDS 0.1

struct progress {
  FILE *out;
  bool terminal;
  bool bar_shown;
  int64_t total;
  double started, last_draw;
};

double progress_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void progress_format_duration(double seconds, char *buf, size_t size) {
  long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
  if (s >= 3600)
    snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

progress *progress_new(FILE *stream) {
  progress *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->out = stream;
  p->terminal = isatty(fileno(stream)) == 1;
  p->total = 1;
  p->started = progress_now();
  return p;
}

void progress_free(progress *p) {
  if (p && p->bar_shown) fputs("\r\033[K", p->out);
  free(p);
}

bool progress_is_terminal(const progress *p) { return p && p->terminal; }

void progress_start(progress *p, int64_t total) {
  if (!p) return;
  p->total = total > 0 ? total : 1;
  p->started = progress_now();
  p->last_draw = 0.0;
}

void progress_update(progress *p, int64_t done, const char *fmt, ...) {
  if (!p || !p->terminal) return;
  double now = progress_now();
  if (done < p->total && now - p->last_draw < REDRAW_SECONDS) return;
  p->last_draw = now;
  if (done > p->total) done = p->total;
  int filled = (int)(BAR_WIDTH * done / p->total);
  char bar[BAR_WIDTH + 1], eta[32] = "--:--";
  for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  if (done > 0) {
    double left = (now - p->started) * (double)(p->total - done) / (double)done;
    progress_format_duration(left, eta, sizeof eta);
  }
  fprintf(p->out, "\r[%s] %3d%%  ", bar, (int)(100 * done / p->total));
  va_list ap;
  va_start(ap, fmt);
  vfprintf(p->out, fmt, ap);
  va_end(ap);
  fprintf(p->out, "  ETA %s\033[K", eta);
  fflush(p->out);
  p->bar_shown = true;
}

void progress_line(progress *p, const char *fmt, ...) {
  if (!p) return;
  if (p->bar_shown) fputs("\r\033[K", p->out);
  p->bar_shown = false;
  p->last_draw = 0.0;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(p->out, fmt, ap);
  va_end(ap);
  fputc('\n', p->out);
  fflush(p->out);
}
