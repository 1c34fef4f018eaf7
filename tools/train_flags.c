/* The training flags: one table, parsed into a train_config (train_flags.h). */
#include "train_flags.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"

#define NO_LIMIT 1e30   /* real flags without an upper bound */
#define MAX_COUNT 9007199254740992.0 /* 2^53: counters the library accepts */
#define POSITIVE 1e-12  /* the smallest value of flags that must be > 0 */
#define MAX_THREADS 256
#define RG_STRINGIFY_(x) #x
#define RG_STRINGIFY(x) RG_STRINGIFY_(x)

static const arg_choice activations[] = {
    {"relu", RG_RELU}, {"leaky_relu", RG_LEAKY_RELU}, {"tanh", RG_TANH}, {"sigmoid", RG_SIGMOID},
    {NULL, 0}};
static const arg_choice inits[] = {
    {"kaiming-uniform", RG_INIT_KAIMING_UNIFORM}, {"kaiming-normal", RG_INIT_KAIMING_NORMAL},
    {"xavier-uniform", RG_INIT_XAVIER_UNIFORM},   {"xavier-normal", RG_INIT_XAVIER_NORMAL},
    {"orthogonal", RG_INIT_ORTHOGONAL},           {"normal", RG_INIT_NORMAL},
    {"uniform", RG_INIT_UNIFORM},                 {"standard", RG_INIT_STANDARD},
    {NULL, 0}};
static const arg_choice optimizers[] = {
    {"sgd", RG_SGD}, {"adam", RG_ADAM}, {"adamw", RG_ADAMW}, {NULL, 0}};
enum { DECAY_AUTO, DECAY_COUPLED, DECAY_DECOUPLED };
static const arg_choice decay_modes[] = {
    {"auto", DECAY_AUTO}, {"coupled", DECAY_COUPLED}, {"decoupled", DECAY_DECOUPLED}, {NULL, 0}};
static const arg_choice schedules[] = {
    {"constant", RG_SCHED_CONSTANT},       {"step", RG_SCHED_STEP},
    {"multistep", RG_SCHED_MULTISTEP},     {"exponential", RG_SCHED_EXPONENTIAL},
    {"polynomial", RG_SCHED_POLYNOMIAL},   {"inverse-time", RG_SCHED_INVERSE_TIME},
    {"cosine", RG_SCHED_COSINE},           {NULL, 0}};
static const arg_choice clip_modes[] = {
    {"none", RG_CLIP_NONE}, {"value", RG_CLIP_VALUE}, {"norm", RG_CLIP_NORM},
    {"per-tensor", RG_CLIP_PER_TENSOR}, {"agc", RG_CLIP_AGC}, {"ema", RG_CLIP_EMA}, {NULL, 0}};
static const arg_choice norm_types[] = {{"1", 1}, {"2", 2}, {"inf", 0}, {NULL, 0}};
static const arg_choice nonfinite_policies[] = {
    {"error", RG_NONFINITE_ERROR}, {"skip", RG_NONFINITE_SKIP}, {"zero", RG_NONFINITE_ZERO},
    {"propagate", RG_NONFINITE_PROPAGATE}, {NULL, 0}};
static const arg_choice dist_modes[] = {
    {"deterministic", RG_DIST_DETERMINISTIC}, {"fast", RG_DIST_FAST}, {NULL, 0}};
/* Value 0 is "auto" (the library's choice, REGRAD_ISA honoured). */
static const arg_choice isas[] = {
    {"auto", 0}, {"scalar", 1}, {"avx2", 2}, {"avx512", 3}, {"neon", 4}, {NULL, 0}};

/* Flags that may differ between the ranks of a --dist run: where files
 * are, how the work is done on each host, and what rank 0 alone does. */
static const char *const per_rank_flags[] = {"data", "threads", "isa", "quiet", "log", "load",
                                             "save", "save-every", "keep", "alerts", "mem-limit",
                                             NULL};

/* Flag values that need translating into the config. */
typedef struct flag_values {
  arg_list layers, milestones;
  int activation, init, optimizer, decay, schedule, clip, norm_type, nonfinite, isa;
  float l1, l2, elastic, lr;
} flag_values;

