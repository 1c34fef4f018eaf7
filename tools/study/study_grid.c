/* The regimes of `regrad study` and their training configurations
 * (study_grid.h). docs/study.md explains each choice. */
#include "study_grid.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SMALL 0.05f /* naive "small" init: N(0, 0.05^2) for every activation */

/* Naive "large" inits: a few times the scale at which a layer keeps the
 * signal's size (sigma sqrt(width) times the activation's slope). What they do
 * to the gradient is measured, not predicted here: at step 0 each layer going
 * back multiplies the gradient by about 1.8 (tanh) to 2 (sigmoid), since
 * saturation lowers the slope (first/last ~1e5 and ~1e6 at depth 20), and
 * ReLU's gradient is about 1e4-1e5 at every layer alike (docs/study.md). */
#define LARGE_RELU 0.2f
#define LARGE_TANH 0.5f
#define LARGE_SIGMOID 4.0f

#define HOT_LR 0.1f /* ten times the base rate: ReLU units die in the first spikes */

#define KAIMING .activation = RG_RELU, .init = RG_INIT_KAIMING_NORMAL
#define HOT KAIMING, .lr = HOT_LR
/* combined's components, each of which an ablation regime removes */
#define COMBINED_(bn, peak, wd, clipper, threshold, sched)                                   \
  KAIMING, .batch_norm = bn, .lr = peak, .weight_decay = wd, .decoupled = (wd) > 0.0f,        \
      .clip = clipper, .clip_threshold = threshold, .schedule = sched
#define COMBINED_LR 0.05f
#define COMBINED_WD 5e-4f
#define COMBINED COMBINED_(true, COMBINED_LR, COMBINED_WD, RG_CLIP_NORM, 5.0f, RG_SCHED_COSINE)

/* A regime of the depth sweep: family depth, not in --quick, compared with the
 * same init at 10 layers (the 10-layer one with the study's own regime). */
#define DEPTH(name, d, ref, role, what, ...)                                                 \
  {name, "depth", role, ref, what " at " #d " hidden layers: how the gradient and accuracy " \
   "change with depth", false, .depth = d, __VA_ARGS__}
/* The four depths of one init: 10 against base, the deeper ones against 10. */
#define SWEEP(key, base, role, what, ...)                                                   \
  DEPTH(key "-10", 10, base, role, what, __VA_ARGS__),                                      \
      DEPTH(key "-20", 20, key "-10", role, what, __VA_ARGS__),                             \
      DEPTH(key "-40", 40, key "-10", role, what, __VA_ARGS__),                             \
      DEPTH(key "-60", 60, key "-10", role, what, __VA_ARGS__)
#define TANH_XAVIER .activation = RG_TANH, .init = RG_INIT_XAVIER_NORMAL
#define SIGMOID_SMALL .activation = RG_SIGMOID, .init = RG_INIT_NORMAL, .init_scale = SMALL

