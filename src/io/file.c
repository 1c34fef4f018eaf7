/* Files: opening to read (rg_open_read) and atomic saving (rg_save_atomic).
 * Every file the library reads or writes goes through here (file.h). */
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

const char *rg_file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

/* ------------------------------------------------------------ reading */

int rg_open_read(rg_ctx *ctx, const char *fn, const char *path, struct stat *st) {
  /* O_NONBLOCK: opening a FIFO without a writer (or some devices) would
   * otherwise wait for ever before fstat could tell what it is. */
  int fd;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    rg_fail(ctx, RG_EIO, fn, "cannot open \"%s\": %s", path, strerror(errno));
    return -1;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    rg_fail(ctx, RG_EIO, fn, "cannot stat \"%s\": %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (!S_ISREG(sb.st_mode)) {
    rg_fail(ctx, RG_EIO, fn, "\"%s\" is %s, expected a regular file", path,
            rg_file_kind(sb.st_mode));
    close(fd);
    return -1;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    rg_fail(ctx, RG_EIO, fn, "cannot read \"%s\": %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (st) *st = sb;
  return fd;
}
