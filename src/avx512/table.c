/* The AVX-512 kernel table: the shared bodies of src/algo/ compiled on this
 * folder's vocabulary, gemm from gemm.c, and the table of them all. */
#define RG_ISA avx512
#include "isa.h"
#include "vec.h"
#include "vmath.h"
#include "philox.h"
#include "algo/bodies.h"
#include "table.inc"
