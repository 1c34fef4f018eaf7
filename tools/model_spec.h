/* The text that describes an MLP in a checkpoint (attribute "model"), so
 * that `regrad eval --load FILE` rebuilds it with no other flag:
 *
 *   mlp in=784 out=10 hidden=256,256 activation=relu leaky_slope=0.01
 *       batch_norm=0 dropout=0
 *
 * (one line; "hidden=" empty for a linear model). Floats are printed with
 * nine significant digits, which round-trips every float exactly. */
#ifndef RG_TOOLS_MODEL_SPEC_H
#define RG_TOOLS_MODEL_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "regrad.h"

#define MODEL_SPEC_ATTR "model"
#define MODEL_SPEC_MAX 2048

void model_spec_format(const rg_mlp_config *m, char *buf, size_t size);
/* false with why for text that is not such a description. */
bool model_spec_parse(const char *text, rg_mlp_config *m, char *why, size_t size);

/* The activation's flag name ("relu", ...) and back (-1 for unknown). */
const char *model_activation_name(rg_nonlinearity a);
int model_activation_parse(const char *name);

#endif
