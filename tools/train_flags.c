/* The training flags: one table, parsed into a train_config (train_flags.h). */
#include "train_flags.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"

#define NO_LIMIT 1e30   /* real flags without an upper bound */
#define NO_COUNT 9e18   /* integer flags without an upper bound */
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
    {"uniform", RG_INIT_UNIFORM},                 {NULL, 0}};
static const arg_choice optimizers[] = {
    {"sgd", RG_SGD}, {"adam", RG_ADAM}, {"adamw", RG_ADAMW}, {NULL, 0}};
static const arg_choice decay_modes[] = {{"coupled", 0}, {"decoupled", 1}, {NULL, 0}};
static const arg_choice schedules[] = {
    {"constant", RG_SCHED_CONSTANT},       {"step", RG_SCHED_STEP},
    {"multistep", RG_SCHED_MULTISTEP},     {"exponential", RG_SCHED_EXPONENTIAL},
    {"polynomial", RG_SCHED_POLYNOMIAL},   {"inverse-time", RG_SCHED_INVERSE_TIME},
    {"cosine", RG_SCHED_COSINE},           {NULL, 0}};
static const arg_choice clip_modes[] = {
    {"none", CLIP_NONE}, {"value", CLIP_VALUE}, {"norm", CLIP_NORM},
    {"per-tensor", CLIP_PER_TENSOR}, {"agc", CLIP_AGC}, {"ema", CLIP_EMA}, {NULL, 0}};
static const arg_choice norm_types[] = {{"1", 1}, {"2", 2}, {"inf", 0}, {NULL, 0}};
static const arg_choice nonfinite_policies[] = {
    {"error", RG_NONFINITE_ERROR}, {"skip", RG_NONFINITE_SKIP}, {"zero", RG_NONFINITE_ZERO},
    {"propagate", RG_NONFINITE_PROPAGATE}, {NULL, 0}};
static const arg_choice dist_modes[] = {
    {"deterministic", RG_DIST_DETERMINISTIC}, {"fast", RG_DIST_FAST}, {NULL, 0}};
/* Value 0 is "auto" (the library's choice, REGRAD_ISA honoured). */
static const arg_choice isas[] = {
    {"auto", 0}, {"scalar", 1}, {"avx2", 2}, {"avx512", 3}, {"neon", 4}, {NULL, 0}};

/* Flag values that need translating into the config. */
typedef struct flag_values {
  arg_list layers, milestones;
  int activation, init, optimizer, decay, schedule, clip, norm_type, nonfinite, isa;
  float l1, l2, elastic, lr;
} flag_values;

