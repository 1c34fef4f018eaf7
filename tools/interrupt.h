/* Ctrl-C for `regrad train`: the first SIGINT or SIGTERM asks the run to
 * stop at the end of the current step (which saves the final checkpoint);
 * a second one ends the process at once, as usual. */
#ifndef RG_TOOLS_INTERRUPT_H
#define RG_TOOLS_INTERRUPT_H

#include <stdbool.h>

void interrupt_install(void);
bool interrupt_requested(void);

#endif
