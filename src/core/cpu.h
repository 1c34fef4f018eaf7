/* CPU feature detection and the choice of kernel table. */
#ifndef RG_CPU_H
#define RG_CPU_H
#include <stdbool.h>

#include "kernels.h"

enum rg_isa { RG_ISA_SCALAR, RG_ISA_AVX2, RG_ISA_AVX512, RG_ISA_NEON, RG_ISA_COUNT };

struct rg_cpu_features {
  bool fma, avx, avx2, avx512f, avx512dq, avx512bw, avx512vl;
  bool os_ymm, os_zmm; /* XCR0: the OS saves ymm / zmm state */
  bool neon;
};

struct rg_cpu_features rg_cpu_features(void);
const char *rg_isa_name(enum rg_isa isa);
/* The ISA with this name, or -1. */
int rg_isa_from_name(const char *name);
/* Compiled into this build and runnable on this CPU and OS. */
bool rg_isa_usable(enum rg_isa isa);
/* The kernel table of an ISA, or NULL when this build does not contain it. */
const struct rg_kernels *rg_isa_table(enum rg_isa isa);
/* Priority avx512 > avx2 > neon > scalar among the usable ones. */
enum rg_isa rg_isa_best(void);
#endif