static flag_values values_from(const train_config *c) {
  flag_values v = {.activation = c->model.activation, .init = c->init, .optimizer = c->optim.kind,
                   .decay = c->optim.decoupled, .schedule = c->schedule.kind, .clip = c->clip,
                   .norm_type = isinf(c->clip_norm_type) ? 0 : (int)c->clip_norm_type,
                   .nonfinite = c->nonfinite, .lr = c->schedule.lr0};
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

/* Moves the translated values into the config; returns -1, or 2 for an
 * inconsistent combination. */
static int apply(const char *name, const flag_values *v, train_options *o) {
  train_config *c = &o->config;
  c->model.hidden = v->layers.n;
  for (int i = 0; i < v->layers.n; i++) c->model.widths[i] = (int)v->layers.v[i];
  c->model.activation = (rg_nonlinearity)v->activation;
  c->init = (rg_init_scheme)v->init;
  int penalties = (v->l1 > 0) + (v->l2 > 0) + (v->elastic > 0);
  if (penalties > 1) return refuse(name, "--l1, --l2 and --elastic-net exclude each other");
  c->penalty = v->l1 > 0 ? PENALTY_L1 : v->l2 > 0 ? PENALTY_L2 : v->elastic > 0 ? PENALTY_ELASTIC
                                                                               : PENALTY_NONE;
  c->penalty_lambda = v->l1 + v->l2 + v->elastic;
  c->optim.kind = (rg_optim_kind)v->optimizer;
  c->optim.decoupled = v->decay == 1;
  c->optim.lr = c->schedule.lr0 = v->lr;
  c->schedule.kind = (rg_sched_kind)v->schedule;
  if (v->milestones.n > RG_MAX_MILESTONES)
    return refuse(name, "--milestones takes at most " RG_STRINGIFY(RG_MAX_MILESTONES) " steps");
  c->schedule.n_milestones = v->milestones.n;
  for (int i = 0; i < v->milestones.n; i++) c->schedule.milestones[i] = v->milestones.v[i];
  if (c->schedule.kind == RG_SCHED_MULTISTEP && v->milestones.n == 0)
    return refuse(name, "--schedule multistep needs --milestones");
  c->clip = (clip_mode)v->clip;
  c->clip_norm_type = v->norm_type ? (float)v->norm_type : INFINITY;
  c->nonfinite = (rg_nonfinite)v->nonfinite;
  c->isa = v->isa ? args_choice_name(isas, v->isa) : NULL;
  if (c->threads == 0) c->threads = online_cpus();
  if (o->kfold && o->dist.enabled) return refuse(name, "--kfold and --dist exclude each other");
  if (o->kfold && (c->save_path || c->load_path))
    return refuse(name, "--kfold trains several models: it cannot be combined with --save or --load");
  return -1;
}

int train_flags_parse(const char *name, const char *synopsis, const char *description, int argc,
                      char **argv, train_options *o) {
  memset(o, 0, sizeof *o);
  train_config *c = &o->config;
  train_config_defaults(c);
  flag_values v = values_from(c);
  const arg_spec specs[] = {
      {"layers", ARG_LIST, &v.layers, 1, 1 << 20, NULL, "W,W,...", "hidden layer widths (none: a linear model)"},
      {"activation", ARG_CHOICE, &v.activation, 0, 0, activations, NULL, "hidden activation"},
      {"leaky-slope", ARG_FLOAT, &c->model.leaky_slope, 0, 1, NULL, "A", "leaky_relu slope for x < 0"},
      {"init", ARG_CHOICE, &v.init, 0, 0, inits, NULL, "weight initialization"},
      {"init-scale", ARG_FLOAT, &c->init_scale, POSITIVE, NO_LIMIT, NULL, "S", "std (normal) or bound (uniform) of the naive inits"},
      {"batch-norm", ARG_BOOL, &c->model.batch_norm, 0, 0, NULL, NULL, "batch normalization before each activation"},
      {"dropout", ARG_FLOAT, &c->model.dropout, 0, 0.99, NULL, "P", "dropout probability after each activation"},
      {"l1", ARG_FLOAT, &v.l1, 0, NO_LIMIT, NULL, "L", "add L sum|w| over the weights to the loss"},
      {"l2", ARG_FLOAT, &v.l2, 0, NO_LIMIT, NULL, "L", "add (L/2) sum w^2 over the weights to the loss"},
      {"elastic-net", ARG_FLOAT, &v.elastic, 0, NO_LIMIT, NULL, "L", "add L (R sum|w| + (1-R)/2 sum w^2)"},
      {"l1-ratio", ARG_FLOAT, &c->l1_ratio, 0, 1, NULL, "R", "the R of --elastic-net"},
      {"label-smoothing", ARG_FLOAT, &c->label_smoothing, 0, 0.99, NULL, "S", "cross-entropy label smoothing"},
      {"optimizer", ARG_CHOICE, &v.optimizer, 0, 0, optimizers, NULL, "optimizer"},
      {"lr", ARG_FLOAT, &v.lr, 0, NO_LIMIT, NULL, "LR", "base learning rate"},
      {"momentum", ARG_FLOAT, &c->optim.momentum, 0, 1, NULL, "M", "SGD momentum"},
      {"nesterov", ARG_BOOL, &c->optim.nesterov, 0, 0, NULL, NULL, "Nesterov momentum"},
      {"weight-decay", ARG_FLOAT, &c->optim.weight_decay, 0, NO_LIMIT, NULL, "L", "weight decay of rank >= 2 parameters"},
      {"decay", ARG_CHOICE, &v.decay, 0, 0, decay_modes, NULL, "SGD weight decay in the gradient or on the weights"},
      {"schedule", ARG_CHOICE, &v.schedule, 0, 0, schedules, NULL, "learning-rate schedule (times in steps)"},
      {"step-size", ARG_INT64, &c->schedule.step_size, 1, NO_COUNT, NULL, "STEPS", "step: steps between decays"},
      {"gamma", ARG_FLOAT, &c->schedule.gamma, POSITIVE, 1, NULL, "G", "step, multistep, exponential: decay factor"},
      {"milestones", ARG_LIST, &v.milestones, 0, NO_COUNT, NULL, "S,S,...", "multistep: steps where the rate decays"},
      {"power", ARG_FLOAT, &c->schedule.power, POSITIVE, NO_LIMIT, NULL, "P", "polynomial: exponent"},
      {"decay-k", ARG_FLOAT, &c->schedule.k, 0, NO_LIMIT, NULL, "K", "inverse-time: lr0 / (1 + K t)"},
      {"lr-min", ARG_FLOAT, &c->schedule.lr_min, 0, NO_LIMIT, NULL, "LR", "polynomial, cosine: final rate"},
      {"total-steps", ARG_INT64, &c->schedule.total_steps, 0, NO_COUNT, NULL, "STEPS", "polynomial, cosine: length (0: the whole run)"},
      {"warmup", ARG_INT64, &c->schedule.warmup_steps, 0, NO_COUNT, NULL, "STEPS", "linear warmup steps"},
      {"warmup-start", ARG_FLOAT, &c->schedule.warmup_start, 0, 1, NULL, "F", "warmup starts at F x lr"},
      {"clip", ARG_CHOICE, &v.clip, 0, 0, clip_modes, NULL, "gradient clipping"},
      {"clip-value", ARG_FLOAT, &c->clip_value, POSITIVE, NO_LIMIT, NULL, "C", "value: clamp gradients to [-C, C]"},
      {"max-norm", ARG_FLOAT, &c->clip_max_norm, 0, NO_LIMIT, NULL, "N", "norm, per-tensor: largest norm"},
      {"norm-type", ARG_CHOICE, &v.norm_type, 0, 0, norm_types, NULL, "norm: which norm"},
      {"agc-lambda", ARG_FLOAT, &c->agc_lambda, POSITIVE, NO_LIMIT, NULL, "L", "agc: |g_row| <= L |w_row| (classifier exempt)"},
      {"ema-factor", ARG_FLOAT, &c->ema.factor, POSITIVE, NO_LIMIT, NULL, "F", "ema: clip to F x the average norm"},
      {"ema-beta", ARG_FLOAT, &c->ema.beta, 0, 0.9999, NULL, "B", "ema: averaging factor"},
      {"ema-warmup", ARG_INT64, &c->ema.warmup, 0, NO_COUNT, NULL, "STEPS", "ema: steps before clipping starts"},
      {"z-threshold", ARG_FLOAT, &c->ema.z_threshold, 0, NO_LIMIT, NULL, "Z", "ema: skip steps Z deviations above (0: never)"},
      {"nonfinite", ARG_CHOICE, &v.nonfinite, 0, 0, nonfinite_policies, NULL, "on a NaN/inf loss or gradient"},
      {"epochs", ARG_INT, &c->epochs, 1, 1e6, NULL, "N", "passes over the training set"},
      {"batch", ARG_INT64, &c->batch, 1, 1 << 24, NULL, "N", "rows per step"},
      {"max-steps", ARG_INT64, &c->max_steps, 0, NO_COUNT, NULL, "N", "stop after N steps (0: no limit)"},
      {"seed", ARG_UINT64, &c->seed, 0, 0, NULL, "N", "seed of init, dropout, split and shuffling"},
      {"isa", ARG_CHOICE, &v.isa, 0, 0, isas, NULL, "kernel ISA (auto: best, or REGRAD_ISA)"},
      {"threads", ARG_INT, &c->threads, 0, MAX_THREADS, NULL, "N", "threads (0: one per online CPU)"},
      {"mem-limit", ARG_BYTES, &c->mem_limit, 0, 0, NULL, "BYTES", "most memory a context holds, e.g. 8G (auto: 3/4 of RAM or of the cgroup limit; 0: none)"},
      {"data", ARG_STRING, &c->data_dir, 0, 0, NULL, "DIR", "MNIST-format directory (default " RG_DEFAULT_DATA_DIR ")"},
      {"train-limit", ARG_INT64, &c->train_limit, 0, NO_COUNT, NULL, "N", "use N random training rows (0: all)"},
      {"val-fraction", ARG_DOUBLE, &c->val_fraction, 0, 0.99, NULL, "F", "fraction of the training rows held out"},
      {"kfold", ARG_INT, &o->kfold, 2, 1000, NULL, "K", "K-fold cross-validation on the training set"},
      {"save", ARG_STRING, &c->save_path, 0, 0, NULL, "FILE", "checkpoint written after every epoch"},
      {"load", ARG_STRING, &c->load_path, 0, 0, NULL, "FILE", "checkpoint to start from"},
      {"log", ARG_STRING, &c->log_csv, 0, 0, NULL, "FILE.csv", "per-step per-parameter diagnostics"},
      {"quiet", ARG_BOOL, &c->quiet, 0, 0, NULL, NULL, "no progress output"},
      {"dist", ARG_BOOL, &o->dist.enabled, 0, 0, NULL, NULL, "data-parallel over MPI (run under mpiexec; docs/distributed.md)"},
      {"dist-mode", ARG_CHOICE, &o->dist.mode, 0, 0, dist_modes, NULL, "--dist: deterministic (same bits for any power-of-two rank count) or fast"},
      {"grad-shards", ARG_INT, &o->dist.grad_shards, 0, 1 << 20, NULL, "S", "--dist deterministic: shards per batch, a power of two (0: the rank count)"},
      {"bucket-kib", ARG_INT, &o->dist.bucket_kib, 0, 262144, NULL, "K", "--dist: gradient exchanged in K KiB pieces (0: 4096)"},
  };
  const arg_command cmd = {name, synopsis, description, specs, (int)(sizeof specs / sizeof specs[0])};
  arg_result r = args_parse(&cmd, argc, argv);
  if (r != ARGS_OK) return args_exit_code(r);
  return apply(name, &v, o);
}