static const study_regime regimes[] = {
    /* failing baselines */
    {"sigmoid-small", "baseline", ROLE_VANISHING, NULL,
     "sigmoid with a small naive init: each layer multiplies the backward signal by about "
     "sigmoid's slope 1/4 x 0.05 x sqrt(width)",
     true, .activation = RG_SIGMOID, .init = RG_INIT_NORMAL, .init_scale = SMALL},
    {"sigmoid-large", "baseline", ROLE_EXPLODING, NULL,
     "sigmoid with a large naive init N(0, 4^2): the units saturate; what the gradient does "
     "across layers is measured",
     false, .activation = RG_SIGMOID, .init = RG_INIT_NORMAL, .init_scale = LARGE_SIGMOID},
    {"tanh-small", "baseline", ROLE_VANISHING, NULL,
     "tanh with a small naive init: activations and gradients both shrink by 0.05 x "
     "sqrt(width) a layer",
     false, .activation = RG_TANH, .init = RG_INIT_NORMAL, .init_scale = SMALL},
    {"tanh-large", "baseline", ROLE_EXPLODING, NULL,
     "tanh with a large naive init N(0, 0.5^2): the chaotic regime of tanh nets, measured "
     "against Xavier",
     true,
     .activation = RG_TANH, .init = RG_INIT_NORMAL, .init_scale = LARGE_TANH},
    {"relu-small", "baseline", ROLE_VANISHING, NULL,
     "ReLU with a small naive init: activations and gradients shrink by 0.05 x sqrt(width / 2) "
     "a layer",
     true, .activation = RG_RELU, .init = RG_INIT_NORMAL, .init_scale = SMALL},
    {"relu-large", "baseline", ROLE_EXPLODING, NULL,
     "ReLU with a large naive init N(0, 0.2^2): activations grow layer by layer, so the whole "
     "gradient is large, at every layer alike",
     true, .activation = RG_RELU, .init = RG_INIT_NORMAL, .init_scale = LARGE_RELU},
    /* initialization */
    {"xavier-sigmoid", "init", ROLE_REMEDY, "sigmoid-small",
     "Xavier (Glorot) normal init, gain 1, on sigmoid: keeps the variance of a linear layer, "
     "not sigmoid's 1/4 slope",
     false, .activation = RG_SIGMOID, .init = RG_INIT_XAVIER_NORMAL},
    {"xavier-tanh", "init", ROLE_REMEDY, "tanh-large",
     "Xavier (Glorot) normal init, Glorot's gain 1, on tanh", true, .activation = RG_TANH,
     .init = RG_INIT_XAVIER_NORMAL},
    {"kaiming", "init", ROLE_REFERENCE, "relu-small",
     "Kaiming (He) normal init, fan-in, gain sqrt 2, on ReLU: the sensible base of the "
     "remedies below",
     true, KAIMING},
    /* the papers' own settings (docs/study.md: "Compared with the literature") */
    {"glorot-standard-tanh", "papers", ROLE_REFERENCE, "glorot-normalized-tanh",
     "Glorot & Bengio 2010's standard init U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on tanh (the "
     "paper: 5 hidden layers of 1000; here the study's depth and width)",
     false, .activation = RG_TANH, .init = RG_INIT_STANDARD},
    {"glorot-normalized-tanh", "papers", ROLE_REMEDY, "glorot-standard-tanh",
     "Glorot & Bengio 2010's normalized init (Xavier uniform, gain 1) on tanh, at the study's "
     "depth and width",
     false, .activation = RG_TANH, .init = RG_INIT_XAVIER_UNIFORM},
    {"he-xavier-relu-30", "papers", ROLE_VANISHING, "he-kaiming-relu-30",
     "He et al. 2015's 30-layer ReLU net with Xavier init (gain 1), which the paper reports "
     "stalls",
     false, .depth = 30, .activation = RG_RELU, .init = RG_INIT_XAVIER_NORMAL},
    {"he-kaiming-relu-30", "papers", ROLE_REMEDY, "he-xavier-relu-30",
     "He et al. 2015's 30-layer ReLU net with their init (Kaiming normal, gain sqrt 2), which "
     "the paper reports converges",
     false, .depth = 30, KAIMING},
    {"orthogonal-tanh", "papers", ROLE_REMEDY, "xavier-tanh",
     "Saxe et al. 2014's orthogonal init (gain 1) on tanh: every singular value of a layer is 1",
     false, .activation = RG_TANH, .init = RG_INIT_ORTHOGONAL},
    {"relu-batchnorm", "papers", ROLE_REMEDY, "kaiming",
     "Ioffe & Szegedy 2015's batch norm before every ReLU, on the Kaiming base", false, KAIMING,
     .batch_norm = true},
    /* normalization */
    {"batchnorm", "normalization", ROLE_REMEDY, "sigmoid-small",
     "batch norm before every activation, on the vanishing sigmoid-small baseline", true,
     .activation = RG_SIGMOID, .init = RG_INIT_NORMAL, .init_scale = SMALL, .batch_norm = true},
    /* regularization, on the Kaiming base */
    {"l2", "regularization", ROLE_REMEDY, "kaiming", "L2 penalty (lambda/2) sum w^2 in the loss",
     false, KAIMING, .penalty = RG_PENALTY_L2, .penalty_lambda = 5e-4f},
    {"adam", "regularization", ROLE_REFERENCE, "kaiming",
     "Adam without decay: the reference for the two weight-decay regimes", false, KAIMING,
     .optim = RG_ADAM, .lr = 1e-3f},
    {"wd-coupled", "regularization", ROLE_REMEDY, "adam",
     "Adam with coupled weight decay (g += wd w, then Adam's scaling)", false, KAIMING,
     .optim = RG_ADAM, .lr = 1e-3f, .weight_decay = 0.05f},
    {"wd-decoupled", "regularization", ROLE_REMEDY, "adam",
     "AdamW: decoupled weight decay (w -= lr wd w), the same wd", false, KAIMING, .optim = RG_ADAMW,
     .lr = 1e-3f, .weight_decay = 0.05f, .decoupled = true},
    {"l1", "regularization", ROLE_REMEDY, "kaiming",
     "L1 penalty lambda sum |w| in the loss, followed by its subgradient; through momentum 0.9 "
     "it pushes weights toward 0 as hard as l1-prox's 10x larger lambda",
     false, KAIMING, .penalty = RG_PENALTY_L1, .penalty_lambda = 5e-4f},
    {"l1-prox", "regularization", ROLE_REMEDY, "kaiming",
     "L1 as a proximal step after each update (soft threshold, outside momentum), which sets "
     "weights to exactly 0",
     false, KAIMING, .prox_l1 = 5e-3f},
    {"elastic-net", "regularization", ROLE_REMEDY, "kaiming",
     "elastic net as proximal steps: soft threshold, then shrink by 1/(1 + lr l2)", false, KAIMING,
     .prox_l1 = 2.5e-3f, .prox_l2 = 2.5e-3f},
    {"dropout", "regularization", ROLE_REMEDY, "kaiming",
     "dropout p = 0.1 after every hidden activation", false, KAIMING, .dropout = 0.1f},
    /* clipping, against a learning rate too hot for the Kaiming base */
    {"relu-hot-lr", "clipping", ROLE_EXPLODING, "kaiming",
     "the Kaiming base at ten times the learning rate: gradient spikes, the baseline of the "
     "clippers",
     true, HOT},
    {"clip-value", "clipping", ROLE_REMEDY, "relu-hot-lr",
     "every gradient element clamped to [-c, c]", false, HOT, .clip = RG_CLIP_VALUE,
     .clip_threshold = 0.01f},
    {"clip-norm", "clipping", ROLE_REMEDY, "relu-hot-lr",
     "global L2 norm of all gradients scaled down to at most max_norm", true, HOT,
     .clip = RG_CLIP_NORM, .clip_threshold = 1.0f},
    {"agc", "clipping", ROLE_REMEDY, "relu-hot-lr",
     "adaptive gradient clipping: each row's gradient at most lambda times its weight's norm "
     "(classifier exempt)",
     false, HOT, .clip = RG_CLIP_AGC, .clip_threshold = 0.02f},
    {"ema-clip", "clipping", ROLE_REMEDY, "relu-hot-lr",
     "global norm clipped to factor x its moving average (beta 0.98, 2 warm-up steps)", false, HOT,
     .clip = RG_CLIP_EMA, .clip_threshold = 1.2f},
    {"clip-norm-init", "clipping", ROLE_REMEDY, "relu-large",
     "global-norm clipping on the exploding relu-large init instead of a fixed init", true,
     .activation = RG_RELU, .init = RG_INIT_NORMAL, .init_scale = LARGE_RELU, .clip = RG_CLIP_NORM,
     .clip_threshold = 1.0f},
    /* learning-rate schedules, on the Kaiming base */
    {"sched-step", "schedule", ROLE_REMEDY, "kaiming",
     "step decay: lr halves every quarter of the run", false, KAIMING, .schedule = RG_SCHED_STEP},
    {"sched-exp", "schedule", ROLE_REMEDY, "kaiming", "exponential decay to lr/10 at the last step",
     false, KAIMING, .schedule = RG_SCHED_EXPONENTIAL},
    {"sched-invtime", "schedule", ROLE_REMEDY, "kaiming",
     "1/t decay lr / (1 + k t), lr/10 at the last step", false, KAIMING,
     .schedule = RG_SCHED_INVERSE_TIME},
    {"sched-cosine", "schedule", ROLE_REMEDY, "kaiming",
     "linear warm-up over the first 5% from lr/10, then cosine to 0", false, KAIMING,
     .schedule = RG_SCHED_COSINE},
    /* everything that helped, together */
    {"combined", "combined", ROLE_REMEDY, "kaiming",
     "Kaiming + batch norm + decoupled weight decay + global-norm clipping + warm-up/cosine, "
     "at a higher peak rate that batch norm tolerates",
     true, COMBINED},
    /* combined less one component each */
    {"combined-minus-bn", "ablation", ROLE_REMEDY, "combined",
     "combined without batch norm, at its peak rate 0.05", false,
     COMBINED_(false, COMBINED_LR, COMBINED_WD, RG_CLIP_NORM, 5.0f, RG_SCHED_COSINE)},
    {"combined-minus-wd", "ablation", ROLE_REMEDY, "combined", "combined without weight decay",
     false, COMBINED_(true, COMBINED_LR, 0.0f, RG_CLIP_NORM, 5.0f, RG_SCHED_COSINE)},
    {"combined-minus-clip", "ablation", ROLE_REMEDY, "combined",
     "combined without global-norm clipping", false,
     COMBINED_(true, COMBINED_LR, COMBINED_WD, RG_CLIP_NONE, 0.0f, RG_SCHED_COSINE)},
    {"combined-minus-schedule", "ablation", ROLE_REMEDY, "combined",
     "combined at a constant rate 0.05 (no warm-up, no cosine)", false,
     COMBINED_(true, COMBINED_LR, COMBINED_WD, RG_CLIP_NORM, 5.0f, RG_SCHED_CONSTANT)},
    {"combined-minus-hotlr", "ablation", ROLE_REMEDY, "combined",
     "combined at the base rate 0.01 instead of 0.05", false,
     COMBINED_(true, STUDY_BASE_LR, COMBINED_WD, RG_CLIP_NORM, 5.0f, RG_SCHED_COSINE)},
    /* the depth sweep of the main inits (family depth, not in --quick) */
    SWEEP("depth-kaiming", "kaiming", ROLE_REFERENCE, "the Kaiming base", KAIMING),
    SWEEP("depth-xavier-tanh", "xavier-tanh", ROLE_REFERENCE, "xavier-tanh", TANH_XAVIER),
    SWEEP("depth-sigmoid-small", "sigmoid-small", ROLE_VANISHING, "sigmoid-small", SIGMOID_SMALL),
};

