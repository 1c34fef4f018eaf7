/* `regrad info`: the library version, the CPU features found, which ISAs are
 * built and usable, the ISA in force, and with --kernels the body serving
 * each kernel slot. Public calls only. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "regrad.h"
#include "regrad_dist.h"

static const char *const isa_names[] = {"scalar", "avx2", "avx512", "neon"};
#define N_ISAS (int)(sizeof isa_names / sizeof isa_names[0])

/* Choice values are an index into isa_names + 1; 0 is the ISA in force. */
static const arg_choice isa_choices[] = {
    {"auto", 0}, {"scalar", 1}, {"avx2", 2}, {"avx512", 3}, {"neon", 4}, {NULL, 0}};

static void print_features(void) {
  char features[256];
  rg_cpu_describe(features, sizeof features);
  printf("cpu features: %s\nonline cpus: %ld\n", features[0] ? features : "none",
         sysconf(_SC_NPROCESSORS_ONLN));
  printf("isa      built  usable\n");
  for (int i = 0; i < N_ISAS; i++)
    printf("%-8s %-6s %s\n", isa_names[i], rg_isa_built(isa_names[i]) ? "yes" : "no",
           rg_isa_supported(isa_names[i]) ? "yes" : "no");
}

static void print_kernels(const char *isa) {
  printf("kernels of %s (%d slots):\n", isa, rg_kernel_slot_count());
  for (int slot = 0; slot < rg_kernel_slot_count(); slot++) {
    const char *body = rg_kernel_body(isa, slot);
    printf("  %-24s %s\n", rg_kernel_slot_name(slot), body ? body : "(missing)");
  }
}

int cmd_info(int argc, char **argv) {
  bool kernels = false;
  int isa_choice = 0;
  const arg_spec specs[] = {
      {"kernels", ARG_BOOL, &kernels, 0, 0, NULL, NULL, "list the body serving each kernel slot"},
      {"isa", ARG_CHOICE, &isa_choice, 0, 0, isa_choices, NULL,
       "ISA whose kernels to list (auto: the one in force)"},
  };
  const arg_command cmd = {"regrad info", "regrad info [--kernels] [--isa ISA]",
                           "Prints the library version, the CPU features found, the ISAs built "
                           "into the library\nand usable here, and the ISA in force (the best "
                           "usable one, or REGRAD_ISA).",
                           specs, (int)(sizeof specs / sizeof specs[0])};
  arg_result r = args_parse(&cmd, argc, argv);
  if (r != ARGS_OK) return args_exit_code(r);

  printf("regrad %s\n", rg_version());
  print_features();
  rg_ctx *ctx = rg_ctx_new(NULL);
  if (!ctx) return command_failed("out of memory");
  if (rg_ctx_status(ctx) != RG_OK) {
    int code = command_failed("%s", rg_ctx_message(ctx));
    rg_ctx_free(ctx);
    return code;
  }
  const char *env = getenv("REGRAD_ISA");
  printf("isa in force: %s (%s)\n", rg_ctx_isa(ctx),
         env && *env ? "REGRAD_ISA" : "the best usable");
  printf("mpi: %s\n", rg_dist_available() ? "yes" : "no (a build without -Dmpi=enabled)");
  char in_force[16];
  snprintf(in_force, sizeof in_force, "%s", rg_ctx_isa(ctx));
  const char *isa = isa_choice ? isa_names[isa_choice - 1] : in_force;
  rg_ctx_free(ctx);
  if (!kernels) return 0;
  if (!rg_isa_built(isa)) return command_failed("ISA %s is not built into this library", isa);
  if (!rg_isa_supported(isa)) printf("note: this CPU cannot run %s\n", isa);
  print_kernels(isa);
  return 0;
}
