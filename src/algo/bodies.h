/* Every slot body written once for all ISAs, in the order of kernels.def
 * (gemm aside: its tiles are ISA-specific, src/<isa>/gemm.c). Included by
 * src/<isa>/table.c after that ISA's vocabulary (vec.h), transcendentals
 * (vmath.h) and Philox groups (philox.h); RG_PICK (isa.h) names each body
 * for the ISA being compiled. */
#ifndef RG_ALGO_BODIES_H
#define RG_ALGO_BODIES_H

#include "algo/drive.h"
#include "algo/vmath.h"
#include "algo/rows.h"
#include "algo/philox.h"

#include "algo/eltwise.h"
#include "algo/reduce.h"
#include "algo/loss.h"
#include "algo/random.h"
#include "algo/norm.h"
#include "algo/optim.h"
#endif
