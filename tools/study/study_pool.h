/* Every run of a study (each regime once per seed), up to `--threads` of
 * them at once on one thread each. The results are the same bits as one
 * run after another on any thread count (the reproducibility contract), so
 * going in parallel changes only the wall time. */
#ifndef RG_TOOLS_STUDY_POOL_H
#define RG_TOOLS_STUDY_POOL_H

#include "study_run.h"

/* How the thread budget is spent: runs at once, and threads per run. */
typedef struct study_workers {
  int concurrent, threads_per_run;
} study_workers;

/* threads split over jobs runs: as many runs at once as there are threads
 * (at most jobs), the threads left over going to each run. */
study_workers study_workers_for(int threads, int jobs);

/* Trains regime sel[i] with seed setup->seed + k into runs[i * seeds + k]
 * for every i < n, k < seeds, with one progress bar over all runs. The data
 * sets are shared read-only by every run. Returns how many runs failed to
 * start (their messages are in their results). */
int study_run_all(const study_regime **sel, int n, int seeds, const study_setup *setup,
                  study_workers w, const rg_dataset *train, const rg_dataset *test,
                  study_run *runs);

#endif
