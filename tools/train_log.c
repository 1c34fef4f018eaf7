/* The --log CSV and the gradient alerts (train_log.h). */
#include "train_log.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char header[] =
    "step,epoch,loss,lr,global_grad_norm,clip_scale,skipped,param,grad_norm,weight_norm,"
    "update_ratio,vanishing,exploding\n";

bool train_log_open(train_log *log, const char *path, char *why, size_t size) {
  memset(log, 0, sizeof *log);
  size_t len = strlen(path);
  log->path = malloc(len + 1);
  log->partial = malloc(len + 9);
  if (!log->path || !log->partial) {
    snprintf(why, size, "%s: out of memory", path);
    return false;
  }
  memcpy(log->path, path, len + 1);
  snprintf(log->partial, len + 9, "%s.partial", path);
  log->file = fopen(log->partial, "w");
  if (!log->file) {
    snprintf(why, size, "--log %s: cannot create %s: %s", path, log->partial, strerror(errno));
    return false;
  }
  if (fputs(header, log->file) == EOF) log->err = errno ? errno : EIO;
  return true;
}

void train_log_step(train_log *log, const rg_step_info *s) {
  if (!log->file || log->err) return;
  for (int i = 0; i < s->n_diag; i++) {
    const rg_param_diag *d = &s->diag[i];
    if (fprintf(log->file, "%lld,%lld,%.9g,%.9g,%.9g,%.9g,%d,%s,%.9g,%.9g,%.9g,%d,%d\n",
                (long long)s->step, (long long)s->epoch, (double)s->loss, (double)s->lr,
                (double)s->grad_norm, (double)s->clip_scale, s->skipped, d->name,
                (double)d->grad_norm, (double)d->weight_norm, (double)d->update_ratio,
                d->vanishing, d->exploding) < 0) {
      log->err = errno ? errno : EIO;
      return;
    }
  }
}

bool train_log_close(train_log *log, char *why, size_t size) {
  bool ok = true;
  if (log->file) {
    errno = 0;
    if (!log->err && fflush(log->file) != 0) log->err = errno ? errno : EIO;
    if (!log->err && fsync(fileno(log->file)) != 0) log->err = errno;
    if (fclose(log->file) != 0 && !log->err) log->err = errno ? errno : EIO;
    if (!log->err && rename(log->partial, log->path) != 0) log->err = errno;
    if (log->err) {
      snprintf(why, size, "--log %s: writing %s failed: %s", log->path, log->partial,
               strerror(log->err));
      ok = false;
    }
  }
  free(log->path);
  free(log->partial);
  memset(log, 0, sizeof *log);
  return ok;
}

bool train_alerts_step(train_alerts *a, const rg_step_info *s, char *line, size_t size) {
  int first = -1, fired = 0;
  for (int i = 0; i < s->n_params; i++) {
    float g = s->param_grad_norm[i];
    if (g < a->vanish || !(g <= a->explode)) {
      fired++;
      if (first < 0) first = i;
    }
  }
  a->pending += fired;
  bool due = a->last_line < 0 || s->step - a->last_line >= a->every;
  if (!fired || !due) return false;
  float g = s->param_grad_norm[first];
  const char *what = g < a->vanish ? "vanishing" : "exploding";
  char bound[48];
  if (g < a->vanish)
    snprintf(bound, sizeof bound, "< %g", (double)a->vanish);
  else if (isfinite(g))
    snprintf(bound, sizeof bound, "> %g", (double)a->explode);
  else
    snprintf(bound, sizeof bound, "not finite");
  int at = snprintf(line, size, "step %lld: %s gradient in %s (|g| %.3g %s)",
                    (long long)s->step, what, rg_tensor_name(s->params[first]), (double)g, bound);
  if (a->pending > 1 && at > 0 && (size_t)at < size)
    snprintf(line + at, size - (size_t)at, "; %lld alerts since the last line",
             (long long)a->pending);
  a->last_line = s->step;
  a->pending = 0;
  return true;
}
