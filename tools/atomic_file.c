/* Writing a file atomically (atomic_file.h). */
#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *atomic_open(atomic_file *a, const char *path, char *err, size_t size) {
  memset(a, 0, sizeof *a);
  const char *slash = strrchr(path, '/');
  int dir_len = slash ? (int)(slash - path + 1) : 0;
  if (strlen(path) >= sizeof a->path) {
    snprintf(err, size, "%.200s...: the path is too long", path);
    return NULL;
  }
  strcpy(a->path, path);
  snprintf(a->tmp, sizeof a->tmp, "%.*s.%s.XXXXXX", dir_len, path, path + dir_len);
  int fd = mkstemp(a->tmp);
  if (fd < 0 || !(a->f = fdopen(fd, "w"))) {
    snprintf(err, size, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
    if (fd >= 0) close(fd), unlink(a->tmp);
    return NULL;
  }
  /* mkstemp makes the file 0600; a finished file gets the usual 0666 - umask. */
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  return a->f;
}

bool atomic_commit(atomic_file *a, bool ok, char *err, size_t size) {
  if (!a->f) return false;
  errno = 0;
  int e = ferror(a->f) ? (errno ? errno : EIO) : 0;
  if (!e && fflush(a->f) != 0) e = errno ? errno : EIO;
  if (!e && fsync(fileno(a->f)) != 0) e = errno;
  if (fclose(a->f) != 0 && !e) e = errno ? errno : EIO;
  a->f = NULL;
  if (ok && !e && rename(a->tmp, a->path) != 0) e = errno;
  if (!ok || e) unlink(a->tmp);
  if (e) snprintf(err, size, "%s: write failed: %s", a->path, strerror(e));
  return ok && !e;
}
