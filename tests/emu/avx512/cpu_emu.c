/* Test-only: which tables the emulated AVX-512 run may use
 * (docs/kernels-emulation.md). src/core/cpu.c is compiled unchanged next to
 * this file with rg_isa_usable and rg_isa_best renamed to *_native; these
 * replacements answer as cpu.c does, except that avx512 is usable whenever
 * the host can run the emulation (AVX2 and FMA, what SIMDe and sleef_emu.c
 * are compiled for). scalar and avx2 keep their real answers and tables. */
#include <stdio.h>
#include <unistd.h>

#include "core/cpu.h"

bool rg_isa_usable_native(enum rg_isa isa);

static bool host_runs_emulation(void) {
  struct rg_cpu_features f = rg_cpu_features();
  return f.avx2 && f.fma && f.avx && f.os_ymm;
}

bool rg_isa_usable(enum rg_isa isa) {
  if (isa == RG_ISA_AVX512) return rg_isa_table(isa) != NULL && host_runs_emulation();
  return rg_isa_usable_native(isa);
}

/* cpu.c's order, over the answers above. */
enum rg_isa rg_isa_best(void) {
  static const enum rg_isa order[] = {RG_ISA_AVX512, RG_ISA_AVX2, RG_ISA_NEON};
  for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++)
    if (rg_isa_usable(order[i])) return order[i];
  return RG_ISA_SCALAR;
}

/* Before Criterion starts: without AVX2 and FMA the emulated table cannot
 * run, so the whole test reports SKIP (77) instead of passing with avx512
 * left out; and the avx512 table must be there and usable, so the suite
 * cannot quietly log "avx512: skipped" and pass. */
__attribute__((constructor)) static void rg_emu_check_host(void) {
  if (!host_runs_emulation()) {
    fputs("kernels-avx512-emulated: the host lacks AVX2 or FMA; skipped\n", stderr);
    _exit(77);
  }
  if (!rg_isa_usable(RG_ISA_AVX512) || rg_isa_best() != RG_ISA_AVX512) {
    fputs("kernels-avx512-emulated: the avx512 table is not in use\n", stderr);
    _exit(1);
  }
}
