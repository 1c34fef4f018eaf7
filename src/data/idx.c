/* IDX files (the MNIST format), plain or gzip-compressed, through zlib, which
 * reads both transparently. A file is: 2 zero bytes, the type byte 0x08
 * (unsigned byte), the number of dimensions, each dimension as a big-endian
 * u32, then exactly the product of the dimensions in bytes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/data.h"
#include "io/file.h"

#define IDX_UBYTE 0x08
#define READ_STEP (1 << 30)      /* the most one gzread call is asked for */
#define FIRST_CAPACITY (1 << 24) /* payload buffer before it grows */

/* The content of one IDX file. */
typedef struct idx_blob {
  const char *path;
  int ndim;
  uint32_t dim[3];
  int64_t bytes; /* product of dim */
  uint8_t *data;
  size_t capacity;
} idx_blob;

/* Sets the error for a failed gzread: EIO for the system, EFORMAT for bad
 * compressed data. */
static void gz_failure(rg_ctx *ctx, const char *fn, gzFile f, const char *path) {
  int err = Z_OK;
  const char *msg = gzerror(f, &err);
  if (err == Z_ERRNO)
    rg_fail(ctx, RG_EIO, fn, "%s: read failed: %s", path, strerror(errno));
  else if (err == Z_MEM_ERROR)
    rg_fail(ctx, RG_ENOMEM, fn, "%s: out of memory in zlib", path);
  else
    rg_fail(ctx, RG_EFORMAT, fn, "%s: corrupt gzip data: %s", path, msg);
}

/* Reads up to len bytes; the count read (short at end of file), or -1 with
 * the error set. */
static int64_t gz_take(rg_ctx *ctx, const char *fn, gzFile f, const char *path, uint8_t *buf,
                       int64_t len) {
  int64_t got = 0;
  while (got < len) {
    int r = gzread(f, buf + got, (unsigned)(len - got < READ_STEP ? len - got : READ_STEP));
    if (r < 0) {
      gz_failure(ctx, fn, f, path);
      return -1;
    }
    if (r == 0) break;
    got += r;
  }
  return got;
}

/* " (the gzip stream is cut short)" when zlib saw the compressed data end. */
static const char *cut_note(gzFile f) {
  int err = Z_OK;
  gzerror(f, &err);
  return err == Z_BUF_ERROR ? " (the gzip stream is cut short)" : "";
}

/* Magic and dimensions. */
static bool read_header(rg_ctx *ctx, const char *fn, gzFile f, idx_blob *b) {
  uint8_t head[4 + 4 * 3] = {0};
  int64_t want = 4 + 4 * (int64_t)b->ndim;
  int64_t got = gz_take(ctx, fn, f, b->path, head, want);
  if (got < 0) return false;
  uint32_t magic = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | head[2] << 8 | head[3];
  uint32_t expect = IDX_UBYTE << 8 | (uint32_t)b->ndim;
  if (got >= 4 && magic != expect) {
    rg_fail(ctx, RG_EFORMAT, fn,
            "%s: magic is 0x%08x, expected 0x%08x (IDX of unsigned bytes, %d dimension%s)",
            b->path, magic, expect, b->ndim, b->ndim > 1 ? "s" : "");
    return false;
  }
  if (got < want) {
    rg_fail(ctx, RG_EFORMAT, fn,
            "%s: the file ends after %lld bytes, inside the %lld-byte header%s", b->path,
            (long long)got, (long long)want, cut_note(f));
    return false;
  }
  b->bytes = 1;
  for (int d = 0; d < b->ndim; d++) {
    const uint8_t *p = head + 4 + 4 * d;
    b->dim[d] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (b->dim[d] == 0 || (d > 0 && b->dim[d] > INT_MAX) ||
        __builtin_mul_overflow(b->bytes, (int64_t)b->dim[d], &b->bytes) ||
        b->bytes > INT64_MAX / (int64_t)sizeof(float)) {
      rg_fail(ctx, RG_EFORMAT, fn, "%s: dimension %d is %u, which is 0 or makes the data too large",
              b->path, d, b->dim[d]);
      return false;
    }
  }
  return true;
}

/* Grows the payload buffer to min(2 x capacity, limit) bytes. */
static bool grow(rg_ctx *ctx, const char *fn, idx_blob *b, size_t used, size_t limit) {
  size_t capacity = b->capacity ? b->capacity * 2 : FIRST_CAPACITY;
  if (capacity > limit) capacity = limit;
  uint8_t *data = rg_heap_alloc(ctx, fn, capacity);
  if (!data) return false;
  if (used) memcpy(data, b->data, used);
  rg_heap_free(ctx, b->data, b->capacity);
  b->data = data;
  b->capacity = capacity;
  return true;
}

/* What follows the header must be exactly b->bytes long. The buffer grows
 * with what the file really holds, so a header claiming terabytes allocates
 * no more than twice the actual data before it is caught. */
