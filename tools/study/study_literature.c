/* Published claims and the rules that judge them on the study's
 * measurements (study_literature.h). docs/study.md lists the rules. */
#include "study_literature.h"

#include <math.h>
#include <stddef.h>

/* The step-0 first/last ratio's 95% interval of a, with a first layer whose
 * gradient is 0 (or not finite) in every seed read as [0, 0]: below any
 * ratio. False when there is no interval (one seed, or some seeds only). */
static bool ratio_band(const study_agg *a, double *lo, double *hi) {
  if (a->sig0.n >= 2 && isfinite(a->sig0.lo) && isfinite(a->sig0.hi)) {
    *lo = a->sig0.lo, *hi = a->sig0.hi;
    return true;
  }
  if (a->sig0.n == 0 && a->first0.n == 0 && a->last0.n >= 2) {
    *lo = *hi = 0.0;
    return true;
  }
  return false;
}

static bool has_interval(const study_ci *c) { return c->n >= 2 && isfinite(c->lo); }

/* agree when a's interval lies above b's, disagree when below, else inconclusive */
static study_verdict above(const study_ci *a, const study_ci *b) {
  if (!has_interval(a) || !has_interval(b)) return VERDICT_NOT_MEASURED;
  if (a->lo > b->hi) return VERDICT_AGREE;
  if (a->hi < b->lo) return VERDICT_DISAGREE;
  return VERDICT_INCONCLUSIVE;
}

/* agree when the ratio interval lies inside [1/10, 10], disagree when wholly
 * outside it, inconclusive when it straddles a bound */
static study_verdict same_order(const study_agg *a) {
  double lo, hi;
  if (!ratio_band(a, &lo, &hi)) return VERDICT_NOT_MEASURED;
  if (lo >= 1.0 / STUDY_SAME_ORDER && hi <= STUDY_SAME_ORDER) return VERDICT_AGREE;
  if (hi < 1.0 / STUDY_SAME_ORDER || lo > STUDY_SAME_ORDER) return VERDICT_DISAGREE;
  return VERDICT_INCONCLUSIVE;
}

/* Every verdict agree: agree; any disagree: disagree; else the first other. */
static study_verdict all_of(const study_verdict *v, int n) {
  study_verdict out = VERDICT_AGREE;
  for (int i = 0; i < n; i++)
    if (v[i] == VERDICT_DISAGREE) return VERDICT_DISAGREE;
  for (int i = 0; i < n && out == VERDICT_AGREE; i++) out = v[i];
  return out;
}

/* The first regime's step-0 ratio of the same order (Glorot, Saxe). */
static study_verdict first_same_order(const claim_aggs a, int classes) {
  (void)classes;
  return same_order(a[0]);
}

/* The first regime's validation above the second's (Glorot, Ioffe). */
static study_verdict first_above_second(const claim_aggs a, int classes) {
  (void)classes;
  return above(&a[0]->val, &a[1]->val);
}

static study_verdict he_stall(const claim_aggs a, int classes) {
  const study_agg *kaiming = a[0], *xavier = a[1];
  if (kaiming->diverged) return VERDICT_DISAGREE;
  bool stalled = xavier->diverged > 0 ||
                 (classes > 0 && xavier->val.mean <= 1.0 / classes + STUDY_CHANCE_POINTS);
  study_verdict v = above(&kaiming->val, &xavier->val);
  if (v == VERDICT_AGREE && !stalled) return VERDICT_DISAGREE; /* both learned */
  return v;
}

static study_verdict ioffe_higher_lr(const claim_aggs a, int classes) {
  (void)classes;
  const study_agg *with = a[0], *without = a[1];
  if (!with->diverged && without->diverged) return VERDICT_AGREE;
  if (with->diverged && !without->diverged) return VERDICT_DISAGREE;
  return above(&with->val, &without->val);
}

/* Both regimes' ratio intervals above 10: agree; both below 10: disagree. */
static study_verdict yang_explosion(const claim_aggs a, int classes) {
  (void)classes;
  int up = 0, down = 0;
  for (int i = 0; i < 2; i++) {
    double lo, hi;
    if (!ratio_band(a[i], &lo, &hi)) return VERDICT_NOT_MEASURED;
    up += lo > STUDY_SAME_ORDER;
    down += hi < STUDY_SAME_ORDER;
  }
  return up == 2 ? VERDICT_AGREE : down == 2 ? VERDICT_DISAGREE : VERDICT_INCONCLUSIVE;
}

static study_verdict he_depth(const claim_aggs a, int classes) {
  (void)classes;
  study_verdict v[STUDY_CLAIM_REGIMES];
  for (int i = 0; i < STUDY_CLAIM_REGIMES; i++) v[i] = same_order(a[i]);
  return all_of(v, STUDY_CLAIM_REGIMES);
}

/* Each deeper regime's ratio interval below the shallower one's (or its
 * first layer's gradient 0 in every seed). */
static study_verdict vanishing_depth(const claim_aggs a, int classes) {
  (void)classes;
  study_verdict v[STUDY_CLAIM_REGIMES - 1];
  for (int i = 0; i + 1 < STUDY_CLAIM_REGIMES; i++) {
    double slo, shi, dlo, dhi;
    if (!ratio_band(a[i], &slo, &shi) || !ratio_band(a[i + 1], &dlo, &dhi))
      return VERDICT_NOT_MEASURED;
    bool deep_gone = dhi == 0.0, shallow_gone = shi == 0.0;
    if (deep_gone)
      v[i] = VERDICT_AGREE;
    else if (shallow_gone || dlo > shi)
      v[i] = VERDICT_DISAGREE;
    else
      v[i] = dhi < slo ? VERDICT_AGREE : VERDICT_INCONCLUSIVE;
  }
  return all_of(v, STUDY_CLAIM_REGIMES - 1);
}

