/* The CSV files of `regrad study` and number formatting (study_report.h). */
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

const char *study_pct_ci(char buf[64], const study_ci *c) {
  if (c->n < 2)
    snprintf(buf, 64, "%.1f%% (%s)", study_pct(c->mean), c->n ? "one seed, no interval" : "none");
  else
    snprintf(buf, 64, "%.1f%% ± %.1f", study_pct(c->mean), study_pct(c->hi - c->mean));
  return buf;
}

const char *study_short_ci(char buf[96], const study_ci *c) {
  char m[32], lo[32], hi[32];
  study_short_number(m, c->mean);
  if (c->n == 0) /* no seed gave a value (not finite, or 0 on a geometric scale) */
    snprintf(buf, 96, "—");
  else if (c->n < 2)
    snprintf(buf, 96, "%s", m);
  else
    snprintf(buf, 96, "%s [%s, %s]", m, study_short_number(lo, c->lo),
             study_short_number(hi, c->hi));
  return buf;
}

typedef bool (*csv_writer)(FILE *f, const study_agg *aggs, int n, const int *order);

/* ",<mean>,<ci_low>,<ci_high>" */
static void ci_fields(FILE *f, const study_ci *c) {
  char b[3][32];
  fprintf(f, ",%s,%s,%s", study_csv_number(b[0], c->mean), study_csv_number(b[1], c->lo),
          study_csv_number(b[2], c->hi));
}

static bool write_summary(FILE *f, const study_agg *aggs, int n, const int *order) {
  static const char *metrics[] = {"val_acc",   "test_acc", "train_acc",      "tail_loss",
                                  "sparsity",  "signature_step0_gmean", "signature_end_gmean",
                                  "grad_first_step0_gmean", "grad_last_step0_gmean"};
  fprintf(f, "rank,group,regime,family,role,reference,seeds,diverged_seeds,failed_seeds");
  for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++)
    fprintf(f, ",%s,%s_ci_low,%s_ci_high", metrics[m], metrics[m], metrics[m]);
  fprintf(f, "\n");
  for (int k = 0; k < n; k++) {
    const study_agg *a = &aggs[order[k]];
    const study_regime *g = a->regime;
    fprintf(f, "%d,%d,%s,%s,%s,%s,%d,%d,%d", k + 1, a->group, g->name, g->family,
            study_role_name(g->role), g->reference ? g->reference : "", a->seeds, a->diverged,
            a->failed);
    const study_ci *cis[] = {&a->val,  &a->test,    &a->train,  &a->tail_loss, &a->sparsity,
                             &a->sig0, &a->sig_end, &a->first0, &a->last0};
    for (size_t m = 0; m < sizeof cis / sizeof cis[0]; m++) ci_fields(f, cis[m]);
    fprintf(f, "\n");
  }
  return true;
}

/* Every run of every regime, grid order then seed order. */
#define EACH_RUN(aggs, n, r)                                 \
  for (int i_ = 0; i_ < (n); i_++)                           \
    for (const study_run *r = (aggs)[i_].runs; r < (aggs)[i_].runs + (aggs)[i_].seeds; r++)

static bool write_runs(FILE *f, const study_agg *aggs, int n, const int *order) {
  (void)order;
  char b[7][32];
  fprintf(f, "regime,seed,val_acc,test_acc,train_acc,tail_loss,steps,diverged_step,"
             "signature_step0,signature_end,sparsity\n");
  EACH_RUN(aggs, n, r) {
    fprintf(f, "%s,%llu,%s,%s,%s,%s,%lld,%lld,%s,%s,%s\n", r->regime->name,
            (unsigned long long)r->seed, study_csv_number(b[0], r->result.val_acc),
            study_csv_number(b[1], r->result.test_acc), study_csv_number(b[2], r->result.train_acc),
            study_csv_number(b[3], study_run_tail_loss(r, r->steps / 10 + 1)), (long long)r->steps,
            (long long)r->result.diverged_step, study_csv_number(b[4], study_run_signature(r, 0)),
            study_csv_number(b[5], study_run_signature(r, r->samples - 1)),
            study_csv_number(b[6], r->result.sparsity));
  }
  return true;
}

