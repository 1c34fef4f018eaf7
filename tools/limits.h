/* The memory limit of the contexts the `regrad` command makes (limits.c).
 *
 * --mem-limit (train, eval, study) is an ARG_BYTES flag: a variable left at
 * 0 means the flag was not given, and the default applies: 3/4 of the
 * smaller of the machine's physical memory and the memory limit of the
 * process's control group (a container), so that a lying data file or an
 * absurd model size fails with a clear RG_ENOMEM instead of the kernel's
 * out-of-memory killer or swapping. --mem-limit 0 (stored as UINT64_MAX)
 * means no limit. */
#ifndef RG_TOOLS_LIMITS_H
#define RG_TOOLS_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* The default: 3/4 of min(physical memory, cgroup limit), 0 when neither is
 * known (no limit). */
uint64_t limits_default_mem(void);

/* rg_config.mem_limit for a --mem-limit variable: 0 (not given) gives the
 * default, UINT64_MAX (--mem-limit 0) no limit (0), anything else itself. */
size_t limits_mem(uint64_t flag);

#endif
