/* The subcommands of `regrad`. Each takes argv[0] = its own name and its
 * flags after it, and returns the process exit status: 0 success, 1 an
 * error from the library or the system, 2 a bad command line. */
#ifndef RG_TOOLS_COMMANDS_H
#define RG_TOOLS_COMMANDS_H

int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_study(int argc, char **argv);

/* Prints "regrad: <message>" to stderr and returns 1. */
int command_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
