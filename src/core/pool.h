/* A small thread pool for splitting kernel calls. Workers sleep on a
 * condition variable between jobs (no spinning: on a shared 2-vCPU machine a
 * spinning pool can be 10x slower than one thread), and the caller works on
 * the job too, taking every task a descheduled worker has not started. */
#ifndef RG_POOL_H
#define RG_POOL_H
#include <stdint.h>

typedef struct rg_pool rg_pool;
typedef void (*rg_task_fn)(void *arg, int64_t task);

/* A pool with `workers` extra threads (>= 1); NULL if threads cannot start. */
rg_pool *rg_pool_new(int workers);
void rg_pool_free(rg_pool *p);
/* Runs fn(arg, t) for t in [0, n), on the caller and the workers; returns
 * when all are done. Tasks must be independent. p may be NULL (inline). */
void rg_pool_run(rg_pool *p, int64_t n, rg_task_fn fn, void *arg);
#endif