#define N_REGIMES ((int)(sizeof regimes / sizeof regimes[0]))

const study_regime *study_regimes(int *n) {
  *n = N_REGIMES;
  return regimes;
}

const study_regime *study_regime_find(const char *name) {
  for (int i = 0; i < N_REGIMES; i++)
    if (strcmp(regimes[i].name, name) == 0) return &regimes[i];
  return NULL;
}

const char *study_role_name(study_role role) {
  switch (role) {
    case ROLE_VANISHING:
      return "vanishing baseline";
    case ROLE_EXPLODING:
      return "exploding baseline";
    case ROLE_REFERENCE:
      return "reference";
    default:
      return "remedy";
  }
}

/* The schedule of a regime over a run of total steps at peak rate lr. */
static rg_schedule schedule_for(rg_sched_kind kind, float lr, int64_t total) {
  rg_schedule s = {.kind = kind, .lr0 = lr};
  int64_t t = total > 1 ? total : 2;
  switch (kind) {
    case RG_SCHED_STEP:
      s.step_size = t / 4 > 0 ? t / 4 : 1;
      s.gamma = 0.5f;
      break;
    case RG_SCHED_EXPONENTIAL:
      s.gamma = (float)pow(0.1, 1.0 / (double)(t - 1));
      break;
    case RG_SCHED_INVERSE_TIME:
      s.k = (float)(9.0 / (double)(t - 1));
      break;
    case RG_SCHED_COSINE:
      s.warmup_steps = t / 20;
      s.warmup_start = 0.1f;
      s.total_steps = t - s.warmup_steps;
      break;
    default:
      break;
  }
  return s;
}

