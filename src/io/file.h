/* Opening files to read and saving files atomically: the one place where the
 * library touches the file system (src/io/file.c). */
#ifndef RG_IO_FILE_H
#define RG_IO_FILE_H
#include <stdio.h>
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

/* Writes a file's content to f and returns 0 or the errno value of the first
 * failure. It may be called more than once for one save (a second time when
 * the first temporary file cannot be linked into place), so it must write
 * the same bytes each time. */
typedef int (*rg_write_fn)(FILE *f, void *arg);

/* Replaces path atomically with what write produces: at every moment path
 * holds its complete old content or the complete new one (file.c lists the
 * steps). path must name a regular file or nothing; a symbolic link is
 * followed and its final target replaced (the link stays). Returns RG_OK, or
 * RG_EIO naming fn, path, the step that failed and the system's reason, with
 * path untouched and no temporary file left (except when only the final
 * directory sync fails: the new file is then in place). */
rg_status rg_save_atomic(rg_ctx *ctx, const char *fn, const char *path, rg_write_fn write,
                         void *arg);

/* "a FIFO", "a directory", ...: what a file of this mode is, for messages. */
const char *rg_file_kind(mode_t mode);
#endif
