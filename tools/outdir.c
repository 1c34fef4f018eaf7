/* Output directories (outdir.h). A directory may exist and still refuse new
 * files (read-only file system, permissions, a /proc directory), which
 * stat and mkdir do not tell; creating a file is the only sure test. */
#include "outdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool outdir_writable(const char *dir, char *err, size_t size) {
  char probe[4200];
  int n = snprintf(probe, sizeof probe, "%s/.regrad-probe-XXXXXX", dir);
  if (n < 0 || (size_t)n >= sizeof probe) {
    snprintf(err, size, "cannot write into %.900s: %s", dir, strerror(ENAMETOOLONG));
    return false;
  }
  int fd = mkstemp(probe);
  if (fd < 0) {
    snprintf(err, size, "cannot write into %.900s: %s", dir, strerror(errno));
    return false;
  }
  close(fd);
  unlink(probe);
  return true;
}
