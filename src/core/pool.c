/* Thread pool: one job at a time, tasks claimed from an atomic counter. A
 * worker joins a job under the mutex (active++), claims tasks until none are
 * left, then leaves (active--); the caller returns only when every task is
 * finished and no worker is still inside the job, so a late worker can never
 * run a task of the next job with the old function. Workers sleep on a
 * condition variable between jobs and never spin. The caller, once out of
 * tasks, polls briefly for the workers' last tasks before it sleeps: going
 * to sleep and being woken costs more than the few microseconds such a tail
 * usually takes.
 *
 * On a busy machine a worker can be descheduled in the middle of a task, and
 * the caller then waits for it far longer than the task takes: the pool
 * notices (the caller's wait after its own work exceeds half of that work)
 * and runs the next jobs on the caller alone: 8 of them, twice as many each
 * time it happens again before 16 jobs in a row went well (at most 1024),
 * half as many after each such run of 16. Which thread runs a task never
 * changes a result. */
#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct rg_pool {
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  pthread_t *threads;
  int n_threads;
  /* the current job, guarded by mu except the counters */
  rg_task_fn fn;
  void *arg;
  int64_t n_tasks;
  bool open, stop;
  uint64_t generation;
  atomic_int active;
  atomic_int_fast64_t next, finished;
  int backoff, skip, good; /* the caller's: jobs to run alone after a long wait */
};

#define BACKOFF_MAX 1024
#define GOOD_RUN 16

/* How long the caller polls for the workers' last tasks before it sleeps. */
#define TAIL_POLL_SECONDS 20e-6

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static bool job_done(rg_pool *p, int64_t n) {
  return atomic_load(&p->finished) >= n && atomic_load(&p->active) == 0;
}

static void work(rg_pool *p, rg_task_fn fn, void *arg, int64_t n) {
  for (int64_t t; (t = atomic_fetch_add(&p->next, 1)) < n;) {
    fn(arg, t);
    atomic_fetch_add(&p->finished, 1);
  }
}

static void *worker_main(void *vp) {
  rg_pool *p = vp;
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && !(p->open && p->generation != seen)) pthread_cond_wait(&p->wake, &p->mu);
    if (p->stop) break;
    seen = p->generation;
    rg_task_fn fn = p->fn;
    void *arg = p->arg;
    int64_t n = p->n_tasks;
    p->active++;
    pthread_mutex_unlock(&p->mu);
    work(p, fn, arg, n);
    pthread_mutex_lock(&p->mu);
    if (--p->active == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

rg_pool *rg_pool_new(int workers) {
  rg_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = calloc((size_t)workers, sizeof *p->threads);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  for (int i = 0; p->threads && i < workers; i++) {
    if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) break;
    p->n_threads++;
  }
  if (p->n_threads != workers) {
    rg_pool_free(p);
    return NULL;
  }
  return p;
}

void rg_pool_free(rg_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stop = true;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->mu);
  free(p->threads);
  free(p);
}

void rg_pool_run(rg_pool *p, int64_t n, rg_task_fn fn, void *arg) {
  if (!p || n <= 1 || p->skip > 0) {
    if (p && p->skip > 0) p->skip--;
    for (int64_t t = 0; t < n; t++) fn(arg, t);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn, p->arg = arg, p->n_tasks = n;
  atomic_store(&p->next, 0);
  atomic_store(&p->finished, 0);
  p->generation++;
  p->open = true;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  double start = seconds();
  work(p, fn, arg, n);
  double mine = seconds();
  while (!job_done(p, n) && seconds() - mine < TAIL_POLL_SECONDS) cpu_relax();
  pthread_mutex_lock(&p->mu);
  while (!job_done(p, n)) pthread_cond_wait(&p->done, &p->mu);
  p->open = false;
  pthread_mutex_unlock(&p->mu);
  double waited = seconds() - mine;
  if (waited > 0.5 * (mine - start) && waited > 20e-6) {
    p->backoff = p->backoff ? (2 * p->backoff < BACKOFF_MAX ? 2 * p->backoff : BACKOFF_MAX) : 8;
    p->skip = p->backoff, p->good = 0;
  } else if (++p->good == GOOD_RUN) {
    p->backoff /= 2, p->good = 0;
  }
}