static bool read_payload(rg_ctx *ctx, const char *fn, gzFile f, idx_blob *b) {
  size_t limit = (size_t)b->bytes + 1, got = 0;
  for (;;) {
    if (got == b->capacity && (got == limit || !grow(ctx, fn, b, got, limit))) break;
    int64_t r = gz_take(ctx, fn, f, b->path, b->data + got, (int64_t)(b->capacity - got));
    if (r < 0) return false;
    got += (size_t)r;
    if (got < b->capacity) break; /* end of file */
  }
  if (!rg_ctx_ok(ctx)) return false;
  int64_t total = (int64_t)got;
  if (got == limit) { /* trailing bytes: count them for the message */
    uint8_t rest[4096];
    int64_t r;
    while ((r = gz_take(ctx, fn, f, b->path, rest, sizeof rest)) > 0) total += r;
    if (r < 0) return false;
  }
  const char *cut = cut_note(f);
  if (total == b->bytes && !*cut) return true;
  if (total == b->bytes) {
    rg_fail(ctx, RG_EFORMAT, fn, "%s: the gzip stream is cut short after its %lld bytes of data",
            b->path, (long long)total);
    return false;
  }
  char what[96];
  if (b->ndim == 3)
    snprintf(what, sizeof what, "%u images of %ux%u", b->dim[0], b->dim[1], b->dim[2]);
  else
    snprintf(what, sizeof what, "%u labels", b->dim[0]);
  rg_fail(ctx, RG_EFORMAT, fn, "%s: header says %s but the file holds %lld bytes of %s data%s",
          b->path, what, (long long)total, b->ndim == 3 ? "pixel" : "label",
          total > b->bytes ? " (trailing bytes)" : cut);
  return false;
}

static bool idx_read(rg_ctx *ctx, const char *fn, idx_blob *b) {
  int fd = rg_open_read(ctx, fn, b->path, NULL);
  if (fd < 0) return false;
  gzFile f = gzdopen(fd, "rb");
  if (!f) {
    close(fd);
    rg_fail(ctx, RG_ENOMEM, fn, "%s: out of memory opening the file", b->path);
    return false;
  }
  gzbuffer(f, 1 << 17);
  bool ok = read_header(ctx, fn, f, b) && read_payload(ctx, fn, f, b);
  gzclose(f);
  return ok;
}

static rg_dataset *make_dataset(rg_ctx *ctx, const char *fn, const idx_blob *img,
                                const idx_blob *lab) {
  int64_t n = img->dim[0], features = (int64_t)img->dim[1] * img->dim[2];
  rg_dataset *ds = rg_dataset_alloc(ctx, fn, n, features);
  if (!ds) return NULL;
  ds->rows = (int)img->dim[1];
  ds->cols = (int)img->dim[2];
  float scaled[256]; /* p / 255, correctly rounded */
  for (int p = 0; p < 256; p++) scaled[p] = (float)p / 255.0f;
  for (int64_t i = 0; i < img->bytes; i++) ds->x[i] = scaled[img->data[i]];
  int top = 0;
  for (int64_t i = 0; i < n; i++) {
    ds->y[i] = lab->data[i];
    top = lab->data[i] > top ? lab->data[i] : top;
  }
  ds->classes = top + 1;
  return ds;
}

static rg_dataset *load(rg_ctx *ctx, const char *fn, const char *images_path,
                        const char *labels_path) {
  idx_blob img = {.path = images_path, .ndim = 3}, lab = {.path = labels_path, .ndim = 1};
  rg_dataset *ds = NULL;
  if (idx_read(ctx, fn, &img) && idx_read(ctx, fn, &lab)) {
    if (img.dim[0] == lab.dim[0])
      ds = make_dataset(ctx, fn, &img, &lab);
    else
      rg_fail(ctx, RG_EFORMAT, fn, "%s holds %u images but %s holds %u labels", images_path,
              img.dim[0], labels_path, lab.dim[0]);
  }
  rg_heap_free(ctx, img.data, img.capacity);
  rg_heap_free(ctx, lab.data, lab.capacity);
  return ds;
}

rg_dataset *rg_dataset_load_idx(rg_ctx *ctx, const char *images_path, const char *labels_path) {
  static const char fn[] = "rg_dataset_load_idx";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!images_path || !labels_path) {
    rg_fail(ctx, RG_EINVAL, fn, "%s is NULL", images_path ? "labels_path" : "images_path");
    return NULL;
  }
  return load(ctx, fn, images_path, labels_path);
}

#define PATH_BYTES 4096

/* dir/name, or dir/name.gz when only that exists; RG_EIO when neither. */
static bool find_file(rg_ctx *ctx, const char *fn, const char *dir, const char *name,
                      char path[PATH_BYTES]) {
  int len = snprintf(path, PATH_BYTES, "%s/%s", dir, name);
  if (len < 0 || len + 4 > PATH_BYTES) {
    rg_fail(ctx, RG_EINVAL, fn, "dir is %zu bytes long, too long for a path", strlen(dir));
    return false;
  }
  if (access(path, F_OK) == 0) return true;
  int err = errno;
  memcpy(path + len, ".gz", 4);
  if (access(path, F_OK) == 0) return true;
  path[len] = '\0';
  rg_fail(ctx, RG_EIO, fn, "%s: cannot open: %s (nor with .gz)", path, strerror(err));
  return false;
}

rg_dataset *rg_dataset_load_mnist(rg_ctx *ctx, const char *dir, bool train) {
  static const char fn[] = "rg_dataset_load_mnist";
  if (!rg_ctx_ok(ctx)) return NULL;
  if (!dir) dir = RG_DEFAULT_DATA_DIR;
  const char *part = train ? "train" : "t10k";
  char name[64], images[PATH_BYTES], labels[PATH_BYTES];
  snprintf(name, sizeof name, "%s-images-idx3-ubyte", part);
  if (!find_file(ctx, fn, dir, name, images)) return NULL;
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte", part);
  if (!find_file(ctx, fn, dir, name, labels)) return NULL;
  return load(ctx, fn, images, labels);
}
