/* Output directories of the `regrad` command (outdir.c). */
#ifndef RG_TOOLS_OUTDIR_H
#define RG_TOOLS_OUTDIR_H

#include <stdbool.h>
#include <stddef.h>

/* Whether files can be created in dir (an existing directory): creates and
 * removes a probe file there. False with "cannot write into DIR: reason" in
 * err. */
bool outdir_writable(const char *dir, char *err, size_t size);

#endif
