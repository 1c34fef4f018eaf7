/* `regrad train`: one training run, or K-fold cross-validation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "dist_train.h"
#include "interrupt.h"
#include "limits.h"
#include "train_data.h"
#include "train_flags.h"

#define EXIT_INTERRUPTED 130 /* the shell's code for a command ended by SIGINT */

static const char description[] =
    "Trains a multilayer perceptron on Fashion-MNIST (or the MNIST-format directory\n"
    "of --data): 1/12 of the training set is held out for validation, the inputs\n"
    "are standardized with statistics of the training part. Prints each epoch's\n"
    "training loss and accuracy and the validation loss and accuracy, gradient\n"
    "alerts as they happen, then the test accuracy and the time per epoch. Times of\n"
    "the schedule (--step-size, --milestones, --warmup, --total-steps) count\n"
    "optimizer steps; an epoch is ceil(rows / batch) steps. --save writes a\n"
    "checkpoint after every epoch and when training ends, however it ends (epochs,\n"
    "--max-steps, --early-stop, Ctrl-C), except on a divergence; --load resumes one\n"
    "(the same flags as the run that saved it) and continues it exactly where it\n"
    "stopped, up to --epochs and --max-steps in total.";

static void print_result(const train_result *r) {
  printf("test accuracy %.4f\n", (double)r->test_acc);
  printf("train accuracy %.4f (eval mode, at most 10000 rows)  validation accuracy %.4f  "
         "weight sparsity %.4f\n",
         (double)r->train_acc, (double)r->val_acc, r->sparsity);
  printf("%lld steps in all; this run %.1f s, %.2f s per epoch", (long long)r->steps, r->seconds,
         r->seconds_per_epoch);
  if (r->step_heap_allocs)
    printf("; %lld heap allocations after the first step", (long long)r->step_heap_allocs);
  putchar('\n');
  if (r->stopped_early) printf("stopped early: the best validation loss's weights restored\n");
}

static int train_once(const train_config *c) {
  int launched = dist_launcher_ranks();
  if (launched > 1)
    fprintf(stderr, "regrad train: started by an MPI launcher with %d ranks but without --dist: "
            "every rank trains on its own\n", launched);
  interrupt_install();
  train_result r = train_run(c, NULL, NULL);
  if (r.status != RG_OK) return command_failed("%s", r.message);
  print_result(&r);
  if (r.interrupted) {
    fprintf(stderr, "regrad train: interrupted after step %lld%s%s\n", (long long)r.steps,
            c->run.save_path ? "; saved " : "", c->run.save_path ? c->run.save_path : "");
    return EXIT_INTERRUPTED;
  }
  if (r.diverged_step < 0) return 0;
  if (c->run.clip.nonfinite == RG_NONFINITE_ERROR || c->run.clip.nonfinite == RG_NONFINITE_PROPAGATE)
    return command_failed("training diverged at %s%s", r.message,
                          c->run.save_path ? " (nothing saved after it)" : "");
  printf("non-finite values first at %s\n", r.message);
  return 0;
}

/* Trains fold k of o->kfold on the rows of the fold's training part and
 * scores the held-out part (the trainer's test set). */
static int run_fold(const train_options *o, rg_ctx *ctx, const rg_dataset *all, int k,
                    int64_t *rows, int64_t *held_out, double *accuracy) {
  int64_t n_train = 0, n_val = 0;
  rg_dataset *train = NULL, *val = NULL;
  rg_status folded = rg_kfold(ctx, all->n, o->kfold, k, o->config.seed, rows, &n_train, held_out,
                              &n_val);
  if (folded == RG_OK) {
    train = rg_dataset_subset(ctx, all, rows, n_train);
    val = rg_dataset_subset(ctx, all, held_out, n_val);
  }
  int code = 0;
  if (!train || !val) {
    code = command_failed("%s", rg_ctx_message(ctx));
  } else {
    train_config c = o->config;
    c.train_set = train;
    c.test_set = val;
    c.val_fraction = 0.0;
    c.train_limit = 0;
    if (!c.quiet)
      fprintf(stderr, "fold %d/%d: %lld training rows, %lld held out\n", k + 1, o->kfold,
              (long long)n_train, (long long)n_val);
    train_result r = train_run(&c, NULL, NULL);
    if (r.status != RG_OK) code = command_failed("%s", r.message);
    *accuracy = r.test_acc;
    if (!code)
      printf("fold %d/%d  validation accuracy %.4f%s\n", k + 1, o->kfold, (double)r.test_acc,
             r.diverged_step >= 0 ? "  (diverged)" : "");
  }
  rg_dataset_free(train);
  rg_dataset_free(val);
  return code;
}

static int cross_validate(const train_options *o) {
  const train_config *c = &o->config;
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.mem_limit = limits_mem(c->mem_limit)});
  if (!ctx) return command_failed("out of memory");
  rg_dataset *all = rg_dataset_load_mnist(ctx, c->data_dir, true);
  if (all && c->train_limit > 0 && c->train_limit < all->n) {
    rg_dataset *sample = train_data_sample(ctx, all, c->train_limit, c->seed);
    rg_dataset_free(all);
    all = sample;
  }
  int64_t *rows = all ? malloc(2 * (size_t)all->n * sizeof *rows) : NULL;
  const char *why = rg_ctx_status(ctx) != RG_OK ? rg_ctx_message(ctx) : "out of memory";
  int code = rows ? 0 : command_failed("%s", why);
  double sum = 0.0, sumsq = 0.0;
  for (int k = 0; k < o->kfold && !code; k++) {
    double acc = NAN;
    code = run_fold(o, ctx, all, k, rows, rows + all->n, &acc);
    sum += acc;
    sumsq += acc * acc;
  }
  if (!code) {
    double mean = sum / o->kfold, var = sumsq / o->kfold - mean * mean;
    printf("mean validation accuracy %.4f (std %.4f) over %d folds\n", mean,
           sqrt(var > 0 ? var : 0), o->kfold);
  }
  free(rows);
  rg_dataset_free(all);
  rg_ctx_free(ctx);
  return code;
}

int cmd_train(int argc, char **argv) {
  static train_options o;
  int code = train_flags_parse("regrad train", "regrad train [flags]", description, argc, argv, &o);
  if (code >= 0) return code;
  if (o.dist.enabled) return dist_train_main(&o.config, &o.dist, o.config_text);
  return o.kfold ? cross_validate(&o) : train_once(&o.config);
}
