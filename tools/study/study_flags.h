/* The flags of `regrad study`, parsed into the study's setup and options
 * (study_flags.c); shared by the command and the flag-table fuzz target. */
#ifndef RG_TOOLS_STUDY_FLAGS_H
#define RG_TOOLS_STUDY_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "study_grid.h"

typedef struct study_options {
  study_setup setup;
  bool quick, list, figures;
  const char *grid, *data, *out;
  int64_t test_limit;
  int isa;
  int seeds; /* runs per regime, seeds setup.seed, setup.seed + 1, ... */
} study_options;

/* Fills o with the defaults, then the flags in argv[1..argc); the defaults
 * of --quick and the derived settings (steps, training rows, seeds,
 * sampling, threads) follow. Returns -1 to go on, or the exit status to return now: 0
 * after --help, 2 for a bad flag (the message went to stderr). */
int study_flags_parse(int argc, char **argv, study_options *o);

#endif
