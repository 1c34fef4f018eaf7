/* Included by every file in src/<isa>/ after defining RG_ISA (scalar, avx2,
 * avx512 or neon): declares that ISA's body of every slot, so each body is
 * checked against the slot signature in kernels.def. */
#ifndef RG_ISA
#error "define RG_ISA before including isa.h"
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#define RG_KERNEL(name, ret, params) ret RG_BODY(name) params;
#include "kernels.def"
#undef RG_KERNEL
