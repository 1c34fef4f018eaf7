/* The op table: names and backward rules in ops.def order (ops.h). */
#include "core/internal.h"

static const char *const op_names[RG_OP_COUNT] = {
#define RG_OP(id, name) [RG_OP_##id] = name,
#include "ops/ops.def"
#undef RG_OP
};

const char *rg_op_name(enum rg_op op) {
  return (unsigned)op < RG_OP_COUNT ? op_names[op] : "unknown";
}

/* A missing rule is a link error and a miscounted table a compile error. */
const rg_backward_fn rg_backward_rules[RG_OP_COUNT] = {
#define RG_OP(id, name) [RG_OP_##id] = rg_bwd_##id,
#include "ops/ops.def"
#undef RG_OP
};
_Static_assert(sizeof rg_backward_rules / sizeof rg_backward_rules[0] == RG_OP_COUNT,
               "every op needs a backward rule");
