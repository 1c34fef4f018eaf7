/* The statistics of one regime over its seeds (study_agg.h). */
#include "study_agg.h"

#include <math.h>
#include <stdlib.h>

typedef double (*run_value)(const study_run *r);

static double val_acc(const study_run *r) { return r->result.val_acc; }
static double test_acc(const study_run *r) { return r->result.test_acc; }
static double train_acc(const study_run *r) { return r->result.train_acc; }
static double sparsity(const study_run *r) { return r->result.sparsity; }
static double sig0(const study_run *r) { return study_run_signature(r, 0); }
static double sig_end(const study_run *r) { return study_run_signature(r, r->samples - 1); }
static double first0(const study_run *r) { return r->samples ? study_run_sample(r, 0)[0] : NAN; }
static double last0(const study_run *r) {
  return r->samples ? study_run_sample(r, 0)[r->layers - 1] : NAN;
}
static double global0(const study_run *r) { return r->steps ? r->grad_norm[0] : NAN; }
static double tail_loss(const study_run *r) {
  return study_run_diverged(r) ? NAN : study_run_tail_loss(r, r->steps / 10 + 1);
}

/* A failed run has no measurements: its values are left out (NaN). */
static study_ci over_seeds(const study_run *runs, int seeds, run_value f, bool geometric) {
  double *x = seeds > 0 ? calloc((size_t)seeds, sizeof *x) : NULL;
  if (!x) return (study_ci){.mean = NAN, .lo = NAN, .hi = NAN, .sd = NAN};
  for (int k = 0; k < seeds; k++) x[k] = runs[k].result.status == RG_OK ? f(&runs[k]) : NAN;
  study_ci c = geometric ? study_geomean_ci(x, seeds) : study_mean_ci(x, seeds);
  free(x);
  return c;
}

void study_aggregate(const study_run *runs, int seeds, study_agg *a) {
  *a = (study_agg){.regime = runs[0].regime, .runs = runs, .seeds = seeds};
  for (int k = 0; k < seeds; k++) {
    a->failed += runs[k].result.status != RG_OK;
    a->diverged += runs[k].result.status == RG_OK && study_run_diverged(&runs[k]);
  }
  a->val = over_seeds(runs, seeds, val_acc, false);
  a->test = over_seeds(runs, seeds, test_acc, false);
  a->train = over_seeds(runs, seeds, train_acc, false);
  a->sparsity = over_seeds(runs, seeds, sparsity, false);
  a->tail_loss = over_seeds(runs, seeds, tail_loss, false);
  a->sig0 = over_seeds(runs, seeds, sig0, true);
  a->sig_end = over_seeds(runs, seeds, sig_end, true);
  a->first0 = over_seeds(runs, seeds, first0, true);
  a->last0 = over_seeds(runs, seeds, last0, true);
  a->global0 = over_seeds(runs, seeds, global0, true);
}
