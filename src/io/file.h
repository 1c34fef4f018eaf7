/* Opening files to read and saving files atomically: the one place where the
 * library touches the file system (src/io/file.c). */
#ifndef RG_IO_FILE_H
#define RG_IO_FILE_H
#include <sys/stat.h>

#include "core/internal.h"

/* Opens path to read: O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK (so a FIFO
 * or a device cannot block the open), then fstat, and refuses anything that
 * is not a regular file with RG_EIO "fn: \"path\" is a FIFO, expected a
 * regular file" (directory, character device, block device, socket). Then
 * clears O_NONBLOCK. Returns the descriptor, with the file's status in *st
 * when st is not NULL; or -1 with RG_EIO set ("fn: cannot open \"path\":
 * <reason>"). */
int rg_open_read(rg_ctx *ctx, const char *fn, const char *path, struct stat *st);

/* "a FIFO", "a directory", ...: what a file of this mode is, for messages. */
const char *rg_file_kind(mode_t mode);
#endif
