/* A small table-driven flag parser for the `regrad` subcommands.
 *
 * A command describes its flags in a table of arg_spec rows, each pointing at
 * the variable it sets (filled with its default beforehand). Flags are given
 * as `--flag value` or `--flag=value`; booleans as `--flag`, `--no-flag` or
 * `--flag=true|false`. Values are typed and range-checked; `--help` or `-h`
 * prints the usage. The usage lists every flag with its value form, its help
 * and the default (the variable's value before parsing). */
#ifndef RG_TOOLS_ARGS_H
#define RG_TOOLS_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum arg_kind {
  ARG_BOOL,   /* bool */
  ARG_INT,    /* int, in [min, max] */
  ARG_INT64,  /* int64_t, in [min, max] */
  ARG_UINT64, /* uint64_t (any non-negative integer) */
  ARG_FLOAT,  /* float, in [min, max] */
  ARG_DOUBLE, /* double, in [min, max] */
  ARG_STRING, /* const char * pointing into argv */
  ARG_CHOICE, /* int, the value of the named choice */
  ARG_LIST,   /* arg_list: comma-separated integers, each in [min, max] */
  ARG_BYTES   /* uint64_t byte count: digits with an optional k, M, G or T suffix (powers
               * of 1024). "0" means no limit and is stored as UINT64_MAX, so a variable
               * left at 0 means the flag was not given ("auto" in the usage). */
} arg_kind;

/* One named value of an ARG_CHOICE flag; a table ends with {NULL, 0}. */
typedef struct arg_choice {
  const char *name;
  int value;
} arg_choice;

#define ARG_LIST_MAX 64
/* "256,256" gives n = 2; "" or "none" gives n = 0. */
typedef struct arg_list {
  int n;
  int64_t v[ARG_LIST_MAX];
} arg_list;

typedef struct arg_spec {
  const char *name;          /* without the leading "--" */
  arg_kind kind;
  void *dest;
  double min, max;           /* numeric kinds and list elements */
  const arg_choice *choices; /* ARG_CHOICE */
  const char *value;         /* the value's form in the usage, e.g. "W,W,..." */
  const char *help;
} arg_spec;

/* A command: its name ("regrad train"), a synopsis and description printed
 * before the flags, and the flag table. */
typedef struct arg_command {
  const char *name;
  const char *synopsis;
  const char *description;
  const arg_spec *specs;
  int n_specs;
} arg_command;

typedef enum arg_result { ARGS_OK, ARGS_HELP, ARGS_ERROR } arg_result;

/* Parses argv[1..argc) (argv[0] is the subcommand). ARGS_HELP: the usage went
 * to stdout. ARGS_ERROR: "<command>: <what is wrong>" and "see `<command>
 * --help`" went to stderr (two lines, not the whole usage). Positional
 * arguments are errors. Numbers are plain decimal ([sign] digits, and for
 * reals an optional fraction and exponent): no hexadecimal, inf, nan or
 * spaces; choice names match in any case. */
arg_result args_parse(const arg_command *cmd, int argc, char **argv);

/* Exit status for a parse result that stops the command: 0 for help, 2 for
 * an error. */
int args_exit_code(arg_result r);

/* Prints the synopsis, the description and the flag table. */
void args_usage(const arg_command *cmd, FILE *out);

/* Prints "<command>: <message>" and a newline to stderr. */
void args_complain(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The current value of s's variable as text, as a flag would give it
 * ("true"/"false" for booleans, "" for an unset string). */
void args_value_text(const arg_spec *s, char *buf, size_t size);

/* Name of a choice value in a choice table, or "?" */
const char *args_choice_name(const arg_choice *choices, int value);

#endif
