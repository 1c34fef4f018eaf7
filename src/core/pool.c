/* Thread pool: one job at a time, tasks claimed from an atomic counter. A
 * worker joins a job under the mutex (active++), claims tasks until none are
 * left, then leaves (active--); the caller returns only when every task is
 * finished and no worker is still inside the job, so a late worker can never
 * run a task of the next job with the old function. */
#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

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
  int active;
  atomic_int_fast64_t next, finished;
};

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
  if (!p || n <= 1) {
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
  work(p, fn, arg, n);
  pthread_mutex_lock(&p->mu);
  while (atomic_load(&p->finished) < n || p->active > 0) pthread_cond_wait(&p->done, &p->mu);
  p->open = false;
  pthread_mutex_unlock(&p->mu);
}
