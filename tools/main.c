/* `regrad`: dispatches to the subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "regrad.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "library version, CPU features, ISAs and kernels"},
    {"train", cmd_train, "train an MLP on Fashion-MNIST (or an MNIST-format directory)"},
    {"eval", cmd_eval, "test accuracy of a checkpoint"},
    {"gradcheck", cmd_gradcheck, "check the gradient of the configured model numerically"},
    {"study", cmd_study, "train a grid of configurations and compare their gradients"},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

int command_failed(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fflush(stdout); /* results printed before the error stay before it */
  fputs("regrad: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

static void usage(FILE *out) {
  fprintf(out, "usage: regrad <command> [flags]\n\n"
               "Reproducible neural-network training on CPUs (regrad %s).\n\ncommands:\n",
          rg_version());
  for (int i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fputs("\nRun `regrad <command> --help` for the flags of a command.\n", out);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(name, "--version") == 0) {
    printf("regrad %s\n", rg_version());
    return 0;
  }
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp(name, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "regrad: unknown command \"%s\"\n\n", name);
  usage(stderr);
  return 2;
}
