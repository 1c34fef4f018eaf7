/* `regrad eval`: the test loss and accuracy of a checkpoint. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "session.h"

static const char description[] =
    "Scores a checkpoint written by `regrad train --save` on the test set of\n"
    "Fashion-MNIST (or --data DIR). The checkpoint holds the model's description,\n"
    "its weights and the input standardization, so no other flag is needed; the\n"
    "optimizer's state in it is not read. The test set must have the model's\n"
    "number of features, and its labels must be classes the model has.";

static const arg_choice isas[] = {
    {"auto", 0}, {"scalar", 1}, {"avx2", 2}, {"avx512", 3}, {"neon", 4}, {NULL, 0}};

typedef struct eval_options {
  const char *load, *data;
  int isa, threads;
  uint64_t mem_limit;
} eval_options;

static int evaluate(const eval_options *o) {
  train_config c;
  train_config_defaults(&c);
  c.isa = o->isa ? args_choice_name(isas, o->isa) : NULL;
  c.threads = o->threads;
  c.mem_limit = o->mem_limit;
  session s;
  rg_dataset *test = NULL;
  double loss = 0.0, accuracy = 0.0;
  char why[600] = "";
  rg_status st = session_open(&s, &c);
  if (st == RG_OK) st = session_load_model(&s, o->load, why, sizeof why);
  if (st == RG_OK) {
    test = rg_dataset_load_mnist(s.ctx, o->data, false);
    if (test) {
      rg_standardizer z = session_standardizer(&s);
      rg_standardizer_apply(s.ctx, &z, test);
      rg_mlp_evaluate(s.mlp, test, 0, &loss, &accuracy);
    }
    st = session_status(&s);
    if (st != RG_OK) snprintf(why, sizeof why, "%s", session_message(&s));
  } else if (!why[0]) {
    snprintf(why, sizeof why, "%s", session_message(&s));
  }
  int code = st == RG_OK ? 0 : command_failed("%s", why);
  if (!code)
    printf("test accuracy %.4f  loss %.4f (%lld rows)\n", accuracy, loss, (long long)test->n);
  rg_dataset_free(test);
  session_close(&s);
  return code;
}

int cmd_eval(int argc, char **argv) {
  eval_options o = {.threads = 1};
  const arg_spec specs[] = {
      {"load", ARG_STRING, &o.load, 0, 0, NULL, "FILE", "the checkpoint to score (required)"},
      {"data", ARG_STRING, &o.data, 0, 0, NULL, "DIR", "MNIST-format directory (default " RG_DEFAULT_DATA_DIR ")"},
      {"isa", ARG_CHOICE, &o.isa, 0, 0, isas, NULL, "kernel ISA (auto: best, or REGRAD_ISA)"},
      {"threads", ARG_INT, &o.threads, 1, 256, NULL, "N", "threads"},
      {"mem-limit", ARG_BYTES, &o.mem_limit, 0, 0, NULL, "BYTES", "most memory the context holds, e.g. 8G (auto: 3/4 of RAM or of the cgroup limit; 0: none)"},
  };
  const arg_command cmd = {"regrad eval", "regrad eval --load FILE [--data DIR]", description,
                           specs, (int)(sizeof specs / sizeof specs[0])};
  arg_result r = args_parse(&cmd, argc, argv);
  if (r != ARGS_OK) return args_exit_code(r);
  if (!o.load) {
    args_complain("regrad eval", "--load FILE is required (see regrad eval --help)");
    return 2;
  }
  return evaluate(&o);
}