static flag_values values_from(const train_config *c) {
  const rg_trainer_config *r = &c->run;
  flag_values v = {.activation = c->model.activation, .init = c->init, .optimizer = c->optim.kind,
                   .decay = DECAY_AUTO, .schedule = r->schedule.kind, .clip = r->clip.mode,
                   .norm_type = isinf(r->clip.norm_type) ? 0 : (int)r->clip.norm_type,
                   .nonfinite = r->clip.nonfinite, .lr = r->schedule.lr0};
  v.layers.n = c->model.hidden;
  for (int i = 0; i < c->model.hidden; i++) v.layers.v[i] = c->model.widths[i];
  return v;
}

/* An inconsistent combination of flags: the message and a pointer to the
 * usage; exit status 2. */
static int refuse(const char *name, const char *what) {
  args_complain(name, "%s (see %s --help)", what, name);
  return 2;
}

static int online_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Weight decay: coupled for SGD and Adam, decoupled for AdamW, unless
 * --decay says otherwise; AdamW cannot be coupled. */
static int apply_decay(const char *name, const flag_values *v, rg_optim_config *o) {
  if (o->kind == RG_ADAMW && v->decay == DECAY_COUPLED)
    return refuse(name, "--optimizer adamw always decouples weight decay; use --optimizer adam "
                        "--decay coupled for coupled decay");
  o->decoupled = v->decay == DECAY_DECOUPLED;
  return -1;
}

/* Moves the translated values into the config; returns -1, or 2 for an
 * inconsistent combination. */
static int apply(const char *name, const flag_values *v, train_options *o) {
  train_config *c = &o->config;
  rg_trainer_config *r = &c->run;
  c->model.hidden = v->layers.n;
  for (int i = 0; i < v->layers.n; i++) c->model.widths[i] = (int)v->layers.v[i];
  c->model.activation = (rg_nonlinearity)v->activation;
  c->init = (rg_init_scheme)v->init;
  if (c->init_gain != 0.0f && (c->init == RG_INIT_NORMAL || c->init == RG_INIT_UNIFORM ||
                               c->init == RG_INIT_STANDARD))
    return refuse(name, "--init-gain applies to xavier-*, kaiming-* and orthogonal; --init "
                        "normal, uniform and standard have no gain");
  int penalties = (v->l1 > 0) + (v->l2 > 0) + (v->elastic > 0);
  if (penalties > 1) return refuse(name, "--l1, --l2 and --elastic-net exclude each other");
  r->penalty = v->l1 > 0 ? RG_PENALTY_L1 : v->l2 > 0 ? RG_PENALTY_L2
             : v->elastic > 0 ? RG_PENALTY_ELASTIC : RG_PENALTY_NONE;
  r->penalty_lambda = v->l1 + v->l2 + v->elastic;
  c->optim.kind = (rg_optim_kind)v->optimizer;
  int code = apply_decay(name, v, &c->optim);
  if (code >= 0) return code;
  c->optim.lr = r->schedule.lr0 = v->lr;
  r->schedule.kind = (rg_sched_kind)v->schedule;
  if (v->milestones.n > RG_MAX_MILESTONES)
    return refuse(name, "--milestones takes at most " RG_STRINGIFY(RG_MAX_MILESTONES) " steps");
  r->schedule.n_milestones = v->milestones.n;
  for (int i = 0; i < v->milestones.n; i++) r->schedule.milestones[i] = v->milestones.v[i];
  if (r->schedule.kind == RG_SCHED_MULTISTEP && v->milestones.n == 0)
    return refuse(name, "--schedule multistep needs --milestones");
  r->clip.mode = (rg_clip_mode)v->clip;
  r->clip.norm_type = v->norm_type ? (float)v->norm_type : INFINITY;
  r->clip.nonfinite = (rg_nonfinite)v->nonfinite;
  c->isa = v->isa ? args_choice_name(isas, v->isa) : NULL;
  if (c->threads == 0) c->threads = online_cpus();
  if (c->optim.decay_schedule_only && !c->optim.decoupled && c->optim.kind != RG_ADAMW)
    return refuse(name, "--decay-schedule-only applies to decoupled decay (--decay decoupled or "
                        "--optimizer adamw)");
  if (r->save_every && !r->save_path) return refuse(name, "--save-every needs --save");
  if (r->keep && !r->save_every) return refuse(name, "--keep needs --save-every");
  if (o->kfold && o->dist.enabled) return refuse(name, "--kfold and --dist exclude each other");
  if (o->kfold && (r->save_path || c->load_path))
    return refuse(name, "--kfold trains several models: it cannot be combined with --save or --load");
  if (r->early_stop && c->val_fraction == 0.0)
    return refuse(name, "--early-stop needs a validation set (--val-fraction > 0)");
  return -1;
}