int study_regime_depth(const study_regime *r, const study_setup *setup) {
  int d = r->depth > 0 ? r->depth : setup->depth;
  return d < RG_MLP_MAX_LAYERS ? d : RG_MLP_MAX_LAYERS;
}

void study_regime_config(const study_regime *r, const study_setup *setup, train_config *c) {
  train_config_defaults(c);
  c->train_limit = setup->train_limit;
  c->mem_limit = setup->mem_limit;
  c->val_fraction = setup->val_fraction;
  int depth = study_regime_depth(r, setup);
  c->model.hidden = depth;
  for (int i = 0; i < depth && i < RG_MLP_MAX_LAYERS; i++) c->model.widths[i] = setup->width;
  c->model.activation = r->activation;
  c->model.batch_norm = r->batch_norm;
  c->model.dropout = r->dropout;
  c->init = r->init;
  c->init_scale = r->init_scale;
  c->run.penalty = r->penalty;
  c->run.penalty_lambda = r->penalty_lambda;
  c->run.l1_ratio = r->l1_ratio;
  float lr = r->lr > 0.0f ? r->lr : STUDY_BASE_LR;
  rg_optim_config o = {.kind = r->optim,
                       .lr = lr,
                       .weight_decay = r->weight_decay,
                       .decoupled = r->decoupled,
                       .prox_l1 = r->prox_l1,
                       .prox_l2 = r->prox_l2};
  if (r->optim == RG_SGD) o.momentum = STUDY_MOMENTUM;
  c->optim = o;
  c->run.schedule = schedule_for(r->schedule, lr, setup->steps);
  float t = r->clip_threshold;
  /* a non-finite gradient is measured, not hidden: the run records where */
  c->run.clip = (rg_clip_config){.mode = r->clip, .value = t > 0 ? t : 1.0f,
                                 .max_norm = t > 0 ? t : 1.0f, .norm_type = 2.0f,
                                 .agc_lambda = t > 0 ? t : 0.01f,
                                 .ema = {.factor = t > 0 ? t : 2.0f, .beta = 0.98f, .warmup = 2},
                                 .nonfinite = RG_NONFINITE_PROPAGATE};
  c->run.epochs = 1000000;
  c->run.max_steps = setup->steps;
  c->run.batch = setup->batch;
  c->seed = setup->seed;
  c->isa = setup->isa;
  c->threads = setup->threads;
  c->quiet = true;
  c->alerts = false;
}

