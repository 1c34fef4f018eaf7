/* Feature detection with cpuid + xgetbv on x86 (AVX needs the OS to save ymm
 * state, AVX-512 also opmask and zmm state); NEON is baseline on aarch64. */
#include "core/cpu.h"

#include <string.h>
#include <strings.h>

#if defined(__x86_64__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

struct rg_cpu_features rg_cpu_features(void) {
  struct rg_cpu_features f = {0};
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  bool osxsave = (c >> 27) & 1;
  f.fma = (c >> 12) & 1;
  f.avx = (c >> 28) & 1;
  if (osxsave) {
    unsigned long long xcr0 = read_xcr0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = (b >> 5) & 1;
    f.avx512f = (b >> 16) & 1;
    f.avx512dq = (b >> 17) & 1;
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
  }
  return f;
}
#else
struct rg_cpu_features rg_cpu_features(void) {
  struct rg_cpu_features f = {0};
#if defined(__aarch64__)
  f.neon = true;
  f.fma = true;
#endif
  return f;
}
#endif

static const char *const isa_names[RG_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

const char *rg_isa_name(enum rg_isa isa) {
  return (isa >= 0 && isa < RG_ISA_COUNT) ? isa_names[isa] : "unknown";
}

int rg_isa_from_name(const char *name) {
  for (int i = 0; name && i < RG_ISA_COUNT; i++)
    if (strcasecmp(name, isa_names[i]) == 0) return i; /* "AVX2", "Scalar" too */
  return -1;
}

const struct rg_kernels *rg_isa_table(enum rg_isa isa) {
  switch (isa) {
#ifdef RG_HAVE_SCALAR
    case RG_ISA_SCALAR: return &rg_kernels_scalar;
#endif
#ifdef RG_HAVE_AVX2
    case RG_ISA_AVX2: return &rg_kernels_avx2;
#endif
#ifdef RG_HAVE_AVX512
    case RG_ISA_AVX512: return &rg_kernels_avx512;
#endif
#ifdef RG_HAVE_NEON
    case RG_ISA_NEON: return &rg_kernels_neon;
#endif
    default: return NULL;
  }
}

/* The scalar reference calls SLEEF's purecfma functions and fmaf, so on x86
 * it needs FMA hardware (every x86-64 since 2013); see docs/design.md. */
static bool cpu_runs(enum rg_isa isa, struct rg_cpu_features f) {
  switch (isa) {
    case RG_ISA_SCALAR: return f.fma || f.neon;
    case RG_ISA_AVX2: return f.avx2 && f.fma && f.avx && f.os_ymm;
    case RG_ISA_AVX512:
      return f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl && f.fma && f.os_zmm;
    case RG_ISA_NEON: return f.neon;
    default: return false;
  }
}

bool rg_isa_usable(enum rg_isa isa) {
  return rg_isa_table(isa) != NULL && cpu_runs(isa, rg_cpu_features());
}

enum rg_isa rg_isa_best(void) {
  static const enum rg_isa order[] = {RG_ISA_AVX512, RG_ISA_AVX2, RG_ISA_NEON};
  for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++)
    if (rg_isa_usable(order[i])) return order[i];
  return RG_ISA_SCALAR;
}
