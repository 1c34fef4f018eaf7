/* Every float through every one-input slot, on every vector ISA this CPU
 * runs, compared with the scalar table bit for bit: all 2^32 bit patterns
 * (NaNs, infinities, subnormals, -0 included; as everywhere in the contract,
 * any NaN equals any NaN, docs/reproducibility.md). test_kernels samples inputs;
 * this is the exhaustive version of the same promise, for the functions whose
 * vector code paths differ most from scalar (SLEEF's exp and log variants,
 * regrad's own expm1 in tanh and gelu). A few minutes per ISA, so it is
 * registered only with -Dlong_tests=true (docs/reproducibility.md).
 *
 *   exhaustive_unary [slot]     (default: all of them) */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

#define CHUNK (1 << 16)

struct slot {
  const char *name;
  size_t offset; /* of the function pointer in struct rg_kernels */
};

#define SLOT(s) {#s, offsetof(struct rg_kernels, s)}
static const struct slot slots[] = {SLOT(relu_fwd), SLOT(sigmoid_fwd), SLOT(tanh_fwd),
                                    SLOT(gelu_fwd), SLOT(exp_fwd),     SLOT(log_fwd)};

typedef void unary_fn(int64_t n, const float *x, float *y);

static unary_fn *fn_of(const struct rg_kernels *k, const struct slot *s) {
  unary_fn *f;
  memcpy(&f, (const char *)k + s->offset, sizeof f);
  return f;
}

/* Mismatching inputs of one slot on one ISA; prints the first few. */
static uint64_t sweep(const struct slot *s, enum rg_isa isa) {
  static uint32_t in[CHUNK];
  static float want[CHUNK], got[CHUNK];
  unary_fn *ref = fn_of(rg_isa_table(RG_ISA_SCALAR), s), *vec = fn_of(rg_isa_table(isa), s);
  uint64_t bad = 0;
  for (uint64_t base = 0; base < (1ull << 32); base += CHUNK) {
    for (uint32_t i = 0; i < CHUNK; i++) in[i] = (uint32_t)base + i;
    ref(CHUNK, (const float *)in, want);
    vec(CHUNK, (const float *)in, got);
    if (memcmp(want, got, sizeof got) == 0) continue;
    for (uint32_t i = 0; i < CHUNK; i++) {
      uint32_t a, b;
      memcpy(&a, &want[i], 4), memcpy(&b, &got[i], 4);
      if (a == b || (want[i] != want[i] && got[i] != got[i])) continue; /* any NaN = any NaN */
      if (bad++ < 5)
        printf("  %s %s: input 0x%08x: scalar 0x%08x, %s 0x%08x\n", s->name, rg_isa_name(isa),
               in[i], a, rg_isa_name(isa), b);
    }
  }
  return bad;
}

int main(int argc, char **argv) {
  uint64_t total = 0;
  int runs = 0;
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
    if (argc > 1 && strcmp(argv[1], slots[i].name) != 0) continue;
    for (int isa = RG_ISA_SCALAR + 1; isa < RG_ISA_COUNT; isa++) {
      if (!rg_isa_usable((enum rg_isa)isa)) continue;
      uint64_t bad = sweep(&slots[i], (enum rg_isa)isa);
      printf("%-12s %-7s %llu of 2^32 inputs differ from scalar\n", slots[i].name,
             rg_isa_name((enum rg_isa)isa), (unsigned long long)bad);
      fflush(stdout);
      total += bad, runs++;
    }
  }
  if (runs == 0) {
    printf("nothing to compare: no vector ISA here, or no slot named %s\n",
           argc > 1 ? argv[1] : "");
    return 77;
  }
  return total ? 1 : 0;
}
