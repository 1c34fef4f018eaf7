/* Files: opening to read (rg_open_read) and atomic saving (rg_save_atomic).
 * Every file the library reads or writes goes through here (file.h). */
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
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

/* ------------------------------------------------------------ saving
 *
 * rg_save_atomic, step by step:
 *
 * 1. The target. path is lstat'ed: nothing there (a new file) or a regular
 *    file is fine; a symbolic link is followed (at most 40 links, relative
 *    ones from the link's directory) to its final target, which must itself
 *    be a regular file or not exist; anything else (directory, FIFO,
 *    device, socket) is refused with RG_EIO before anything is written. A
 *    save through a link replaces the file the link points to and leaves
 *    the link alone, which is what writing to the link (a shell's >) does.
 * 2. The temporary file, in the target's directory (a rename cannot cross
 *    file systems): an unnamed O_TMPFILE file where the file system has
 *    them, else "<dir>/.<base>.XXXXXXXX" created with O_CREAT | O_EXCL |
 *    O_NOFOLLOW and a random suffix (retried on EEXIST), mode 0666 minus
 *    the umask either way (and the directory's default ACL), O_CLOEXEC.
 *    No name is derived from the PID, so savers in different PID
 *    namespaces (containers on shared storage, each PID 1) never meet.
 * 3. write fills it through stdio; then fflush and fsync, so the data is on
 *    disk before any name points to it.
 * 4. An O_TMPFILE file is given a random ".<base>.XXXXXXXX" name with linkat
 *    (through /proc/self/fd, or AT_EMPTY_PATH); where neither works, the
 *    save starts over with a named temporary file (write runs again).
 * 5. The target is checked again (a FIFO or device that appeared meanwhile
 *    is still refused), then the temporary name is renamed over it: at
 *    every moment the target holds the old or the new content.
 * 6. The directory is fsynced, so the rename survives a power loss (file
 *    systems that cannot sync a directory, EINVAL or ENOTSUP, pass).
 *
 * On any failure before the rename the temporary file is removed (an
 * unnamed one just closed) and the target is untouched.
 *
 * Leftovers: a process killed during a save leaves nothing when O_TMPFILE
 * works, except in the moment between the link of step 4 and the rename;
 * with named temporary files it may leave its ".<base>.XXXXXXXX" behind.
 * Such a file is never deleted by a later save: nothing proves which
 * process made it or that this process is still not writing it (another
 * saver, possibly in another container, may be between its link and its
 * rename). Leftovers never affect the target or a later save and can be
 * deleted by hand once no save runs. */

#define LINK_HOPS 40
#define TEMP_TRIES 100
#define SUFFIX_LEN 8

enum { FALLBACK = -1 }; /* O_TMPFILE cannot be used here: use a named file */

typedef struct target {
  char path[PATH_MAX]; /* the regular file (or new name) to replace */
  char dir[PATH_MAX];  /* its directory */
  const char *base;    /* its last component, in path */
} target;

/* dir/rel into out (rel when dir is empty or rel is absolute). */
static bool join(char *out, const char *dir, size_t dir_len, const char *rel) {
  int n = rel[0] == '/' || dir_len == 0
              ? snprintf(out, PATH_MAX, "%s", rel)
              : snprintf(out, PATH_MAX, "%.*s/%s", (int)dir_len, dir, rel);
  return n >= 0 && n < PATH_MAX;
}

static size_t dir_len_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
}

/* Step 1: the final target of path, or false with the error set. */
static bool resolve_target(rg_ctx *ctx, const char *fn, const char *path, target *t) {
  char cur[PATH_MAX], link[PATH_MAX];
  if (!join(cur, "", 0, path)) {
    rg_fail(ctx, RG_EIO, fn, "cannot save \"%s\": %s", path, strerror(ENAMETOOLONG));
    return false;
  }
  for (int hop = 0;; hop++) {
    struct stat sb;
    if (lstat(cur, &sb) != 0) {
      if (errno == ENOENT) break; /* a new file (its directory is checked at creation) */
      rg_fail(ctx, RG_EIO, fn, "cannot save \"%s\": %s", path, strerror(errno));
      return false;
    }
    if (S_ISREG(sb.st_mode)) break;
    if (!S_ISLNK(sb.st_mode)) {
      if (hop == 0)
        rg_fail(ctx, RG_EIO, fn, "\"%s\" is %s; a save replaces only a regular file", path,
                rg_file_kind(sb.st_mode));
      else
        rg_fail(ctx, RG_EIO, fn,
                "\"%s\" is a symbolic link to \"%s\", which is %s; a save replaces only a "
                "regular file", path, cur, rg_file_kind(sb.st_mode));
      return false;
    }
    if (hop == LINK_HOPS) {
      rg_fail(ctx, RG_EIO, fn, "cannot save \"%s\": %s", path, strerror(ELOOP));
      return false;
    }
    ssize_t n = readlink(cur, link, sizeof link);
    if (n < 0 || n >= (ssize_t)sizeof link || n == 0) {
      rg_fail(ctx, RG_EIO, fn, "cannot save \"%s\": reading a symbolic link: %s", path,
              strerror(n < 0 ? errno : ENAMETOOLONG));
      return false;
    }
    link[n] = '\0';
    char next[PATH_MAX];
    if (!join(next, cur, dir_len_of(cur), link)) {
      rg_fail(ctx, RG_EIO, fn, "cannot save \"%s\": %s", path, strerror(ENAMETOOLONG));
      return false;
    }
    memcpy(cur, next, sizeof cur);
  }
  size_t dl = dir_len_of(cur);
  const char *base = cur + (strrchr(cur, '/') ? strrchr(cur, '/') - cur + 1 : 0);
  if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
    rg_fail(ctx, RG_EIO, fn, "cannot save \"%s\": %s", path, strerror(EISDIR));
    return false;
  }
  memcpy(t->path, cur, sizeof cur);
  t->base = t->path + (base - cur);
  if (dl == 0)
    strcpy(t->dir, ".");
  else
    snprintf(t->dir, sizeof t->dir, "%.*s", (int)dl, cur);
  return true;
}

