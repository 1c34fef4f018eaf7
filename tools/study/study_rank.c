/* Ranking by mean validation accuracy and its inseparable groups
 * (study_agg.h). Only the aggregates' fields are read, so the unit test
 * links this file alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "study_agg.h"

bool study_agg_broken(const study_agg *a) {
  return a->diverged > 0 || a->failed > 0 || !isfinite(a->val.mean);
}

static const study_agg *rank_aggs;

static int by_validation(const void *pa, const void *pb) {
  const study_agg *a = &rank_aggs[*(const int *)pa], *b = &rank_aggs[*(const int *)pb];
  bool ba = study_agg_broken(a), bb = study_agg_broken(b);
  if (ba != bb) return ba ? 1 : -1;
  if (!ba && a->val.mean != b->val.mean) return a->val.mean > b->val.mean ? -1 : 1;
  return strcmp(a->regime->name, b->regime->name);
}

void study_rank(study_agg *aggs, int n, int *order) {
  for (int i = 0; i < n; i++) order[i] = i;
  rank_aggs = aggs;
  qsort(order, (size_t)n, sizeof *order, by_validation);
  rank_aggs = NULL;
  int group = 0;
  const study_agg *leader = NULL;
  for (int k = 0; k < n; k++) {
    study_agg *a = &aggs[order[k]];
    if (study_agg_broken(a)) {
      a->group = 0;
      continue;
    }
    if (!leader || !study_ci_overlap(&leader->val, &a->val)) {
      leader = a;
      group++;
    }
    a->group = group;
  }
}

const study_agg *study_find_agg(const study_agg *aggs, int n, const char *name) {
  for (int i = 0; name && i < n; i++)
    if (strcmp(aggs[i].regime->name, name) == 0) return &aggs[i];
  return NULL;
}
