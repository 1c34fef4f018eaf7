/* Checkpoints: every parameter and buffer of a context (optimizer state lives
 * in buffers), the seed, the dropout stream counter and the caller's
 * rg_train_state, in the versioned, CRC-checked format described at the top
 * of ckpt_format.c (and in docs/checkpoints.md).
 *
 * Saving goes through rg_save_atomic (src/io/file.c): the target must be a
 * regular file or a new name (a symbolic link is followed), the data goes
 * to a uniquely named (or unnamed, O_TMPFILE) temporary file in the target's
 * directory, is flushed and fsynced, renamed over the target, and the
 * directory is fsynced: a crash at any moment leaves the target with either
 * its old or its new content. On any failure before the rename the
 * temporary file is removed and the target is untouched (RG_EIO naming the
 * path and the system's reason).
 *
 * Loading reads the whole file (opened by rg_open_read, which refuses
 * anything but a regular file), validates every byte of it (ck_parse) and
 * matches its tensors against the context by name, kind and shape, and its
 * state records by name, size and the owning object's range checks, before
 * it changes anything: a failed load leaves the context's tensors, states,
 * attributes, seed, stream and *st as they were.
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

struct save_job {
  const rg_ctx *ctx;
  const rg_train_state *st;
};

/* The whole checkpoint into f (rg_save_atomic's writer). */
static int write_checkpoint(FILE *f, void *arg) {
  const struct save_job *job = arg;
  ck_writer w = {.f = f};
  ck_write_header(&w);
  ck_write_body(&w, job->ctx, job->st);
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
  const rg_train_state zero = {0, 0};
  struct save_job job = {ctx, st ? st : &zero};
  return rg_save_atomic(ctx, fn, path, write_checkpoint, &job);
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
 * missing from the file or differs in kind or shape, else (when `all`) for
 * the first tensor of the file (file order) that the context lacks. */
static bool match_tensors(rg_ctx *ctx, const char *fn, const char *path, const ck_file *f,
                          bool all) {
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
  for (int64_t i = 0; all && i < f->n_tensors; i++)
    if (!f->tensors[i].matched && (!extra || f->tensors[i].index < extra->index))
      extra = &f->tensors[i];
  if (!extra) return true;
  int nl = extra->name_len > 200 ? 200 : (int)extra->name_len;
  rg_fail(ctx, RG_ESHAPE, fn, "\"%s\": tensor \"%.*s\" %s is extra in the file (the context "
          "has no tensor of that name)", path, nl, extra->name, RG_SHAPE_STR(extra->shape));
  return false;
}

/* Every registered state of the context must be in the file, of its size
 * and in range (the object's check); the file may hold no other. */
static bool match_states(rg_ctx *ctx, const char *fn, const char *path, const ck_file *f) {
  for (int i = 0; i < ctx->n_states; i++) {
    const rg_state *s = &ctx->states[i];
    ck_record *r = ck_find_state(f, s->name);
    char where[600];
    snprintf(where, sizeof where, "\"%s\": state \"%s\"", path, s->name);
    if (!r) {
      rg_fail(ctx, RG_ESHAPE, fn, "%s of the context is missing in the file%s", where,
              f->version == 1 ? " (a version-1 checkpoint holds no optimizer or clipper state: "
                                "load it with rg_checkpoint_load_model)" : "");
      return false;
    }
    if (r->len != s->kind->bytes) {
      rg_fail(ctx, RG_ESHAPE, fn, "%s is %zu bytes in the file, %zu in the context", where,
              r->len, s->kind->bytes);
      return false;
    }
    if (!s->kind->check(ctx, fn, where, s->obj, r->data)) return false;
    r->matched = true;
  }
  for (int64_t i = 0; i < f->n_states; i++)
    if (!f->states[i].matched) {
      const ck_record *r = &f->states[i];
      int nl = r->name_len > 200 ? 200 : (int)r->name_len;
      rg_fail(ctx, RG_ESHAPE, fn, "\"%s\": state \"%.*s\" is extra in the file (the context "
              "has no object with that state)", path, nl, r->name);
      return false;
    }
  return true;
}

static void load_tensors(rg_ctx *ctx, const ck_file *f) {
  for (int i = 0; i < ctx->n_params; i++) {
    rg_tensor *t = ctx->params[i];
    ck_decode_floats(t->data, ck_find(f, t->name)->data, t->numel);
  }
}

/* Checks the arguments, reads and parses the file: true with *f filled
 * (free it and buf with close_file). */
static bool open_file(rg_ctx *ctx, const char *fn, const char *path, uint8_t **buf,
                      size_t *bytes, ck_file *f) {
  if (!check_args(ctx, fn, path)) return false;
  size_t size = 0;
  *buf = read_file(ctx, fn, path, &size, bytes);
  if (!*buf) return false;
  if (ck_parse(ctx, fn, path, *buf, size, f)) return true;
  rg_heap_free(ctx, *buf, *bytes);
  return false;
}

static void close_file(rg_ctx *ctx, uint8_t *buf, size_t bytes, ck_file *f) {
  ck_file_free(ctx, f);
  rg_heap_free(ctx, buf, bytes);
}

rg_status rg_checkpoint_load(rg_ctx *ctx, const char *path, rg_train_state *st) {
  static const char fn[] = "rg_checkpoint_load";
  if (!ctx) return RG_EINVAL;
  uint8_t *buf;
  size_t bytes;
  ck_file f;
  if (!open_file(ctx, fn, path, &buf, &bytes, &f)) return ctx->status;
  if (match_tensors(ctx, fn, path, &f, true) && match_states(ctx, fn, path, &f)) {
    /* Everything is valid: only now change the context. Attributes are
     * copied first, since copying can fail for memory. */
    for (int64_t i = 0; i < f.n_attrs && ctx->status == RG_OK; i++)
      rg_attr_set(ctx, fn, f.attrs[i].name, f.attrs[i].name_len, (const char *)f.attrs[i].data,
                  f.attrs[i].len);
    if (ctx->status == RG_OK) {
      load_tensors(ctx, &f);
      for (int i = 0; i < ctx->n_states; i++)
        ctx->states[i].kind->load(ctx->states[i].obj, ck_find_state(&f, ctx->states[i].name)->data);
      ctx->seed = f.seed;
      ctx->dropout_stream = f.dropout_stream;
      if (st) *st = f.st;
    }
  }
  close_file(ctx, buf, bytes, &f);
  return ctx->status;
}

rg_status rg_checkpoint_load_model(rg_ctx *ctx, const char *path) {
  static const char fn[] = "rg_checkpoint_load_model";
  if (!ctx) return RG_EINVAL;
  uint8_t *buf;
  size_t bytes;
  ck_file f;
  if (!open_file(ctx, fn, path, &buf, &bytes, &f)) return ctx->status;
  if (match_tensors(ctx, fn, path, &f, false)) load_tensors(ctx, &f);
  close_file(ctx, buf, bytes, &f);
  return ctx->status;
}

rg_status rg_checkpoint_read_attr(rg_ctx *ctx, const char *path, const char *key, char *out,
                                  size_t size) {
  static const char fn[] = "rg_checkpoint_read_attr";
  if (!ctx) return RG_EINVAL;
  if (ctx->status != RG_OK) return ctx->status;
  if (!key || !out || size == 0) {
    rg_fail(ctx, RG_EINVAL, fn, "key, buf and size > 0 are required");
    return ctx->status;
  }
  uint8_t *buf;
  size_t bytes;
  ck_file f;
  if (!open_file(ctx, fn, path, &buf, &bytes, &f)) return ctx->status;
  const ck_record *r = ck_find_attr(&f, key);
  if (!r)
    rg_fail(ctx, RG_ERANGE, fn, "\"%s\" has no attribute \"%s\"%s", path, key,
            f.version == 1 ? " (a version-1 checkpoint, from regrad 0.1, has none)" : "");
  else if (r->len >= size)
    rg_fail(ctx, RG_EOVERFLOW, fn, "\"%s\": attribute \"%s\" is %zu bytes, the buffer holds %zu",
            path, key, r->len, size - 1);
  else {
    memcpy(out, r->data, r->len);
    out[r->len] = '\0';
  }
  close_file(ctx, buf, bytes, &f);
  return ctx->status;
}
