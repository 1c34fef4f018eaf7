/* Every float through every activation slot, forward and backward
 * (tests/act_slots.h; a backward slot sweeps its first input with dy = 1),
 * checking two promises over all 2^32 bit patterns (NaNs, infinities,
 * subnormals, -0 included):
 *  - no NaN where the mathematical result is finite: for every finite input,
 *    except log of a negative number (issue 15 item 7), on scalar and on
 *    every vector ISA this CPU runs;
 *  - every vector ISA gives the scalar bits; as everywhere in the contract,
 *    any NaN equals any NaN (docs/reproducibility.md).
 * test_kernels samples inputs; this is the exhaustive version. About a
 * minute per slot and ISA, so it is registered only with -Dlong_tests=true
 * (docs/reproducibility.md).
 *
 *   exhaustive_unary [slot]     (default: all of them) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_slots.h"
#include "core/cpu.h"

#define CHUNK (1 << 16)
#define SHOW 5 /* inputs printed per kind of failure */

struct tally {
  uint64_t nan[RG_ISA_COUNT];  /* NaN where the limit is finite */
  uint64_t diff[RG_ISA_COUNT]; /* differs from scalar */
};

static void note_nan(struct tally *t, enum rg_act_slot s, int isa, uint32_t in, float x) {
  if (t->nan[isa]++ < SHOW)
    printf("  %s %s: NaN at finite input 0x%08x (%a)\n", rg_act_names[s],
           rg_isa_name((enum rg_isa)isa), in, (double)x);
}

static void check_chunk(struct tally *t, enum rg_act_slot s, int isa, const uint32_t *in,
                        const float *x, const float *want, const float *got) {
  for (uint32_t i = 0; i < CHUNK; i++) {
    if (got[i] != got[i] && !rg_act_nan_allowed(s, x[i])) note_nan(t, s, isa, in[i], x[i]);
    if (isa == RG_ISA_SCALAR) continue;
    uint32_t a, b;
    memcpy(&a, &want[i], 4), memcpy(&b, &got[i], 4);
    if (a == b || (want[i] != want[i] && got[i] != got[i])) continue; /* any NaN = any NaN */
    if (t->diff[isa]++ < SHOW)
      printf("  %s %s: input 0x%08x: scalar 0x%08x, %s 0x%08x\n", rg_act_names[s],
             rg_isa_name((enum rg_isa)isa), in[i], a, rg_isa_name((enum rg_isa)isa), b);
  }
}

static void sweep(enum rg_act_slot s, struct tally *t) {
  static uint32_t in[CHUNK];
  static float x[CHUNK], dy[CHUNK], want[CHUNK], got[CHUNK];
  for (uint32_t i = 0; i < CHUNK; i++) dy[i] = 1.0f;
  for (uint64_t base = 0; base < (1ull << 32); base += CHUNK) {
    for (uint32_t i = 0; i < CHUNK; i++) in[i] = (uint32_t)base + i;
    memcpy(x, in, sizeof x);
    rg_act_run(rg_isa_table(RG_ISA_SCALAR), s, CHUNK, x, dy, want);
    check_chunk(t, s, RG_ISA_SCALAR, in, x, want, want);
    for (int isa = RG_ISA_SCALAR + 1; isa < RG_ISA_COUNT; isa++) {
      if (!rg_isa_usable((enum rg_isa)isa)) continue;
      rg_act_run(rg_isa_table((enum rg_isa)isa), s, CHUNK, x, dy, got);
      check_chunk(t, s, isa, in, x, want, got);
    }
  }
}

int main(int argc, char **argv) {
  uint64_t total = 0;
  int runs = 0;
  for (int s = 0; s < RG_A_COUNT; s++) {
    if (argc > 1 && strcmp(argv[1], rg_act_names[s]) != 0) continue;
    struct tally t = {{0}, {0}};
    sweep((enum rg_act_slot)s, &t);
    for (int isa = 0; isa < RG_ISA_COUNT; isa++) {
      if (!rg_isa_usable((enum rg_isa)isa)) continue;
      printf("%-15s %-7s %llu NaN where the limit is finite", rg_act_names[s],
             rg_isa_name((enum rg_isa)isa), (unsigned long long)t.nan[isa]);
      if (isa != RG_ISA_SCALAR)
        printf(", %llu of 2^32 inputs differ from scalar", (unsigned long long)t.diff[isa]);
      printf("\n");
      total += t.nan[isa] + t.diff[isa];
    }
    fflush(stdout);
    runs++;
  }
  if (runs == 0) {
    printf("nothing to sweep: no slot named %s\n", argc > 1 ? argv[1] : "");
    return 77;
  }
  return total ? 1 : 0;
}
