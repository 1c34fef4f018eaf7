/* The NEON kernel table: the shared bodies of src/algo/ compiled on this
 * folder's vocabulary, gemm from gemm.c, and the table of them all. */
#define RG_ISA neon
#include "isa.h"
#include "vec.h"
#include "vmath.h"
#include "philox.h"
#include "algo/bodies.h"
#include "table.inc"
