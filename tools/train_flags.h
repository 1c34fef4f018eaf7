/* The flags of `regrad train` (also taken by `regrad gradcheck`): model,
 * loss terms, optimizer, schedule, clipping, loop, data and files. */
#ifndef RG_TOOLS_TRAIN_FLAGS_H
#define RG_TOOLS_TRAIN_FLAGS_H

#include "dist_train.h"
#include "trainer.h"

typedef struct train_options {
  train_config config;
  int kfold; /* folds of cross-validation, 0 for none */
  dist_options dist;
  char config_text[8192]; /* "flag=value" lines of the settings --dist ranks share */
} train_options;

/* Fills o with the defaults, then the flags in argv[1..argc) of the command
 * `name` (e.g. "regrad train"), whose usage starts with synopsis and
 * description. Returns -1 to go on, or the exit status to return now: 0
 * after --help, 2 for a bad flag or combination (the message and usage went
 * to stderr). */
int train_flags_parse(const char *name, const char *synopsis, const char *description, int argc,
                      char **argv, train_options *o);

#endif
