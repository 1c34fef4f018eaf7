/* Shared test helpers: deterministic random data, and the ISA skip hook that
 * makes a suite run under REGRAD_ISA=<isa> exit 77 (meson: SKIP) when this
 * CPU lacks the ISA. Include from exactly one file per test binary that
 * defines RG_TEST_MAIN. */
#ifndef RG_TEST_HELPERS_H
#define RG_TEST_HELPERS_H
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regrad.h"

static inline uint64_t th_next(uint64_t *s) {
  *s += 0x9E3779B97F4A7C15ull;
  uint64_t z = *s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static inline void th_fill(float *p, int64_t n, uint64_t seed, float lo, float hi) {
  for (int64_t i = 0; i < n; i++)
    p[i] = lo + (hi - lo) * (float)(th_next(&seed) >> 40) * 0x1p-24f;
}

/* A context on the ISA chosen by REGRAD_ISA (or the best), failing the test
 * if it cannot be made. */
static inline rg_ctx *th_ctx(uint64_t seed) {
  rg_config cfg = {.seed = seed};
  rg_ctx *ctx = rg_ctx_new(&cfg);
  cr_assert(ctx != NULL);
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  return ctx;
}

/* A fresh directory /tmp/rg_<name>.XXXXXX for a test's files (dir holds at
 * least 64 bytes), and its removal with everything in it. */
static inline void th_tempdir(char *dir, const char *name) {
  snprintf(dir, 64, "/tmp/rg_%s.XXXXXX", name);
  cr_assert(mkdtemp(dir), "mkdtemp %s", dir);
}

static inline void th_rmtree(const char *dir) {
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

#ifdef RG_TEST_MAIN
ReportHook(PRE_ALL)(struct criterion_test_set *set) {
  (void)set;
  const char *want = getenv("REGRAD_ISA");
  if (!want || !*want || !strcmp(want, "auto")) return;
  if (!rg_isa_supported(want)) {
    fprintf(stderr, "SKIP: REGRAD_ISA=%s is not supported by this CPU or build\n", want);
    exit(77);
  }
}
#endif
#endif