static const char *activation_name(rg_nonlinearity a) {
  switch (a) {
    case RG_SIGMOID:
      return "sigmoid";
    case RG_TANH:
      return "tanh";
    case RG_LEAKY_RELU:
      return "leaky ReLU";
    default:
      return "ReLU";
  }
}

static void init_text(const train_config *c, char *buf, size_t size) {
  switch (c->init) {
    case RG_INIT_NORMAL:
      snprintf(buf, size, "N(0, %g^2) init", (double)c->init_scale);
      break;
    case RG_INIT_UNIFORM:
      snprintf(buf, size, "U(-%g, %g) init", (double)c->init_scale, (double)c->init_scale);
      break;
    case RG_INIT_XAVIER_NORMAL:
      snprintf(buf, size, "Xavier normal init");
      break;
    case RG_INIT_XAVIER_UNIFORM:
      snprintf(buf, size, "Xavier uniform init");
      break;
    case RG_INIT_KAIMING_NORMAL:
      snprintf(buf, size, "Kaiming normal init");
      break;
    case RG_INIT_KAIMING_UNIFORM:
      snprintf(buf, size, "Kaiming uniform init");
      break;
    case RG_INIT_STANDARD:
      snprintf(buf, size, "standard U(-1/sqrt(fan_in), 1/sqrt(fan_in)) init");
      break;
    default:
      snprintf(buf, size, "orthogonal init");
      break;
  }
}

static void optim_text(const train_config *c, char *buf, size_t size) {
  const rg_optim_config *o = &c->optim;
  int n = o->kind == RG_SGD ? snprintf(buf, size, "SGD momentum %g", (double)o->momentum)
                            : snprintf(buf, size, "%s", o->kind == RG_ADAM ? "Adam" : "AdamW");
  if (o->weight_decay > 0.0f && n >= 0 && (size_t)n < size)
    n += snprintf(buf + n, size - (size_t)n, ", %s weight decay %g",
                  o->kind == RG_ADAMW || o->decoupled ? "decoupled" : "coupled",
                  (double)o->weight_decay);
  if ((o->prox_l1 > 0.0f || o->prox_l2 > 0.0f) && n >= 0 && (size_t)n < size)
    snprintf(buf + n, size - (size_t)n, ", proximal l1 %g l2 %g", (double)o->prox_l1,
             (double)o->prox_l2);
}

