/* Training one regime and recording what the study measures (study_run.h). */
#include "study_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct recorder {
  study_run *run;
  study_progress *sp;
  bool saw_nonfinite;
} recorder;

static bool should_sample(recorder *rec, const rg_step_info *s) {
  const study_run *run = rec->run;
  if (s->step % run->sample_every == 0 || s->step == run->config.run.max_steps - 1) return true;
  return !s->finite && !rec->saw_nonfinite;
}

static bool observe(const rg_step_info *s, void *user) {
  recorder *rec = user;
  study_run *run = rec->run;
  if (s->step < 0 || s->step >= run->capacity) return true;
  int64_t t = s->step;
  run->loss[t] = s->loss;
  run->lr[t] = s->lr;
  run->grad_norm[t] = s->grad_norm;
  run->finite[t] = s->finite;
  if (t + 1 > run->steps) run->steps = t + 1;
  int max_samples = (int)(run->capacity / run->sample_every) + 3;
  if (should_sample(rec, s) && run->samples < max_samples) {
    int layers = s->layers < run->layers ? s->layers : run->layers;
    float *row = run->layer_norm + (size_t)run->samples * (size_t)run->layers;
    for (int i = 0; i < run->layers; i++) row[i] = i < layers ? s->layer_grad_norm[i] : NAN;
    /* The trainer samples the same steps (layer_stats_every = sample_every). */
    rg_layer_stats *st = run->layer_stats + (size_t)run->samples * (size_t)run->layers;
    for (int i = 0; i < run->layers; i++)
      st[i] = s->layer_stats && i < layers
                  ? s->layer_stats[i]
                  : (rg_layer_stats){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    run->sample_step[run->samples++] = t;
  }
  if (!s->finite) rec->saw_nonfinite = true;
  study_progress *sp = rec->sp;
  if (sp) {
    pthread_mutex_lock(sp->lock);
    progress_update(sp->bar, ++*sp->steps_done, "run %d/%d %-14s seed %llu  step %lld/%lld",
                    sp->index + 1, sp->count, run->regime->name, (unsigned long long)run->seed,
                    (long long)(t + 1), (long long)run->config.run.max_steps);
    pthread_mutex_unlock(sp->lock);
  }
  return true;
}

static bool allocate(study_run *run, int64_t steps, int every, int layers) {
  size_t n = (size_t)steps, samples = (size_t)(steps / every) + 3;
  run->capacity = steps;
  run->sample_every = every;
  run->layers = layers;
  run->loss = calloc(n, sizeof *run->loss);
  run->lr = calloc(n, sizeof *run->lr);
  run->grad_norm = calloc(n, sizeof *run->grad_norm);
  run->finite = calloc(n, 1);
  run->sample_step = calloc(samples, sizeof *run->sample_step);
  run->layer_norm = calloc(samples * (size_t)layers, sizeof *run->layer_norm);
  run->layer_stats = calloc(samples * (size_t)layers, sizeof *run->layer_stats);
  return run->loss && run->lr && run->grad_norm && run->finite && run->sample_step &&
         run->layer_norm && run->layer_stats;
}

bool study_run_regime(const study_regime *r, const study_setup *setup, const rg_dataset *train,
                      const rg_dataset *test, study_progress *sp, study_run *run) {
  memset(run, 0, sizeof *run);
  run->regime = r;
  run->seed = setup->seed;
  study_regime_config(r, setup, &run->config);
  run->config.train_set = train;
  run->config.test_set = test;
  int every = setup->sample_every > 0 ? setup->sample_every : 1;
  if (!allocate(run, setup->steps, every, run->config.model.hidden + 1)) {
    run->result.status = RG_ENOMEM;
    snprintf(run->result.message, sizeof run->result.message,
             "out of memory for the measurements of %lld steps", (long long)setup->steps);
    return false;
  }
  run->config.run.layer_stats_every = every;
  recorder rec = {.run = run, .sp = sp};
  run->result = train_run(&run->config, observe, &rec);
  return run->result.status == RG_OK;
}

void study_run_free(study_run *run) {
  free(run->loss);
  free(run->lr);
  free(run->grad_norm);
  free(run->finite);
  free(run->sample_step);
  free(run->layer_norm);
  free(run->layer_stats);
  memset(run, 0, sizeof *run);
}

const float *study_run_sample(const study_run *run, int i) {
  return run->layer_norm + (size_t)i * (size_t)run->layers;
}

const rg_layer_stats *study_run_layer_stats(const study_run *run, int i) {
  return run->layer_stats + (size_t)i * (size_t)run->layers;
}

const float *study_run_sample_at(const study_run *run, int64_t step) {
  for (int i = 0; i < run->samples; i++)
    if (run->sample_step[i] == step) return study_run_sample(run, i);
  return NULL;
}

double study_run_signature(const study_run *run, int i) {
  if (i < 0 || i >= run->samples) return NAN;
  const float *row = study_run_sample(run, i);
  double first = row[0], last = row[run->layers - 1];
  if (!isfinite(first) || !isfinite(last) || last == 0.0) return NAN;
  return first / last;
}

double study_run_tail_loss(const study_run *run, int64_t window) {
  double sum = 0.0;
  int64_t n = 0;
  for (int64_t t = run->steps - 1; t >= 0 && t >= run->steps - window; t--)
    if (run->finite[t]) {
      sum += run->loss[t];
      n++;
    }
  return n ? sum / (double)n : NAN;
}

bool study_run_diverged(const study_run *run) { return run->result.diverged_step >= 0; }