static bool write_grad_norms(FILE *f, const study_agg *aggs, int n, const int *order) {
  (void)order;
  char b[32];
  fprintf(f, "regime,seed,step,layer,grad_norm\n");
  EACH_RUN(aggs, n, r) {
    for (int s = 0; s < r->samples; s++) {
      const float *row = study_run_sample(r, s);
      for (int l = 0; l < r->layers; l++)
        fprintf(f, "%s,%llu,%lld,%d,%s\n", r->regime->name, (unsigned long long)r->seed,
                (long long)r->sample_step[s], l + 1, study_csv_number(b, row[l]));
    }
  }
  return true;
}

/* The trainer's layer statistics (regrad.h, rg_layer_stats) of every
 * sampled step; layer 1 is the input side, the last the classifier. */
static bool write_layers(FILE *f, const study_agg *aggs, int n, const int *order) {
  (void)order;
  char b[7][32];
  fprintf(f, "regime,seed,step,layer,act_mean,act_std,saturation,dLdh_norm,dW_frobenius,dW_rms,"
             "update_ratio\n");
  EACH_RUN(aggs, n, r) {
    for (int s = 0; s < r->samples; s++) {
      const rg_layer_stats *st = study_run_layer_stats(r, s);
      for (int l = 0; l < r->layers; l++)
        fprintf(f, "%s,%llu,%lld,%d,%s,%s,%s,%s,%s,%s,%s\n", r->regime->name,
                (unsigned long long)r->seed, (long long)r->sample_step[s], l + 1,
                study_csv_number(b[0], st[l].act_mean), study_csv_number(b[1], st[l].act_std),
                study_csv_number(b[2], st[l].saturation), study_csv_number(b[3], st[l].dldh_norm),
                study_csv_number(b[4], st[l].dw_norm), study_csv_number(b[5], st[l].dw_rms),
                study_csv_number(b[6], st[l].update_ratio));
    }
  }
  return true;
}

static bool write_loss(FILE *f, const study_agg *aggs, int n, const int *order) {
  (void)order;
  char b[3][32];
  fprintf(f, "regime,seed,step,loss,lr,grad_norm,finite\n");
  EACH_RUN(aggs, n, r) {
    for (int64_t t = 0; t < r->steps; t++)
      fprintf(f, "%s,%llu,%lld,%s,%s,%s,%d\n", r->regime->name, (unsigned long long)r->seed,
              (long long)t, study_csv_number(b[0], r->loss[t]), study_csv_number(b[1], r->lr[t]),
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
                                "orthogonal",    "standard"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* The configuration is the same for every seed but the seed itself. */
static bool write_config(FILE *f, const study_agg *aggs, int n, const int *order) {
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
    const train_config *c = &aggs[k].runs[0].config;
    const study_regime *g = aggs[k].regime;
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

/* No total row: with runs going at once, the sum of their seconds is not
 * the study's wall time (report.md states that). */
static bool write_timing(FILE *f, const study_agg *aggs, int n, const int *order) {
  (void)order;
  fprintf(f, "regime,seed,seconds,steps,ms_per_step\n");
  EACH_RUN(aggs, n, r) {
    double per = r->steps ? 1e3 * r->result.seconds / (double)r->steps : 0.0;
    fprintf(f, "%s,%llu,%.3f,%lld,%.3f\n", r->regime->name, (unsigned long long)r->seed,
            r->result.seconds, (long long)r->steps, per);
  }
  return true;
}

static bool write_file(const char *dir, const char *name, csv_writer w, const study_agg *aggs,
                       int n, const int *order, char *err, size_t err_size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  atomic_file a;
  FILE *f = atomic_open(&a, path, err, err_size);
  if (!f) return false;
  if (w(f, aggs, n, order)) return atomic_commit(&a, true, err, err_size);
  atomic_commit(&a, false, err, err_size);
  snprintf(err, err_size, "%s: the data could not be written", path);
  return false;
}

bool study_write_csvs(const char *dir, const study_agg *aggs, int n, const int *order, char *err,
                      size_t err_size) {
  static const struct {
    const char *name;
    csv_writer write;
  } files[] = {{"summary.csv", write_summary},
               {"runs.csv", write_runs},
               {"grad_norms.csv", write_grad_norms},
               {"layers.csv", write_layers},
               {"loss.csv", write_loss},
               {"config.csv", write_config},
               {"timing.csv", write_timing}};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (!write_file(dir, files[i].name, files[i].write, aggs, n, order, err, err_size))
      return false;
  return true;
}
