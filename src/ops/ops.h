/* What the ops layer owns about its ops: the list (ops.def), each op's name
 * as messages and diagnostics show it, and its backward rule. core/tape.c
 * records nodes with an op from here and walks the tape through the rule
 * table; nothing else in core knows an op by name. Each op file keeps its
 * saved state in a struct of its own (rg_record's state), named <op>_state. */
#ifndef RG_OPS_OPS_H
#define RG_OPS_OPS_H

#include "regrad.h"

enum rg_op {
#define RG_OP(id, name) RG_OP_##id,
#include "ops/ops.def"
#undef RG_OP
  RG_OP_COUNT
};

struct rg_node;
typedef void (*rg_backward_fn)(rg_ctx *ctx, const struct rg_node *node);

/* "matmul", "tanh", ...; "unknown" out of range. */
const char *rg_op_name(enum rg_op op);

/* The rule of every op, indexed by enum rg_op (src/ops/table.c). */
extern const rg_backward_fn rg_backward_rules[RG_OP_COUNT];

/* The rules themselves, each defined next to its op's forward. */
#define RG_OP(id, name) void rg_bwd_##id(rg_ctx *ctx, const struct rg_node *node);
#include "ops/ops.def"
#undef RG_OP

#endif