/* The settings every rank of a --dist run must share, one "flag=value"
 * line each, into o->config_text. */
static void dump_shared(const arg_command *cmd, train_options *o) {
  size_t at = 0;
  o->config_text[0] = '\0';
  for (int i = 0; i < cmd->n_specs && at < sizeof o->config_text; i++) {
    const arg_spec *s = &cmd->specs[i];
    bool local = false;
    for (int k = 0; per_rank_flags[k]; k++) local = local || !strcmp(s->name, per_rank_flags[k]);
    if (local) continue;
    char value[512];
    args_value_text(s, value, sizeof value);
    at += (size_t)snprintf(o->config_text + at, sizeof o->config_text - at, "%s=%s\n", s->name,
                           value);
  }
}

int train_flags_parse(const char *name, const char *synopsis, const char *description, int argc,
                      char **argv, train_options *o) {
  memset(o, 0, sizeof *o);
  train_config *c = &o->config;
  rg_trainer_config *r = &c->run;
  rg_optim_config *op = &c->optim;
  train_config_defaults(c);
  flag_values v = values_from(c);
  const arg_spec specs[] = {
      {"layers", ARG_LIST, &v.layers, 1, 1 << 20, NULL, "W,W,...", "hidden layer widths (none: a linear model)"},
      {"activation", ARG_CHOICE, &v.activation, 0, 0, activations, NULL, "hidden activation"},
      {"leaky-slope", ARG_FLOAT, &c->model.leaky_slope, 0, 1, NULL, "A", "leaky_relu slope for x < 0"},
      {"init", ARG_CHOICE, &v.init, 0, 0, inits, NULL, "weight initialization; xavier-*: gain 1 unless --init-gain; kaiming-*: the activation's gain (classifier: 1); orthogonal: gain 1; standard: U(+-1/sqrt(fan_in)), PyTorch's nn.Linear"},
      {"init-scale", ARG_FLOAT, &c->init_scale, POSITIVE, NO_LIMIT, NULL, "S", "std (normal) or bound (uniform) of the naive inits"},
      {"init-gain", ARG_FLOAT, &c->init_gain, POSITIVE, NO_LIMIT, NULL, "G", "gain of xavier-*, kaiming-* and orthogonal for every layer, the classifier's too; unset (0): each scheme's own"},
      {"batch-norm", ARG_BOOL, &c->model.batch_norm, 0, 0, NULL, NULL, "batch normalization before each activation"},
      {"dropout", ARG_FLOAT, &c->model.dropout, 0, 0.99, NULL, "P", "dropout probability after each activation"},
      {"l1", ARG_FLOAT, &v.l1, 0, NO_LIMIT, NULL, "L", "add L sum|w| over the weights to the loss"},
      {"l2", ARG_FLOAT, &v.l2, 0, NO_LIMIT, NULL, "L", "add (L/2) sum w^2 over the weights to the loss"},
      {"elastic-net", ARG_FLOAT, &v.elastic, 0, NO_LIMIT, NULL, "L", "add L (R sum|w| + (1-R)/2 sum w^2)"},
      {"l1-ratio", ARG_FLOAT, &r->l1_ratio, 0, 1, NULL, "R", "the R of --elastic-net"},
      {"label-smoothing", ARG_FLOAT, &r->label_smoothing, 0, 0.99, NULL, "S", "cross-entropy label smoothing"},
      {"optimizer", ARG_CHOICE, &v.optimizer, 0, 0, optimizers, NULL, "optimizer"},
      {"lr", ARG_FLOAT, &v.lr, 0, NO_LIMIT, NULL, "LR", "base learning rate"},
      {"momentum", ARG_FLOAT, &op->momentum, 0, 1, NULL, "M", "SGD momentum"},
      {"dampening", ARG_FLOAT, &op->dampening, 0, 1, NULL, "D", "SGD momentum dampening"},
      {"nesterov", ARG_BOOL, &op->nesterov, 0, 0, NULL, NULL, "Nesterov momentum"},
      {"beta1", ARG_FLOAT, &op->beta1, 0, 0.999999, NULL, "B", "adam, adamw: first-moment decay (0: 0.9)"},
      {"beta2", ARG_FLOAT, &op->beta2, 0, 0.999999, NULL, "B", "adam, adamw: second-moment decay (0: 0.999)"},
      {"eps", ARG_FLOAT, &op->eps, 0, 1, NULL, "E", "adam, adamw: denominator guard (0: 1e-8)"},
      {"weight-decay", ARG_FLOAT, &op->weight_decay, 0, NO_LIMIT, NULL, "L", "weight decay of rank >= 2 parameters"},
      {"decay", ARG_CHOICE, &v.decay, 0, 0, decay_modes, NULL, "weight decay in the gradient (coupled) or on the weights (decoupled); auto: decoupled for adamw only"},
      {"decay-schedule-only", ARG_BOOL, &op->decay_schedule_only, 0, 0, NULL, NULL, "decoupled decay scaled by the schedule's factor alone (lr / lr0), as Loshchilov & Hutter"},
      {"prox-l1", ARG_FLOAT, &op->prox_l1, 0, NO_LIMIT, NULL, "L", "proximal L1 step after each update (exact zeros)"},
      {"prox-l2", ARG_FLOAT, &op->prox_l2, 0, NO_LIMIT, NULL, "L", "proximal L2 shrink after each update (with --prox-l1: elastic net)"},
      {"schedule", ARG_CHOICE, &v.schedule, 0, 0, schedules, NULL, "learning-rate schedule (times in steps)"},
      {"step-size", ARG_INT64, &r->schedule.step_size, 1, MAX_COUNT, NULL, "STEPS", "step: steps between decays"},
      {"gamma", ARG_FLOAT, &r->schedule.gamma, POSITIVE, 1, NULL, "G", "step, multistep, exponential: decay factor"},
      {"milestones", ARG_LIST, &v.milestones, 0, MAX_COUNT, NULL, "S,S,...", "multistep: steps where the rate decays"},
      {"power", ARG_FLOAT, &r->schedule.power, POSITIVE, NO_LIMIT, NULL, "P", "polynomial: exponent"},
      {"decay-k", ARG_FLOAT, &r->schedule.k, 0, NO_LIMIT, NULL, "K", "inverse-time: lr0 / (1 + K t)"},
      {"lr-min", ARG_FLOAT, &r->schedule.lr_min, 0, NO_LIMIT, NULL, "LR", "polynomial, cosine: final rate"},
      {"total-steps", ARG_INT64, &r->schedule.total_steps, 0, MAX_COUNT, NULL, "STEPS", "polynomial, cosine: length (0: the whole run)"},
      {"warmup", ARG_INT64, &r->schedule.warmup_steps, 0, MAX_COUNT, NULL, "STEPS", "linear warmup steps"},
      {"warmup-start", ARG_FLOAT, &r->schedule.warmup_start, 0, 1, NULL, "F", "warmup starts at F x lr"},
      {"clip", ARG_CHOICE, &v.clip, 0, 0, clip_modes, NULL, "gradient clipping"},
      {"clip-value", ARG_FLOAT, &r->clip.value, POSITIVE, NO_LIMIT, NULL, "C", "value: clamp gradients to [-C, C]"},
      {"max-norm", ARG_FLOAT, &r->clip.max_norm, 0, NO_LIMIT, NULL, "N", "norm, per-tensor: largest norm"},
      {"norm-type", ARG_CHOICE, &v.norm_type, 0, 0, norm_types, NULL, "norm: which norm"},
      {"agc-lambda", ARG_FLOAT, &r->clip.agc_lambda, POSITIVE, NO_LIMIT, NULL, "L", "agc: |g_row| <= L |w_row| (classifier exempt)"},
      {"ema-factor", ARG_FLOAT, &r->clip.ema.factor, POSITIVE, NO_LIMIT, NULL, "F", "ema: clip to F x the average norm"},
      {"ema-beta", ARG_FLOAT, &r->clip.ema.beta, 0, 0.9999, NULL, "B", "ema: averaging factor"},
      {"ema-warmup", ARG_INT64, &r->clip.ema.warmup, 0, MAX_COUNT, NULL, "STEPS", "ema: steps before clipping starts"},
      {"z-threshold", ARG_FLOAT, &r->clip.ema.z_threshold, 0, NO_LIMIT, NULL, "Z", "ema: skip steps Z deviations above (0: never)"},
      {"max-skips", ARG_INT64, &r->clip.ema.max_skips, 0, MAX_COUNT, NULL, "N", "ema: most skipped steps in a row before a rise counts as the new level (0: 5)"},
      {"nonfinite", ARG_CHOICE, &v.nonfinite, 0, 0, nonfinite_policies, NULL, "on a NaN/inf loss or gradient"},
      {"epochs", ARG_INT, &r->epochs, 1, 1e6, NULL, "N", "passes over the training set"},
      {"batch", ARG_INT64, &r->batch, 1, 1 << 24, NULL, "N", "rows per step"},
      {"max-steps", ARG_INT64, &r->max_steps, 0, MAX_COUNT, NULL, "N", "stop after N steps in all (0: no limit)"},
      {"early-stop", ARG_INT, &r->early_stop, 0, 1e6, NULL, "P", "stop after P epochs without a better validation loss, restoring the best weights (0: off)"},
      {"seed", ARG_UINT64, &c->seed, 0, 0, NULL, "N", "seed of init, dropout, split and shuffling"},
      {"isa", ARG_CHOICE, &v.isa, 0, 0, isas, NULL, "kernel ISA (auto: best, or REGRAD_ISA)"},
      {"threads", ARG_INT, &c->threads, 0, MAX_THREADS, NULL, "N", "threads (0: one per online CPU)"},
      {"mem-limit", ARG_BYTES, &c->mem_limit, 0, 0, NULL, "BYTES", "most memory a context holds, e.g. 8G (auto: 3/4 of RAM or of the cgroup limit; 0: none)"},
      {"data", ARG_STRING, &c->data_dir, 0, 0, NULL, "DIR", "MNIST-format directory (default " RG_DEFAULT_DATA_DIR ")"},
      {"train-limit", ARG_INT64, &c->train_limit, 0, MAX_COUNT, NULL, "N", "use N random training rows (0: all)"},
      {"val-fraction", ARG_DOUBLE, &c->val_fraction, 0, 0.99, NULL, "F", "fraction of the training rows held out"},
      {"kfold", ARG_INT, &o->kfold, 2, 1000, NULL, "K", "K-fold cross-validation on the training set"},
      {"save", ARG_STRING, &r->save_path, 0, 0, NULL, "FILE", "checkpoint after every epoch and when training ends (also on Ctrl-C)"},
      {"save-every", ARG_INT64, &r->save_every, 0, MAX_COUNT, NULL, "N", "also save every N steps"},
      {"keep", ARG_INT, &r->keep, 0, 1e6, NULL, "K", "keep the last K of those as FILE.step-<step>"},
      {"load", ARG_STRING, &c->load_path, 0, 0, NULL, "FILE", "checkpoint to resume from"},
      {"log", ARG_STRING, &c->log_csv, 0, 0, NULL, "FILE.csv", "per-step per-parameter diagnostics and the step's loss, lr, norm and clip scale"},
      {"alerts", ARG_BOOL, &c->alerts, 0, 0, NULL, NULL, "print vanishing/exploding gradient alerts as training runs"},
      {"vanish", ARG_FLOAT, &c->vanish, 0, NO_LIMIT, NULL, "G", "alert when a parameter's |g| < G"},
      {"explode", ARG_FLOAT, &c->explode, 0, NO_LIMIT, NULL, "G", "alert when a parameter's |g| > G"},
      {"anomaly", ARG_BOOL, &c->anomaly, 0, 0, NULL, NULL, "name the first op that makes a NaN or infinity (slower)"},
      {"quiet", ARG_BOOL, &c->quiet, 0, 0, NULL, NULL, "no progress output"},
      {"dist", ARG_BOOL, &o->dist.enabled, 0, 0, NULL, NULL, "data-parallel over MPI (run under mpiexec; docs/distributed.md)"},
      {"dist-mode", ARG_CHOICE, &o->dist.mode, 0, 0, dist_modes, NULL, "--dist: deterministic (same bits for any power-of-two rank count) or fast"},
      {"grad-shards", ARG_INT, &o->dist.grad_shards, 0, 1 << 24, NULL, "S", "--dist deterministic: shards per batch, a power of two, at most --batch (0: the rank count)"},
      {"bucket-kib", ARG_INT, &o->dist.bucket_kib, 0, 262144, NULL, "K", "--dist: gradient exchanged in K KiB pieces (0: 4096)"},
  };
  const arg_command cmd = {name, synopsis, description, specs, (int)(sizeof specs / sizeof specs[0])};
  arg_result res = args_parse(&cmd, argc, argv);
  if (res != ARGS_OK) return args_exit_code(res);
  dump_shared(&cmd, o);
  return apply(name, &v, o);
}
