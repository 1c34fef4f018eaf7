/* The IDX reader's byte source (source.h): plain bytes or gzip members,
 * inflated with zlib directly over the descriptor from rg_open_read.
 *
 * Not gzread: it skips whatever follows the last gzip member when that is
 * not another member (so bytes after a gzip stream went unnoticed, while
 * bytes after a plain file's data were refused), and its buffers are
 * outside the context's accounting. Here zlib allocates through
 * rg_heap_alloc (counted, under the memory limit, reached by the
 * fault-injection tests), input comes in reads of IN_BYTES, and output goes
 * straight into the caller's buffer. */
#include "data/source.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "io/file.h"

#define IN_BYTES (64 << 10)
#define STEP (1 << 30) /* the most one read or inflate call is asked for */
#define ZHEAD 16       /* size prefix of zlib's blocks (keeps 16-byte alignment) */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  rg_source *s = opaque;
  size_t bytes = (size_t)items * size + ZHEAD; /* uInt x uInt fits in 64 bits */
  size_t *p = rg_heap_alloc(s->ctx, s->fn, bytes);
  if (!p) return Z_NULL;
  p[0] = bytes;
  return (char *)p + ZHEAD;
}

static void z_free(voidpf opaque, voidpf addr) {
  rg_source *s = opaque;
  if (!addr) return;
  size_t *p = (size_t *)(void *)((char *)addr - ZHEAD);
  rg_heap_free(s->ctx, p, p[0]);
}

/* Moves the unread input to the front of the buffer and reads once more
 * after it (nothing at the end of the file). */
static bool fill(rg_source *s) {
  size_t have = s->z.avail_in;
  if (have && s->z.next_in != s->in) memmove(s->in, s->z.next_in, have);
  s->z.next_in = s->in;
  while (!s->eof && have < IN_BYTES) {
    ssize_t n = read(s->fd, s->in + have, IN_BYTES - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rg_fail(s->ctx, RG_EIO, s->fn, "%s: read failed: %s", s->path, strerror(errno));
      return false;
    }
    if (n == 0)
      s->eof = true;
    else
      have += (size_t)n, s->file_pos += n;
    break;
  }
  s->z.avail_in = (uInt)have;
  return true;
}

bool rg_source_open(rg_source *s, rg_ctx *ctx, const char *fn, const char *path) {
  *s = (rg_source){.ctx = ctx, .fn = fn, .path = path, .fd = -1};
  struct stat sb;
  s->fd = rg_open_read(ctx, fn, path, &sb);
  if (s->fd < 0) return false;
  s->size = (int64_t)sb.st_size;
  s->in = rg_heap_alloc(ctx, fn, IN_BYTES);
  bool ok = s->in != NULL;
  if (ok) s->z.next_in = s->in;
  while (ok && s->z.avail_in < 2 && !s->eof) ok = fill(s);
  s->gz = ok && s->z.avail_in >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
  if (s->gz) {
    s->z.zalloc = z_alloc;
    s->z.zfree = z_free;
    s->z.opaque = s;
    int r = inflateInit2(&s->z, 16 + MAX_WBITS); /* gzip wrapper only */
    if (r != Z_OK) {
      rg_fail(ctx, RG_ENOMEM, fn, "%s: cannot start zlib (%s)", path, zError(r));
      ok = false;
    }
    s->z_live = ok;
  }
  if (!ok) rg_source_close(s);
  return ok;
}

static int64_t read_plain(rg_source *s, uint8_t *buf, int64_t len) {
  int64_t got = s->z.avail_in < len ? s->z.avail_in : len;
  memcpy(buf, s->z.next_in, (size_t)got);
  s->z.next_in += got;
  s->z.avail_in -= (uInt)got;
  while (got < len && !s->eof) {
    ssize_t n = read(s->fd, buf + got, (size_t)(len - got < STEP ? len - got : STEP));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rg_fail(s->ctx, RG_EIO, s->fn, "%s: read failed: %s", s->path, strerror(errno));
      return -1;
    }
    if (n == 0) s->eof = true;
    got += n;
    s->file_pos += n;
  }
  if (got < len) s->ended = true;
  return got;
}

/* After the end of a gzip member: another member follows (gzip's
 * concatenation, `cat a.gz b.gz`), or the file ends; anything else is
 * RG_EFORMAT. */
static bool next_member(rg_source *s) {
  while (s->z.avail_in < 2 && !s->eof)
    if (!fill(s)) return false;
  if (s->z.avail_in == 0) {
    s->ended = true;
    return true;
  }
  if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
    inflateReset(&s->z);
    return true;
  }
  int64_t at = s->file_pos - s->z.avail_in;
  int64_t count = s->size - at > (int64_t)s->z.avail_in ? s->size - at : s->z.avail_in;
  rg_fail(s->ctx, RG_EFORMAT, s->fn, "%s: %lld bytes after the end of the gzip stream (at byte %lld)",
          s->path, (long long)count, (long long)at);
  return false;
}

static int64_t read_gz(rg_source *s, uint8_t *buf, int64_t len) {
  int64_t got = 0;
  while (got < len && !s->ended) {
    if (s->z.avail_in == 0 && !s->eof && !fill(s)) return -1;
    uInt room = (uInt)(len - got < STEP ? len - got : STEP);
    s->z.next_out = buf + got;
    s->z.avail_out = room;
    int r = inflate(&s->z, Z_NO_FLUSH);
    got += room - s->z.avail_out;
    if (r == Z_OK) continue;
    if (r == Z_STREAM_END) {
      if (!next_member(s)) return -1;
      continue;
    }
    if (r == Z_BUF_ERROR) { /* no progress without more input */
      if (s->z.avail_in == 0 && s->eof) s->ended = s->cut = true;
      continue;
    }
    if (r == Z_MEM_ERROR)
      rg_fail(s->ctx, RG_ENOMEM, s->fn, "%s: out of memory in zlib", s->path);
    else
      rg_fail(s->ctx, RG_EFORMAT, s->fn, "%s: corrupt gzip data: %s", s->path,
              s->z.msg ? s->z.msg : zError(r));
    return -1;
  }
  return got;
}

int64_t rg_source_read(rg_source *s, uint8_t *buf, int64_t len) {
  if (len <= 0 || s->ended) return 0;
  return s->gz ? read_gz(s, buf, len) : read_plain(s, buf, len);
}

void rg_source_close(rg_source *s) {
  if (s->z_live) inflateEnd(&s->z);
  s->z_live = false;
  rg_heap_free(s->ctx, s->in, IN_BYTES);
  s->in = NULL;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}
