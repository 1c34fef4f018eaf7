/* libFuzzer target: the `regrad` flag parser (tools/args.c). The input is
 * split at NUL bytes into argv[1..]; a table with one flag of every kind
 * (the ranges of `regrad train`'s flags; a byte count) receives them. Any input gives
 * ARGS_OK, ARGS_HELP or ARGS_ERROR, and on ARGS_OK every value is within
 * its declared range. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const arg_choice acts[] = {{"relu", 1}, {"tanh", 2}, {"leaky-relu", 3}, {NULL, 0}};
  bool flag = false;
  int epochs = 1, act = 1;
  int64_t batch = 64;
  uint64_t seed = 0;
  float lr = 0.1f;
  double frac = 0.1;
  const char *out = NULL;
  arg_list widths = {0};
  uint64_t mem = 0;
  const arg_spec specs[] = {
      {"bn", ARG_BOOL, &flag, 0, 0, NULL, NULL, "batch norm"},
      {"epochs", ARG_INT, &epochs, 1, 1e6, NULL, "N", "epochs"},
      {"batch", ARG_INT64, &batch, 1, 1e9, NULL, "B", "batch"},
      {"seed", ARG_UINT64, &seed, 0, 0, NULL, "S", "seed"},
      {"lr", ARG_FLOAT, &lr, 0, 10, NULL, "LR", "learning rate"},
      {"val", ARG_DOUBLE, &frac, 0, 0.99, NULL, "F", "validation fraction"},
      {"out", ARG_STRING, &out, 0, 0, NULL, "PATH", "checkpoint"},
      {"act", ARG_CHOICE, &act, 0, 0, acts, NULL, "activation"},
      {"widths", ARG_LIST, &widths, 1, 65536, NULL, "W,W,...", "hidden widths"},
      {"mem", ARG_BYTES, &mem, 0, 0, NULL, "BYTES", "memory limit"},
  };
  const arg_command cmd = {"regrad fuzz", "regrad fuzz [flags]", "fuzzing", specs,
                           (int)(sizeof specs / sizeof specs[0])};
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *argv[MAX_ARGS + 1] = {"fuzz"};
  int argc = 1;
  for (size_t at = 0; at <= size && argc < MAX_ARGS; at += strlen(text + at) + 1)
    argv[argc++] = text + at;
  argv[argc] = NULL;
  arg_result r = args_parse(&cmd, argc, argv);
  if (r != ARGS_OK && r != ARGS_HELP && r != ARGS_ERROR) abort();
  if (r == ARGS_OK) {
    if (epochs < 1 || epochs > 1000000 || batch < 1 || batch > 1000000000) abort();
    if (!(lr >= 0 && lr <= 10) || !(frac >= 0 && frac <= 0.99)) abort();
    if (act < 1 || act > 3 || widths.n < 0 || widths.n > ARG_LIST_MAX) abort();
    for (int i = 0; i < widths.n; i++)
      if (widths.v[i] < 1 || widths.v[i] > 65536) abort();
    if (out && !*out) abort();
  }
  free(text);
  return 0;
}
