/* The regimes of `regrad study`: a deep MLP trained once per regime, each
 * regime changing one thing (an init, a normalization, a penalty, a clipper, a
 * schedule) against a failing baseline or against the sensible base (ReLU with
 * Kaiming init). Everything not named by a regime comes from the shared setup,
 * so every run sees the same data, seed, step budget and evaluation. */
#ifndef RG_TOOLS_STUDY_GRID_H
#define RG_TOOLS_STUDY_GRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trainer.h"

/* What a regime is in the study's story. */
typedef enum study_role {
  ROLE_VANISHING, /* a failing baseline whose gradients vanish */
  ROLE_EXPLODING, /* a failing baseline whose gradients blow up */
  ROLE_REFERENCE, /* a sensible configuration others are compared with */
  ROLE_REMEDY     /* one remedy applied to a baseline or to the base */
} study_role;

/* Settings shared by every regime. */
typedef struct study_setup {
  int depth, width; /* hidden layers and their width */
  int64_t steps;    /* optimizer steps per regime */
  int64_t batch;
  int64_t train_limit; /* training rows used (0: all) */
  double val_fraction;
  int sample_every; /* per-layer gradient norms are kept every this many steps */
  uint64_t seed;
  const char *isa;
  int threads;
  uint64_t mem_limit; /* --mem-limit: 0 = the default (limits.h), UINT64_MAX = none */
} study_setup;

typedef struct study_regime {
  const char *name;
  const char *family; /* baseline, init, normalization, regularization, clipping, schedule,
                       * combined, papers, depth, ablation */
  study_role role;
  const char *reference; /* the regime it is measured against, or NULL */
  const char *why;       /* one sentence: what changes and what it should show */
  bool quick;            /* part of --quick */
  int depth;             /* hidden layers; 0: the setup's */
  rg_nonlinearity activation;
  rg_init_scheme init;
  float init_scale; /* standard deviation of the naive normal init */
  bool batch_norm;
  float dropout;
  rg_penalty_kind penalty;
  float penalty_lambda, l1_ratio;
  rg_optim_kind optim;
  float lr; /* peak learning rate; 0 means the base's */
  float weight_decay;
  bool decoupled;
  float prox_l1, prox_l2;
  rg_clip_mode clip;
  float clip_threshold; /* value, max norm, AGC lambda or EMA factor */
  rg_sched_kind schedule;
} study_regime;

/* Every regime, in the order the report lists their configurations. */
const study_regime *study_regimes(int *n);

/* The regime named name, or NULL. */
const study_regime *study_regime_find(const char *name);

/* The base learning rate and momentum of SGD, shared by regimes that do not
 * set their own. */
#define STUDY_BASE_LR 0.01f
#define STUDY_MOMENTUM 0.9f

/* The training configuration of a regime under setup (data sets are left
 * NULL for the caller). */
void study_regime_config(const study_regime *r, const study_setup *setup, train_config *c);

/* One line describing a configuration as trained: activation, init, model
 * extras, loss terms, optimizer, schedule and clipping. */
void study_config_describe(const train_config *c, char *buf, size_t size);

/* "vanishing baseline", "exploding baseline", "reference", "remedy". */
const char *study_role_name(study_role role);

/* The hidden layers of regime r under setup: its own depth, or the setup's. */
int study_regime_depth(const study_regime *r, const study_setup *setup);

/* Selects regimes by a comma-separated list of names or families (a family
 * selects all its regimes, in grid order; NULL or "" for all;
 * quick for the --quick subset when no list is given). Writes at most cap
 * regimes to out and returns how many, or -1 with the unknown name in
 * bad (size bad_size). */
int study_select(const char *list, bool quick, const study_regime **out, int cap, char *bad,
                 size_t bad_size);

#endif
