/* The flags of `regrad study` (study_flags.h). */
#include "study_flags.h"

#include <unistd.h>

#include "args.h"

#define MAX_THREADS 256
#define NO_COUNT 9e18
/* Steps per regime: at most 2^40, so regimes x steps (the progress total)
 * and every per-step array size stay far from overflow. */
#define MAX_STEPS 1099511627776.0

/* Defaults of the full study and of --quick (flags given explicitly win). */
#define FULL_STEPS 3000
#define QUICK_STEPS 600
#define QUICK_TRAIN_LIMIT 12000
/* Seeds per regime: five give intervals a reviewer can read (t(0.975, 4) =
 * 2.78); three keep --quick to a few minutes on two cores. */
#define FULL_SEEDS 5
#define QUICK_SEEDS 3
#define MAX_SEEDS 1000
#define SAMPLE_POINTS 120 /* per-layer samples over a run, when --sample-every is 0 */

static const arg_choice isas[] = {{"auto", 0},   {"scalar", 1}, {"avx2", 2},
                                  {"avx512", 3}, {"neon", 4},   {NULL, 0}};

int study_flags_parse(int argc, char **argv, study_options *o) {
  study_setup *s = &o->setup;
  *o = (study_options){
      .setup = {.depth = 20, .width = 128, .batch = 128, .seed = 1, .val_fraction = 1.0 / 12.0},
      .figures = true,
      .data = RG_DEFAULT_DATA_DIR,
      .out = "study-out"};
  const arg_spec specs[] = {
      {"quick", ARG_BOOL, &o->quick, 0, 0, NULL, NULL,
       "the headline regimes, "
       "600 steps on 12000 rows, 3 seeds"},
      {"grid", ARG_STRING, &o->grid, 0, 0, NULL, "a,b,c", "regimes to run, by name (see --list)"},
      {"list", ARG_BOOL, &o->list, 0, 0, NULL, NULL, "print the regimes and exit"},
      {"depth", ARG_INT, &s->depth, 1, RG_MLP_MAX_LAYERS, NULL, "N", "hidden layers"},
      {"width", ARG_INT, &s->width, 1, 1 << 16, NULL, "N", "width of every hidden layer"},
      {"steps", ARG_INT64, &s->steps, 0, MAX_STEPS, NULL, "N",
       "optimizer steps per regime (0: 3000, or 600 with --quick)"},
      {"batch", ARG_INT64, &s->batch, 2, NO_COUNT, NULL, "N", "batch size"},
      {"test-limit", ARG_INT64, &o->test_limit, 0, NO_COUNT, NULL, "N",
       "test rows evaluated: the first N (0: all)"},
      {"train-limit", ARG_INT64, &s->train_limit, 0, NO_COUNT, NULL, "N",
       "training rows used (0: all, or 12000 with --quick)"},
      {"sample-every", ARG_INT, &s->sample_every, 0, 1 << 30, NULL, "N",
       "keep per-layer gradient norms every N steps (0: 120 samples a run)"},
      {"seed", ARG_UINT64, &s->seed, 0, 0, NULL, "N",
       "first seed of init, split, shuffling and dropout"},
      {"seeds", ARG_INT, &o->seeds, 1, MAX_SEEDS, NULL, "N",
       "runs per regime, with seeds seed, seed+1, ... (default 5, or 3 with --quick)"},
      {"data", ARG_STRING, &o->data, 0, 0, NULL, "DIR", "MNIST-format data directory"},
      {"out", ARG_STRING, &o->out, 0, 0, NULL, "DIR", "output directory (created)"},
      {"figures", ARG_BOOL, &o->figures, 0, 0, NULL, NULL, "draw figures with gnuplot"},
      {"isa", ARG_CHOICE, &o->isa, 0, 0, isas, NULL, "kernel ISA (auto: best, or REGRAD_ISA)"},
      {"threads", ARG_INT, &s->threads, 0, MAX_THREADS, NULL, "N",
       "threads: up to N runs at once, one thread each (0: one per online CPU)"},
      {"mem-limit", ARG_BYTES, &s->mem_limit, 0, 0, NULL, "BYTES", "most memory a context holds, e.g. 8G (auto: 3/4 of RAM or of the cgroup limit; 0: none)"},
  };
  const arg_command cmd = {
      "regrad study", "regrad study [--quick] [--grid a,b,c] [flags]",
      "Trains a deep MLP once per regime and seed (failing baselines, inits, batch norm, "
      "penalties, clipping, schedules) with the same data, seeds and step budget, ranks the "
      "regimes by mean validation accuracy with 95% intervals over the seeds, and writes "
      "report.md, CSV files and figures comparing how each keeps its gradients alive.",
      specs, (int)(sizeof specs / sizeof specs[0])};
  arg_result r = args_parse(&cmd, argc, argv);
  if (r != ARGS_OK) return args_exit_code(r);
  if (s->steps == 0) s->steps = o->quick ? QUICK_STEPS : FULL_STEPS;
  if (o->seeds == 0) o->seeds = o->quick ? QUICK_SEEDS : FULL_SEEDS;
  if (s->train_limit == 0 && o->quick) s->train_limit = QUICK_TRAIN_LIMIT;
  if (s->sample_every == 0) { /* found by fuzz_flags: steps / 120 passes INT_MAX */
    int64_t every = s->steps / SAMPLE_POINTS;
    s->sample_every = every < 1 ? 1 : every > (1 << 30) ? 1 << 30 : (int)every;
  }
  if (s->threads == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
  }
  s->isa = o->isa ? args_choice_name(isas, o->isa) : NULL;
  return -1;
}