static const study_claim claims[] = {
    {"Glorot & Bengio 2010",
     "The normalized init keeps the variances of activations and back-propagated gradients "
     "about constant across layers, so every layer's weight gradient is of the same order "
     "(the paper's tanh net: 5 hidden layers of 1000).",
     {"glorot-normalized-tanh", "glorot-standard-tanh"},
     "agree if glorot-normalized-tanh's step-0 first/last interval lies inside [1/10, 10], "
     "disagree if wholly outside, else inconclusive; the study records |dL/dW| only, not the "
     "back-propagated dL/ds that shrinks under the standard init in the paper",
     first_same_order},
    {"Glorot & Bengio 2010",
     "With tanh, the normalized init trains to a better error than the standard init.",
     {"glorot-normalized-tanh", "glorot-standard-tanh"},
     "agree if glorot-normalized-tanh's validation interval lies above glorot-standard-tanh's, "
     "disagree if below, else inconclusive",
     first_above_second},
    {"He et al. 2015",
     "A 30-layer ReLU net with Xavier init stalls and does not learn, while their init "
     "(Kaiming) converges.",
     {"he-kaiming-relu-30", "he-xavier-relu-30"},
     "agree if he-kaiming-relu-30 did not diverge, its validation interval lies above "
     "he-xavier-relu-30's, and he-xavier-relu-30 diverged in a seed or its mean is within 5 "
     "points of chance; disagree if the intervals are the other way round, Kaiming diverged, "
     "or both learned; else inconclusive",
     he_stall},
    {"He et al. 2015",
     "Their init keeps the signal's scale through any number of ReLU layers (the product of "
     "the per-layer factors is 1).",
     {"depth-kaiming-10", "depth-kaiming-20", "depth-kaiming-40", "depth-kaiming-60"},
     "agree if every depth's step-0 first/last interval lies inside [1/10, 10], disagree if one "
     "lies wholly outside, else inconclusive",
     he_depth},
    {"Hochreiter 1991; Bengio et al. 1994",
     "A gradient that shrinks at every layer vanishes exponentially with depth.",
     {"depth-sigmoid-small-10", "depth-sigmoid-small-20", "depth-sigmoid-small-40",
      "depth-sigmoid-small-60"},
     "agree if each deeper regime's step-0 first/last interval lies below the shallower one's "
     "(or its first layer's gradient is 0 in every seed), disagree if one lies above, else "
     "inconclusive",
     vanishing_depth},
    {"Saxe et al. 2014",
     "An orthogonal init (every singular value 1, dynamical isometry) carries the gradient to "
     "the input at the output's scale; in deep linear nets learning time then does not grow "
     "with depth (not measured here: one depth).",
     {"orthogonal-tanh", "xavier-tanh"},
     "agree if orthogonal-tanh's step-0 first/last interval lies inside [1/10, 10], disagree "
     "if wholly outside, else inconclusive",
     first_same_order},
    {"Ioffe & Szegedy 2015",
     "Batch norm speeds up training: the same number of steps reaches a higher accuracy.",
     {"relu-batchnorm", "kaiming"},
     "agree if relu-batchnorm's validation interval lies above kaiming's, disagree if below, "
     "else inconclusive",
     first_above_second},
    {"Ioffe & Szegedy 2015", "Batch norm allows a much higher learning rate.",
     {"combined", "combined-minus-bn"},
     "at combined's rate 0.05: agree if combined-minus-bn diverged in a seed and combined in "
     "none, or combined's validation interval lies above combined-minus-bn's; disagree the "
     "other way round; else inconclusive",
     ioffe_higher_lr},
    {"Yang et al. 2019",
     "At initialization, batch norm makes the gradient explode toward the input of a deep "
     "network.",
     {"relu-batchnorm", "combined"},
     "agree if both regimes' step-0 first/last intervals lie above 10, disagree if both lie "
     "below 10, else inconclusive",
     yang_explosion},
};

#define N_CLAIMS ((int)(sizeof claims / sizeof claims[0]))

int study_claim_count(void) { return N_CLAIMS; }

const study_claim *study_claim_at(int i) { return i >= 0 && i < N_CLAIMS ? &claims[i] : NULL; }

study_verdict study_claim_verdict(const study_claim *c, const study_agg *aggs, int n,
                                  int classes) {
  claim_aggs a = {NULL};
  for (int i = 0; i < STUDY_CLAIM_REGIMES && c->regimes[i]; i++) {
    a[i] = study_find_agg(aggs, n, c->regimes[i]);
    if (!a[i]) return VERDICT_NOT_RUN;
  }
  for (int i = 0; i < STUDY_CLAIM_REGIMES && a[i]; i++)
    if (a[i]->failed || a[i]->seeds < 2) return VERDICT_NOT_MEASURED;
  return c->judge(a, classes);
}

const char *study_verdict_name(study_verdict v) {
  switch (v) {
    case VERDICT_AGREE:
      return "agree";
    case VERDICT_DISAGREE:
      return "disagree";
    case VERDICT_INCONCLUSIVE:
      return "inconclusive";
    case VERDICT_NOT_MEASURED:
      return "not measured";
    default:
      return "not run";
  }
}
