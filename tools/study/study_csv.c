/* The CSV files of `regrad study`, the ranking and number formatting
 * (study_report.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "study_report.h"

const char *study_csv_number(char buf[32], double v) {
  if (isnan(v))
    snprintf(buf, 32, "nan");
  else if (isinf(v))
    snprintf(buf, 32, v > 0 ? "inf" : "-inf");
  else
    snprintf(buf, 32, "%.9g", v);
  return buf;
}

const char *study_short_number(char buf[32], double v) {
  double a = fabs(v);
  if (!isfinite(v) || a == 0.0 || (a >= 1e-2 && a < 1e4))
    snprintf(buf, 32, "%.3g", v);
  else
    snprintf(buf, 32, "%.2e", v);
  return buf;
}

const study_run *study_find_run(const study_run *runs, int n, const char *name) {
  for (int i = 0; name && i < n; i++)
    if (strcmp(runs[i].regime->name, name) == 0) return &runs[i];
  return NULL;
}

static bool failed(const study_run *r) {
  return r->result.status != RG_OK || study_run_diverged(r) || !isfinite(r->result.test_acc);
}

static const study_run *rank_runs;

static int by_rank(const void *pa, const void *pb) {
  const study_run *a = &rank_runs[*(const int *)pa], *b = &rank_runs[*(const int *)pb];
  if (failed(a) != failed(b)) return failed(a) ? 1 : -1;
  if (!failed(a) && a->result.test_acc != b->result.test_acc)
    return a->result.test_acc > b->result.test_acc ? -1 : 1;
  return strcmp(a->regime->name, b->regime->name);
}

void study_rank(const study_run *runs, int n, int *order) {
  for (int i = 0; i < n; i++) order[i] = i;
  rank_runs = runs;
  qsort(order, (size_t)n, sizeof *order, by_rank);
  rank_runs = NULL;
}

typedef bool (*csv_writer)(FILE *f, const study_run *runs, int n, const int *order);

static bool write_summary(FILE *f, const study_run *runs, int n, const int *order) {
  char b[12][32];
  fprintf(f,
          "rank,regime,family,role,reference,test_acc,val_acc,train_acc,tail_loss,steps,"
          "diverged_step,grad_first_step0,grad_last_step0,signature_step0,signature_end,"
          "sparsity\n");
  for (int k = 0; k < n; k++) {
    const study_run *r = &runs[order[k]];
    const study_regime *g = r->regime;
    const float *p0 = r->samples ? study_run_sample(r, 0) : NULL;
    fprintf(f, "%d,%s,%s,%s,%s,%s,%s,%s,%s,%lld,%lld,%s,%s,%s,%s,%s\n", k + 1, g->name, g->family,
            study_role_name(g->role), g->reference ? g->reference : "",
            study_csv_number(b[0], r->result.test_acc), study_csv_number(b[1], r->result.val_acc),
            study_csv_number(b[2], r->result.train_acc),
            study_csv_number(b[3], study_run_tail_loss(r, r->steps / 10 + 1)), (long long)r->steps,
            (long long)r->result.diverged_step, study_csv_number(b[4], p0 ? p0[0] : NAN),
            study_csv_number(b[5], p0 ? p0[r->layers - 1] : NAN),
            study_csv_number(b[6], study_run_signature(r, 0)),
            study_csv_number(b[7], study_run_signature(r, r->samples - 1)),
            study_csv_number(b[8], r->result.sparsity));
  }
  return true;
}

static bool write_grad_norms(FILE *f, const study_run *runs, int n, const int *order) {
  (void)order;
  char b[32];
  fprintf(f, "regime,step,layer,grad_norm\n");
  for (int k = 0; k < n; k++) {
    const study_run *r = &runs[k];
    for (int s = 0; s < r->samples; s++) {
      const float *row = study_run_sample(r, s);
      for (int l = 0; l < r->layers; l++)
        fprintf(f, "%s,%lld,%d,%s\n", r->regime->name, (long long)r->sample_step[s], l + 1,
                study_csv_number(b, row[l]));
    }
  }
  return true;
}

static bool write_loss(FILE *f, const study_run *runs, int n, const int *order) {
  (void)order;
  char b[3][32];
  fprintf(f, "regime,step,loss,lr,grad_norm,finite\n");
  for (int k = 0; k < n; k++) {
    const study_run *r = &runs[k];
    for (int64_t t = 0; t < r->steps; t++)
      fprintf(f, "%s,%lld,%s,%s,%s,%d\n", r->regime->name, (long long)t,
              study_csv_number(b[0], r->loss[t]), study_csv_number(b[1], r->lr[t]),
              study_csv_number(b[2], r->grad_norm[t]), r->finite[t]);
  }
  return true;
}

static const char *optim_name(rg_optim_kind k) {
  return k == RG_ADAM ? "adam" : k == RG_ADAMW ? "adamw" : "sgd";
}

static const char *init_name(rg_init_scheme s) {
  static const char *names[] = {"normal",        "uniform",         "xavier_uniform",
                                "xavier_normal", "kaiming_uniform", "kaiming_normal",
                                "orthogonal"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static bool write_config(FILE *f, const study_run *runs, int n, const int *order) {
  (void)order;
  static const char *acts[] = {"linear", "relu", "leaky_relu", "tanh", "sigmoid"};
  static const char *penalties[] = {"none", "l1", "l2", "elastic"};
  static const char *clips[] = {"none", "value", "norm", "per_tensor", "agc", "ema"};
  static const char *scheds[] = {"constant",   "step",         "multistep", "exponential",
                                 "polynomial", "inverse_time", "cosine"};
  char b[12][32];
  fprintf(f,
          "regime,activation,init,init_scale,batch_norm,dropout,penalty,penalty_lambda,"
          "optimizer,lr,momentum,weight_decay,decoupled,prox_l1,prox_l2,clip,clip_threshold,"
          "schedule,warmup_steps\n");
  for (int k = 0; k < n; k++) {
    const train_config *c = &runs[k].config;
    const study_regime *g = runs[k].regime;
    fprintf(f, "%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%lld\n", g->name,
            acts[c->model.activation], init_name(c->init), study_csv_number(b[0], c->init_scale),
            c->model.batch_norm, study_csv_number(b[1], c->model.dropout), penalties[c->run.penalty],
            study_csv_number(b[2], c->run.penalty_lambda), optim_name(c->optim.kind),
            study_csv_number(b[3], c->run.schedule.lr0), study_csv_number(b[4], c->optim.momentum),
            study_csv_number(b[5], c->optim.weight_decay), c->optim.decoupled,
            study_csv_number(b[6], c->optim.prox_l1), study_csv_number(b[7], c->optim.prox_l2),
            clips[c->run.clip.mode], study_csv_number(b[8], g->clip_threshold), scheds[c->run.schedule.kind],
            (long long)c->run.schedule.warmup_steps);
  }
  return true;
}

static bool write_timing(FILE *f, const study_run *runs, int n, const int *order) {
  (void)order;
  double total = 0.0;
  int64_t steps = 0;
  fprintf(f, "regime,seconds,steps,ms_per_step\n");
  for (int k = 0; k < n; k++) {
    const study_run *r = &runs[k];
    double per = r->steps ? 1e3 * r->result.seconds / (double)r->steps : 0.0;
    fprintf(f, "%s,%.3f,%lld,%.3f\n", r->regime->name, r->result.seconds, (long long)r->steps, per);
    total += r->result.seconds;
    steps += r->steps;
  }
  fprintf(f, "total,%.3f,%lld,%.3f\n", total, (long long)steps,
          steps ? 1e3 * total / (double)steps : 0.0);
  return true;
}

static bool write_file(const char *dir, const char *name, csv_writer w, const study_run *runs,
                       int n, const int *order, char *err, size_t err_size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  atomic_file a;
  FILE *f = atomic_open(&a, path, err, err_size);
  if (!f) return false;
  if (w(f, runs, n, order)) return atomic_commit(&a, true, err, err_size);
  atomic_commit(&a, false, err, err_size);
  snprintf(err, err_size, "%s: the data could not be written", path);
  return false;
}

bool study_write_csvs(const char *dir, const study_run *runs, int n, const int *order, char *err,
                      size_t err_size) {
  static const struct {
    const char *name;
    csv_writer write;
  } files[] = {{"summary.csv", write_summary},
               {"grad_norms.csv", write_grad_norms},
               {"loss.csv", write_loss},
               {"config.csv", write_config},
               {"timing.csv", write_timing}};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (!write_file(dir, files[i].name, files[i].write, runs, n, order, err, err_size))
      return false;
  return true;
}
