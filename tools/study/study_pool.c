/* The runs of a study over a few worker threads (study_pool.h). */
#include "study_pool.h"

#include <stdlib.h>

typedef struct pool {
  const study_regime **sel;
  int seeds, jobs;
  const study_setup *setup;
  int threads_per_run;
  const rg_dataset *train, *test;
  study_run *runs;
  progress *bar;
  pthread_mutex_t lock; /* guards next, steps_done, failures and the bar */
  int next, failures;
  int64_t steps_done;
} pool;

study_workers study_workers_for(int threads, int jobs) {
  int at_once = threads < jobs ? threads : jobs;
  if (at_once < 1) at_once = 1;
  int per = threads / at_once;
  return (study_workers){at_once, per < 1 ? 1 : per};
}

static void report(pool *p, int j) {
  const study_run *run = &p->runs[j];
  const train_result *r = &run->result;
  const char *name = p->sel[j / p->seeds]->name;
  if (r->status != RG_OK) {
    progress_line(p->bar, "[%d/%d] %s seed %llu: failed: %s", j + 1, p->jobs, name,
                  (unsigned long long)run->seed, r->message);
    return;
  }
  char diverged[64] = "";
  if (r->diverged_step >= 0)
    snprintf(diverged, sizeof diverged, ", diverged at step %lld", (long long)r->diverged_step);
  progress_line(p->bar, "[%d/%d] %-15s seed %-3llu val %5.1f%%  test %5.1f%%%s  (%.1f s)", j + 1,
                p->jobs, name, (unsigned long long)run->seed, 100.0 * r->val_acc,
                100.0 * r->test_acc, diverged, r->seconds);
}

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->lock);
    int j = p->next < p->jobs ? p->next++ : -1;
    pthread_mutex_unlock(&p->lock);
    if (j < 0) return NULL;
    study_setup s = *p->setup;
    s.seed = p->setup->seed + (uint64_t)(j % p->seeds);
    s.threads = p->threads_per_run;
    study_progress sp = {p->bar, &p->lock, &p->steps_done, j, p->jobs};
    bool ok = study_run_regime(p->sel[j / p->seeds], &s, p->train, p->test, &sp, &p->runs[j]);
    pthread_mutex_lock(&p->lock);
    /* a run that stopped early (diverged) still counts its whole budget */
    p->steps_done += p->setup->steps - p->runs[j].steps;
    p->failures += !ok;
    report(p, j);
    pthread_mutex_unlock(&p->lock);
  }
}

int study_run_all(const study_regime **sel, int n, int seeds, const study_setup *setup,
                  study_workers w, const rg_dataset *train, const rg_dataset *test,
                  study_run *runs) {
  pool p = {.sel = sel, .seeds = seeds, .jobs = n * seeds, .setup = setup,
            .threads_per_run = w.threads_per_run, .train = train, .test = test, .runs = runs,
            .bar = progress_new(stderr)};
  pthread_mutex_init(&p.lock, NULL);
  progress_start(p.bar, (int64_t)p.jobs * setup->steps);
  pthread_t *ids = calloc((size_t)w.concurrent, sizeof *ids);
  int started = 0;
  /* the calling thread is a worker too, so a failed pthread_create only
   * means fewer runs at once */
  for (int i = 1; ids && i < w.concurrent; i++)
    if (pthread_create(&ids[started], NULL, worker, &p) == 0) started++;
  worker(&p);
  for (int i = 0; i < started; i++) pthread_join(ids[i], NULL);
  free(ids);
  pthread_mutex_destroy(&p.lock);
  progress_free(p.bar);
  return p.failures;
}
