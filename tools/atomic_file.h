/* Files of the `regrad` command written atomically: to a temporary file in
 * the target's directory (".<name>.XXXXXX", mkstemp), then flushed, synced
 * and renamed over the target, so a reader (or a crash) sees the old file
 * or the complete new one, never a part. The library's checkpoints have
 * their own helper (src/io/file.c). */
#ifndef RG_TOOLS_ATOMIC_FILE_H
#define RG_TOOLS_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct atomic_file {
  FILE *f;
  char path[4096], tmp[4112];
} atomic_file;

/* Opens the temporary file for path; NULL with the reason in err. */
FILE *atomic_open(atomic_file *a, const char *path, char *err, size_t size);
/* With ok, flushes, syncs and renames into place (false with the reason in
 * err); without ok, or on any failure, removes the temporary file. */
bool atomic_commit(atomic_file *a, bool ok, char *err, size_t size);

#endif
