/* Checkpoints: every parameter and buffer of a context (optimizer state lives
 * in buffers), the seed, the dropout stream counter and the caller's
 * rg_train_state, in the versioned, CRC-checked format described at the top
 * of ckpt_format.c (and in docs/checkpoints.md).
 *
 * Saving writes "<path>.tmp.<pid>" in the same directory, checks every write,
 * flushes, fsyncs and closes it, renames it over path and fsyncs the
 * directory: a crash at any moment leaves path with either its old or its new
 * content. On any failure before the rename the temporary file is removed and
 * path is untouched (RG_EIO naming the path and the system's reason).
 *
 * Loading reads the whole file, validates every byte of it (ck_parse) and
 * matches its tensors against the context by name, kind and shape before it
 * changes anything: a failed load leaves the context's tensors, seed, stream
 * and *st as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/ckpt_format.h"
#include "io/file.h"

/* The sticky-error status for a failed system call on path. */
static rg_status io_fail(rg_ctx *ctx, const char *fn, const char *what, const char *path,
                         int err) {
  rg_fail(ctx, RG_EIO, fn, "%s \"%s\": %s", what, path, strerror(err ? err : EIO));
  return ctx->status;
}

static bool check_args(rg_ctx *ctx, const char *fn, const char *path) {
  if (ctx->status != RG_OK) return false;
  if (!path || !*path) {
    rg_fail(ctx, RG_EINVAL, fn, "path is %s, expected a file name", path ? "empty" : "NULL");
    return false;
  }
  return true;
}

/* ------------------------------------------------------------ save */

/* fsync of the directory holding path, so that the rename survives a power
 * loss. File systems that cannot sync a directory (EINVAL, ENOTSUP) pass. */
static int sync_parent_dir(rg_ctx *ctx, const char *fn, const char *path) {
  const char *slash = strrchr(path, '/');
  size_t len = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
  char *dir = rg_heap_alloc(ctx, fn, len + 1);
  if (!dir) return ENOMEM;
  if (!slash)
    strcpy(dir, ".");
  else {
    memcpy(dir, path, len);
    dir[len] = '\0';
  }
  int err = 0;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    err = errno;
  else {
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) err = errno;
    close(fd);
  }
  rg_heap_free(ctx, dir, len + 1);
  return err;
}

/* Writes the whole checkpoint to tmp. Returns 0 or the errno of the first
 * failure, with *step naming the call that failed. */
static int write_temp(const rg_ctx *ctx, const char *tmp, const rg_train_state *st,
                      const char **step) {
  *step = "cannot create the temporary file for";
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    close(fd);
    return err;
  }
  ck_writer w = {.f = f};
  *step = "cannot write";
  ck_write_header(&w);
  ck_write_body(&w, ctx, st);
  errno = 0;
  if (!w.err && fflush(f) != 0) w.err = errno ? errno : EIO;
  if (!w.err) {
    *step = "cannot sync";
    if (fsync(fileno(f)) != 0) w.err = errno;
  }
  errno = 0;
  if (fclose(f) != 0 && !w.err) {
    *step = "cannot close";
    w.err = errno ? errno : EIO;
  }
  return w.err;
}

rg_status rg_checkpoint_save(rg_ctx *ctx, const char *path, const rg_train_state *st) {
  static const char fn[] = "rg_checkpoint_save";
  if (!ctx) return RG_EINVAL;
  if (!check_args(ctx, fn, path)) return ctx->status;
  for (int i = 0; i < ctx->n_params; i++)
    if (strlen(ctx->params[i]->name) > UINT32_MAX) {
      rg_fail(ctx, RG_EOVERFLOW, fn, "a tensor name is longer than 4 GiB");
      return ctx->status;
    }
  const rg_train_state zero = {0, 0, 0};
  if (!st) st = &zero;

  size_t tmp_len = strlen(path) + 32;
  char *tmp = rg_heap_alloc(ctx, fn, tmp_len);
  if (!tmp) return ctx->status;
  snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
  const char *step;
  int err = write_temp(ctx, tmp, st, &step);
  if (!err && rename(tmp, path) != 0) {
    err = errno;
    step = "cannot rename the temporary file over";
  }
  if (err) unlink(tmp);
  rg_heap_free(ctx, tmp, tmp_len);
  if (err) return io_fail(ctx, fn, step, path, err);
  err = sync_parent_dir(ctx, fn, path);
  if (err)
    return io_fail(ctx, fn, "saved, but cannot sync the directory (the rename may not survive "
                   "a power loss) of", path, err);
  return RG_OK;
}