static void schedule_text(const rg_schedule *s, char *buf, size_t size) {
  double lr = s->lr0;
  switch (s->kind) {
    case RG_SCHED_STEP:
      snprintf(buf, size, "lr %g x %g every %lld steps", lr, (double)s->gamma,
               (long long)s->step_size);
      break;
    case RG_SCHED_EXPONENTIAL:
      snprintf(buf, size, "lr %g x %.6f^t", lr, (double)s->gamma);
      break;
    case RG_SCHED_INVERSE_TIME:
      snprintf(buf, size, "lr %g / (1 + %.3g t)", lr, (double)s->k);
      break;
    case RG_SCHED_COSINE:
      snprintf(buf, size, "lr %g, warm-up %lld steps from %g x, cosine over %lld steps", lr,
               (long long)s->warmup_steps, (double)s->warmup_start, (long long)s->total_steps);
      break;
    default:
      snprintf(buf, size, "constant lr %g", lr);
      break;
  }
}

static void clip_text(const train_config *c, char *buf, size_t size) {
  switch (c->run.clip.mode) {
    case RG_CLIP_VALUE:
      snprintf(buf, size, ", clip value %g", (double)c->run.clip.value);
      break;
    case RG_CLIP_NORM:
      snprintf(buf, size, ", clip global norm %g", (double)c->run.clip.max_norm);
      break;
    case RG_CLIP_PER_TENSOR:
      snprintf(buf, size, ", clip per-tensor norm %g", (double)c->run.clip.max_norm);
      break;
    case RG_CLIP_AGC:
      snprintf(buf, size, ", AGC lambda %g", (double)c->run.clip.agc_lambda);
      break;
    case RG_CLIP_EMA:
      snprintf(buf, size, ", EMA clip factor %g beta %g warm-up %lld", (double)c->run.clip.ema.factor,
               (double)c->run.clip.ema.beta, (long long)c->run.clip.ema.warmup);
      break;
    default:
      buf[0] = '\0';
      break;
  }
}

static void penalty_text(const train_config *c, char *buf, size_t size) {
  static const char *names[] = {"", "L1", "L2", "elastic net"};
  if (c->run.penalty == RG_PENALTY_NONE)
    buf[0] = '\0';
  else if (c->run.penalty == RG_PENALTY_ELASTIC)
    snprintf(buf, size, ", %s penalty %g (l1 ratio %g)", names[c->run.penalty],
             (double)c->run.penalty_lambda, (double)c->run.l1_ratio);
  else
    snprintf(buf, size, ", %s penalty %g", names[c->run.penalty], (double)c->run.penalty_lambda);
}

void study_config_describe(const train_config *c, char *buf, size_t size) {
  char init[64], optim[160], sched[160], clip[96], penalty[96], extra[64] = "";
  init_text(c, init, sizeof init);
  optim_text(c, optim, sizeof optim);
  schedule_text(&c->run.schedule, sched, sizeof sched);
  clip_text(c, clip, sizeof clip);
  penalty_text(c, penalty, sizeof penalty);
  if (c->model.batch_norm) strcat(extra, ", batch norm");
  if (c->model.dropout > 0.0f)
    snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ", dropout %g",
             (double)c->model.dropout);
  snprintf(buf, size, "%d hidden layers, %s, %s%s%s; %s, %s%s", c->model.hidden,
           activation_name(c->model.activation), init, extra, penalty, optim, sched, clip);
}

/* Appends r to out[0..n) unless it is there or out is full; returns the new count. */
static int add_once(const study_regime **out, int n, int cap, const study_regime *r) {
  for (int i = 0; i < n; i++)
    if (out[i] == r) return n;
  if (n < cap) out[n++] = r;
  return n;
}

int study_select(const char *list, bool quick, const study_regime **out, int cap, char *bad,
                 size_t bad_size) {
  int n = 0;
  if (!list || !*list) {
    for (int i = 0; i < N_REGIMES && n < cap; i++)
      if (!quick || regimes[i].quick) out[n++] = &regimes[i];
    return n;
  }
  const char *p = list;
  while (*p && n < cap) {
    size_t len = strcspn(p, ",");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
    const study_regime *r = study_regime_find(name);
    bool family = false;
    for (int i = 0; !r && i < N_REGIMES; i++)
      if (strcmp(regimes[i].family, name) == 0) family = true, n = add_once(out, n, cap, &regimes[i]);
    if (!r && !family) {
      snprintf(bad, bad_size, "%s", name);
      return -1;
    }
    if (r) n = add_once(out, n, cap, r);
    p += len;
    if (*p == ',') p++;
  }
  return n;
}
