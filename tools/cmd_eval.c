/* `regrad eval`: the test accuracy of a checkpoint. */
#include <stdio.h>

#include "args.h"
#include "commands.h"
#include "session.h"
#include "train_flags.h"

static const char description[] =
    "Scores a checkpoint written by `regrad train --save` on the test set of\n"
    "Fashion-MNIST (or --data DIR). The checkpoint holds the model's tensors, the\n"
    "optimizer's state and the input standardization, so the model must be rebuilt\n"
    "as it was trained: pass the same architecture flags (--layers, --activation,\n"
    "--batch-norm) and optimizer flags (--optimizer, --momentum) as for training.\n"
    "The training command line with `eval` in place of `train` works; flags that\n"
    "only concern training are accepted and ignored. A checkpoint of another model\n"
    "is refused with the tensor that differs.";

static int evaluate(const train_config *c) {
  session s;
  rg_dataset *test = NULL;
  double accuracy = 0.0;
  if (session_open(&s, c) == RG_OK) test = rg_dataset_load_mnist(s.ctx, c->data_dir, false);
  rg_standardizer placeholder = {0.0f, 1.0f};
  if (test && session_build(&s, c, (int)test->features, test->classes, placeholder) == RG_OK &&
      rg_checkpoint_load_model(s.ctx, c->load_path) == RG_OK) {
    rg_standardizer st = session_standardizer(&s);
    rg_standardizer_apply(s.ctx, &st, test);
    accuracy = session_accuracy(&s, test, 0);
  }
  int code = session_status(&s) == RG_OK ? 0 : command_failed("%s", session_message(&s));
  if (!code) printf("test accuracy %.4f (%lld rows)\n", accuracy, (long long)test->n);
  rg_dataset_free(test);
  session_close(&s);
  return code;
}

int cmd_eval(int argc, char **argv) {
  train_options o;
  int code = train_flags_parse("regrad eval", "regrad eval --load FILE [training flags]",
                               description, argc, argv, &o);
  if (code >= 0) return code;
  if (!o.config.load_path) {
    args_complain("regrad eval", "--load FILE is required (see regrad eval --help)");
    return 2;
  }
  return evaluate(&o.config);
}