/* ------------------------------------------------------------ load */

/* The whole file in one counted heap block of *bytes bytes (*size of them
 * read). NULL with RG_EIO or RG_ENOMEM set on failure. */
static uint8_t *read_file(rg_ctx *ctx, const char *fn, const char *path, size_t *size,
                          size_t *bytes) {
  struct stat sb;
  int fd = rg_open_read(ctx, fn, path, &sb);
  if (fd < 0) return NULL;
  if ((uint64_t)sb.st_size > SIZE_MAX - 1) {
    close(fd);
    rg_fail(ctx, RG_EOVERFLOW, fn, "\"%s\" is too large to load", path);
    return NULL;
  }
  *bytes = sb.st_size ? (size_t)sb.st_size : 1;
  uint8_t *buf = rg_heap_alloc(ctx, fn, *bytes);
  size_t got = 0;
  while (buf && got < (size_t)sb.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      io_fail(ctx, fn, "cannot read", path, errno);
      rg_heap_free(ctx, buf, *bytes);
      buf = NULL;
    }
    if (n <= 0) break; /* 0: the file shrank; the parser reports the truncation */
    got += (size_t)n;
  }
  close(fd);
  *size = got;
  return buf;
}

/* RG_ESHAPE for the first tensor of the context (creation order) that is
 * missing from the file or differs in kind or shape, else for the first
 * tensor of the file (file order) that the context lacks. */
static bool match_context(rg_ctx *ctx, const char *fn, const char *path, const ck_file *f) {
  static const char *const kinds[] = {[RG_PARAM] = "a parameter", [RG_BUFFER] = "a buffer"};
  for (int i = 0; i < ctx->n_params; i++) {
    const rg_tensor *t = ctx->params[i];
    ck_tensor *c = ck_find(f, t->name);
    if (!c)
      rg_fail(ctx, RG_ESHAPE, fn, "\"%s\": tensor \"%s\" of the context is missing in the file",
              path, t->name);
    else if (c->kind != t->kind)
      rg_fail(ctx, RG_ESHAPE, fn, "\"%s\": tensor \"%s\" is %s in the file but %s in the context",
              path, t->name, kinds[c->kind], kinds[t->kind]);
    else if (!rg_same_shape(c->shape, t->shape))
      rg_fail(ctx, RG_ESHAPE, fn,
              "\"%s\": tensor \"%s\" has shape %s in the file but %s in the context", path,
              t->name, RG_SHAPE_STR(c->shape), RG_SHAPE_STR(t->shape));
    else {
      c->matched = true;
      continue;
    }
    return false;
  }
  const ck_tensor *extra = NULL;
  for (int64_t i = 0; i < f->n_tensors; i++)
    if (!f->tensors[i].matched && (!extra || f->tensors[i].index < extra->index))
      extra = &f->tensors[i];
  if (!extra) return true;
  int nl = extra->name_len > 200 ? 200 : (int)extra->name_len;
  rg_fail(ctx, RG_ESHAPE, fn, "\"%s\": tensor \"%.*s\" %s is extra in the file (the context "
          "has no tensor of that name)", path, nl, extra->name, RG_SHAPE_STR(extra->shape));
  return false;
}

rg_status rg_checkpoint_load(rg_ctx *ctx, const char *path, rg_train_state *st) {
  static const char fn[] = "rg_checkpoint_load";
  if (!ctx) return RG_EINVAL;
  if (!check_args(ctx, fn, path)) return ctx->status;
  size_t size = 0, bytes = 0;
  uint8_t *buf = read_file(ctx, fn, path, &size, &bytes);
  if (!buf) return ctx->status;
  ck_file f;
  if (ck_parse(ctx, fn, path, buf, size, &f)) {
    if (match_context(ctx, fn, path, &f)) {
      /* Everything is valid: only now change the context. */
      for (int i = 0; i < ctx->n_params; i++) {
        rg_tensor *t = ctx->params[i];
        ck_decode_floats(t->data, ck_find(&f, t->name)->data, t->numel);
      }
      ctx->seed = f.seed;
      ctx->dropout_stream = f.dropout_stream;
      if (st) *st = f.st;
    }
    ck_file_free(ctx, &f);
  }
  rg_heap_free(ctx, buf, bytes);
  return ctx->status;
}
