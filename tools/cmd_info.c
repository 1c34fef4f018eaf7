/* `regrad info`: the library version, the CPU features found, which ISAs are
 * built and usable, the ISA in force, and with --kernels the body serving
 * each kernel slot. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "core/cpu.h"
#include "regrad.h"
#include "regrad_dist.h"

/* Choice values are enum rg_isa + 1; 0 is the ISA in force. */
static const arg_choice isa_choices[] = {
    {"auto", 0}, {"scalar", RG_ISA_SCALAR + 1}, {"avx2", RG_ISA_AVX2 + 1},
    {"avx512", RG_ISA_AVX512 + 1}, {"neon", RG_ISA_NEON + 1}, {NULL, 0}};

static void print_features(void) {
  struct rg_cpu_features f = rg_cpu_features();
  const struct { const char *name; bool on; } flags[] = {
      {"fma", f.fma},         {"avx", f.avx},           {"avx2", f.avx2},
      {"avx512f", f.avx512f}, {"avx512dq", f.avx512dq}, {"avx512bw", f.avx512bw},
      {"avx512vl", f.avx512vl}, {"os-ymm", f.os_ymm},   {"os-zmm", f.os_zmm},
      {"neon", f.neon}};
  int shown = 0;
  printf("cpu features:");
  for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (flags[i].on) printf(" %s", flags[i].name), shown++;
  printf("%s\nonline cpus: %ld\n", shown ? "" : " none", sysconf(_SC_NPROCESSORS_ONLN));
  printf("isa      built  usable\n");
  for (int isa = 0; isa < RG_ISA_COUNT; isa++)
    printf("%-8s %-6s %s\n", rg_isa_name(isa), rg_isa_table(isa) ? "yes" : "no",
           rg_isa_usable(isa) ? "yes" : "no");
}

static void print_kernels(enum rg_isa isa) {
  const struct rg_kernels *k = rg_isa_table(isa);
  printf("kernels of %s (%d slots):\n", rg_isa_name(isa), RG_SLOT_COUNT);
  for (int slot = 0; slot < RG_SLOT_COUNT; slot++)
    printf("  %-24s %s\n", rg_slot_names[slot], k->symbols[slot] ? k->symbols[slot] : "(missing)");
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
  enum rg_isa in_force = (enum rg_isa)rg_isa_from_name(rg_ctx_isa(ctx));
  enum rg_isa isa = isa_choice ? (enum rg_isa)(isa_choice - 1) : in_force;
  rg_ctx_free(ctx);
  if (!kernels) return 0;
  if (!rg_isa_table(isa))
    return command_failed("ISA %s is not built into this library", rg_isa_name(isa));
  if (!rg_isa_usable(isa)) printf("note: this CPU cannot run %s\n", rg_isa_name(isa));
  print_kernels(isa);
  return 0;
}
