/* What the library can tell about itself and the machine (regrad.h, "about
 * the library"): the ISAs built in, the CPU features it looks at, and the
 * body serving each kernel slot, so that `regrad info` needs no internal
 * header. */
#include <stdio.h>
#include <string.h>

#include "core/cpu.h"
#include "core/internal.h"

bool rg_isa_built(const char *isa) {
  int i = rg_isa_from_name(isa);
  return i >= 0 && rg_isa_table((enum rg_isa)i) != NULL;
}

size_t rg_cpu_describe(char *buf, size_t size) {
  struct rg_cpu_features f = rg_cpu_features();
  const struct { const char *name; bool on; } flags[] = {
      {"fma", f.fma},           {"avx", f.avx},           {"avx2", f.avx2},
      {"avx512f", f.avx512f},   {"avx512dq", f.avx512dq}, {"avx512bw", f.avx512bw},
      {"avx512vl", f.avx512vl}, {"os-ymm", f.os_ymm},     {"os-zmm", f.os_zmm},
      {"neon", f.neon}};
  size_t at = 0;
  if (buf && size) buf[0] = '\0';
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    if (!flags[i].on) continue;
    int n = snprintf(buf && at < size ? buf + at : NULL, buf && at < size ? size - at : 0, "%s%s",
                     at ? " " : "", flags[i].name);
    at += n > 0 ? (size_t)n : 0;
  }
  return at;
}

int rg_kernel_slot_count(void) { return RG_SLOT_COUNT; }

const char *rg_kernel_slot_name(int slot) {
  return slot >= 0 && slot < RG_SLOT_COUNT ? rg_slot_names[slot] : NULL;
}

const char *rg_kernel_body(const char *isa, int slot) {
  int i = rg_isa_from_name(isa);
  const struct rg_kernels *k = i >= 0 ? rg_isa_table((enum rg_isa)i) : NULL;
  return k && slot >= 0 && slot < RG_SLOT_COUNT ? k->symbols[slot] : NULL;
}
