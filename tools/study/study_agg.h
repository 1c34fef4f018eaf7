/* One regime over its seeds: the per-seed runs and what the report states
 * about them (means with 95% intervals, geometric means for the gradient
 * ratios, how many seeds diverged), and the ranking by mean validation
 * accuracy with the groups the intervals cannot separate. */
#ifndef RG_TOOLS_STUDY_AGG_H
#define RG_TOOLS_STUDY_AGG_H

#include "study_run.h"
#include "study_stats.h"

typedef struct study_agg {
  const study_regime *regime;
  const study_run *runs; /* [seeds], seed order (setup.seed, setup.seed + 1, ...) */
  int seeds;
  int diverged, failed; /* seeds whose run diverged; that could not run */
  study_ci val, test, train;
  study_ci tail_loss;               /* over the seeds that did not diverge */
  study_ci sparsity;
  study_ci sig0, sig_end;           /* geometric: first/last gradient-norm ratio */
  study_ci first0, last0, global0;  /* geometric: step-0 first, last layer and global norms */
  int group; /* set by study_rank: 1, 2, ... for separable groups; 0 for diverged or failed */
} study_agg;

/* The statistics of one regime from its seeds runs. */
void study_aggregate(const study_run *runs, int seeds, study_agg *agg);

/* A regime with a seed that diverged or failed: ranked last. */
bool study_agg_broken(const study_agg *a);

/* Rank order by mean validation accuracy (higher first; test accuracy is
 * never used), broken regimes last, ties by name; order gets n indices into
 * aggs. Then groups, top down: a regime joins the group of the one above it
 * while its validation interval overlaps the interval of the group's first
 * regime (with one seed no interval separates anything: one group). */
void study_rank(study_agg *aggs, int n, int *order);

/* The aggregate of the regime named name, or NULL. */
const study_agg *study_find_agg(const study_agg *aggs, int n, const char *name);

#endif
