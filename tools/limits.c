/* The default memory limit of the regrad command (limits.h).
 *
 * Why 3/4 of physical memory (or of the cgroup's limit, when smaller): the
 * limit counts what the library holds (parameters, optimizer state, the
 * tape's arena, a file being loaded); datasets are outside the count but
 * each must fit in what the limit leaves when it is made. A quarter stays
 * for the rest of the process (datasets already made, the program), the
 * page cache and the system, so a request the machine cannot serve fails as
 * RG_ENOMEM with the sizes instead of ending in the out-of-memory killer or
 * in swap. Physical memory rather than MemAvailable: the limit is then the
 * same on a machine whatever else runs, so a command that fits once fits
 * again; in a container the cgroup's limit is the real ceiling (exceeding
 * it gets the process killed), so the smaller of the two counts. */
#include "limits.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A byte count from a cgroup file ("max" or unreadable: 0). */
static uint64_t read_bytes_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  unsigned long long v = 0;
  int got = fscanf(f, "%llu", &v);
  fclose(f);
  return got == 1 ? (uint64_t)v : 0;
}

/* The memory limit of this process's control group, 0 when none. */
static uint64_t cgroup_limit(void) {
  /* cgroup v2: "0::/path" in /proc/self/cgroup, memory.max under it. */
  uint64_t limit = 0;
  FILE *f = fopen("/proc/self/cgroup", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "0::", 3) != 0) continue;
    line[strcspn(line, "\n")] = '\0';
    char path[700];
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", strcmp(line + 3, "/") ? line + 3 : "");
    limit = read_bytes_file(path);
  }
  if (f) fclose(f);
  if (!limit) limit = read_bytes_file("/sys/fs/cgroup/memory.max");
  /* cgroup v1 (a huge value means none). */
  if (!limit) limit = read_bytes_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  return limit;
}

uint64_t limits_default_mem(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  uint64_t ram = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
  uint64_t cg = cgroup_limit(), base = ram;
  if (cg && (!base || cg < base)) base = cg;
  return base / 4 * 3;
}

size_t limits_mem(uint64_t flag) {
  if (flag == UINT64_MAX) return 0;
  uint64_t v = flag ? flag : limits_default_mem();
  return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}