/* "<dir>/.<base>.XXXXXXXX" with a random suffix; the base is cut so that the
 * name stays within NAME_MAX. False when the whole path does not fit. */
static bool temp_name(const target *t, char *out) {
  static const char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char r[SUFFIX_LEN];
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
    /* Uniqueness comes from O_EXCL / linkat's EEXIST; this only spreads. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 16 ^
                 (uint64_t)(uintptr_t)r;
    for (int i = 0; i < SUFFIX_LEN; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
      r[i] = (unsigned char)(x >> 56);
  }
  char suffix[SUFFIX_LEN + 1];
  for (int i = 0; i < SUFFIX_LEN; i++) suffix[i] = digits[r[i] % (sizeof digits - 1)];
  suffix[SUFFIX_LEN] = '\0';
  int room = NAME_MAX - 2 - SUFFIX_LEN;
  int n = snprintf(out, PATH_MAX, "%s/.%.*s.%s", t->dir, room, t->base, suffix);
  return n > 0 && n < PATH_MAX;
}

/* Step 3 into f (not closed); errno value of the first failure and *step. */
static int fill(FILE *f, rg_write_fn write, void *arg, const char **step) {
  *step = "cannot write";
  int err = write(f, arg);
  errno = 0;
  if (!err && fflush(f) != 0) err = errno ? errno : EIO;
  if (!err && ferror(f)) err = EIO;
  if (!err) {
    *step = "cannot sync";
    if (fsync(fileno(f)) != 0) err = errno;
  }
  return err;
}

static int close_file(FILE *f, int err, const char **step) {
  errno = 0;
  if (fclose(f) != 0 && !err) {
    *step = "cannot close";
    err = errno ? errno : EIO;
  }
  return err;
}

/* Steps 2 to 4 with O_TMPFILE: 0 with the file linked at tmp, FALLBACK when
 * O_TMPFILE or the link is not available, or an errno value. */
static int via_tmpfile(const target *t, rg_write_fn write, void *arg, char *tmp,
                       const char **step) {
#ifdef O_TMPFILE
  *step = "cannot create the temporary file for";
  int fd = open(t->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOTSUP
               ? FALLBACK
               : errno;
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    close(fd);
    return err;
  }
  int err = fill(f, write, arg, step);
  bool linked = false;
  if (!err) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(f));
    err = EEXIST;
    for (int i = 0; i < TEMP_TRIES && err == EEXIST; i++) {
      if (!temp_name(t, tmp)) {
        err = ENAMETOOLONG;
        break;
      }
      if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0 ||
          (errno != EEXIST && linkat(fileno(f), "", AT_FDCWD, tmp, AT_EMPTY_PATH) == 0))
        err = 0;
      else if (errno != EEXIST)
        err = FALLBACK; /* no /proc, no right to AT_EMPTY_PATH, ... */
    }
    if (err == EEXIST || err == ENAMETOOLONG) *step = "cannot create the temporary file for";
    linked = err == 0;
  }
  err = close_file(f, err, step);
  if (err && linked) unlink(tmp);
  return err;
#else
  (void)t, (void)write, (void)arg, (void)tmp, (void)step;
  return FALLBACK;
#endif
}

/* Steps 2 to 3 with a named temporary file: 0 with the file at tmp, or an
 * errno value with nothing left behind. */
static int via_named(const target *t, rg_write_fn write, void *arg, char *tmp,
                     const char **step) {
  *step = "cannot create the temporary file for";
  int fd = -1;
  for (int i = 0; i < TEMP_TRIES && fd < 0; i++) {
    if (!temp_name(t, tmp)) return ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) return errno;
  }
  if (fd < 0) return EEXIST;
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    close(fd);
    unlink(tmp);
    return err;
  }
  int err = close_file(f, fill(f, write, arg, step), step);
  if (err) unlink(tmp);
  return err;
}

/* Step 6; 0 or an errno value. */
static int sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) err = errno;
  close(fd);
  return err;
}

static rg_status io_fail(rg_ctx *ctx, const char *fn, const char *what, const char *path,
                         int err) {
  rg_fail(ctx, RG_EIO, fn, "%s \"%s\": %s", what, path, strerror(err ? err : EIO));
  return ctx->status;
}

rg_status rg_save_atomic(rg_ctx *ctx, const char *fn, const char *path, rg_write_fn write,
                         void *arg) {
  target t;
  if (!resolve_target(ctx, fn, path, &t)) return ctx->status;
  char tmp[PATH_MAX];
  const char *step = "cannot write";
  int err = ctx->save_named ? FALLBACK : via_tmpfile(&t, write, arg, tmp, &step);
  if (err == FALLBACK) err = via_named(&t, write, arg, tmp, &step);
  if (err) return io_fail(ctx, fn, step, path, err);
  struct stat sb;
  if (lstat(t.path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
    unlink(tmp);
    rg_fail(ctx, RG_EIO, fn, "\"%s\" became %s while saving; a save replaces only a regular file",
            path, rg_file_kind(sb.st_mode));
    return ctx->status;
  }
  if (rename(tmp, t.path) != 0) {
    err = errno;
    unlink(tmp);
    return io_fail(ctx, fn, "cannot rename the temporary file over", path, err);
  }
  err = sync_dir(t.dir);
  if (err)
    return io_fail(ctx, fn, "saved, but cannot sync the directory (the rename may not survive "
                   "a power loss) of", path, err);
  return RG_OK;
}
