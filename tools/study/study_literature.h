/* The study's measurements against published claims: one claim per row,
 * the regimes that test it, and a verdict computed from their aggregates by
 * a stated rule (never written by hand). Only the aggregates' fields are
 * read, so the unit test links this file with study_rank.c and
 * study_stats.c alone. */
#ifndef RG_TOOLS_STUDY_LITERATURE_H
#define RG_TOOLS_STUDY_LITERATURE_H

#include "study_agg.h"

typedef enum study_verdict {
  VERDICT_AGREE,
  VERDICT_DISAGREE,
  VERDICT_INCONCLUSIVE, /* the intervals overlap where the rule needs them apart */
  VERDICT_NOT_MEASURED, /* a seed failed, one seed (no interval), or no ratio at step 0 */
  VERDICT_NOT_RUN       /* a regime of the claim is not in --grid */
} study_verdict;

#define STUDY_CLAIM_REGIMES 4

/* The regimes of a claim, in the order of its regimes[] (NULL when absent). */
typedef const study_agg *claim_aggs[STUDY_CLAIM_REGIMES];

typedef struct study_claim {
  const char *paper;                          /* "He et al. 2015" */
  const char *claim;                          /* one sentence */
  const char *regimes[STUDY_CLAIM_REGIMES];   /* that test it, NULL-terminated if fewer */
  const char *rule;                           /* the verdict rule in words */
  study_verdict (*judge)(const claim_aggs a, int classes); /* every regime present and measured */
} study_claim;

int study_claim_count(void);
const study_claim *study_claim_at(int i);

/* The verdict of claim c on the aggregates of a study: not run when a
 * regime is missing, not measured when one failed, else the claim's rule. */
study_verdict study_claim_verdict(const study_claim *c, const study_agg *aggs, int n,
                                  int classes);

/* "agree", "disagree", "inconclusive", "not measured", "not run". */
const char *study_verdict_name(study_verdict v);

/* Within this many points of chance (1 / classes), a run learned nothing. */
#define STUDY_CHANCE_POINTS 0.05
/* A first/last ratio within [1/10, 10]: the same order of magnitude. */
#define STUDY_SAME_ORDER 10.0

#endif
