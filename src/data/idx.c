/* IDX files (the MNIST format), plain or gzip-compressed (detected from the
 * content). A file is: 2 zero bytes, the type byte 0x08 (unsigned byte), the
 * number of dimensions, each dimension as a big-endian u32, then exactly the
 * product of the dimensions in bytes, and nothing after (after the last gzip
 * member either).
 *
 * A header's claim is checked before any of the payload is read: a plain
 * file must be exactly as long as it says; a gzip file must be large enough
 * to hold it (RG_GZIP_MAX_RATIO); and the claim, with the dataset made from
 * it, must fit in what the context's memory limit leaves. The payload
 * buffer then grows with the data that really arrives, so a lying header
 * costs at most about twice the data the file actually holds. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "data/data.h"
#include "data/source.h"

#define IDX_UBYTE 0x08
#define READ_STEP (1 << 30)     /* the most one read is asked for */
#define FIRST_CAPACITY (1 << 20) /* gzip payload buffer before it grows */
#define EXTRA_COUNTED (1 << 20) /* bytes beyond the claim counted for a message */

/* The content of one IDX file. */
typedef struct idx_blob {
  const char *path;
  int ndim;
  uint32_t dim[3];
  int64_t header; /* bytes */
  int64_t bytes;  /* product of dim */
  uint8_t *data;
  size_t capacity;
} idx_blob;

static const char *kind_of(const idx_blob *b) { return b->ndim == 3 ? "pixel" : "label"; }

/* "50 images of 4x3" or "50 labels". */
static const char *claim_text(const idx_blob *b, char *buf, size_t size) {
  if (b->ndim == 3)
    snprintf(buf, size, "%u images of %ux%u", b->dim[0], b->dim[1], b->dim[2]);
  else
    snprintf(buf, size, "%u labels", b->dim[0]);
  return buf;
}

/* RG_EFORMAT: the header's claim against the data found (total bytes, more
 * than the claim when extra data follows it). */
static void size_mismatch(rg_ctx *ctx, const char *fn, const rg_source *src, const idx_blob *b,
                          int64_t total, bool at_least) {
  char what[96];
  const char *note = total > b->bytes ? " (trailing bytes)"
                     : src->cut        ? " (the gzip stream is cut short)"
                                       : "";
  rg_fail(ctx, RG_EFORMAT, fn, "%s: header says %s but the file holds %s%lld bytes of %s data%s",
          b->path, claim_text(b, what, sizeof what), at_least ? "more than " : "",
          (long long)total, kind_of(b), note);
}

/* The claim of a header against what the file and the memory limit can
 * hold, before any payload is read. */
static bool claim_possible(rg_ctx *ctx, const char *fn, const rg_source *src, const idx_blob *b) {
  if (!src->gz && src->size - b->header != b->bytes) {
    size_mismatch(ctx, fn, src, b, src->size - b->header, false);
    return false;
  }
  if (src->gz && b->bytes / RG_GZIP_MAX_RATIO >= src->size) {
    rg_fail(ctx, RG_EFORMAT, fn,
            "%s: the header claims %lld bytes of %s data, more than a gzip file of %lld bytes can "
            "hold (deflate stores at most %d bytes in one)",
            b->path, (long long)b->bytes, kind_of(b), (long long)src->size, RG_GZIP_MAX_RATIO);
    return false;
  }
  /* The payload is held while the dataset's arrays (4 bytes per byte) are
   * made, each of which must fit in what the limit leaves. */
  uint64_t limit = ctx->mem_limit, held = ctx->stats.heap_bytes, need;
  if (limit && (__builtin_mul_overflow((uint64_t)b->bytes, 5u, &need) || held > limit ||
                need > limit - held)) {
    rg_fail(ctx, RG_ENOMEM, fn,
            "%s: the header claims %lld bytes of %s data; with the dataset made from them that "
            "would pass the memory limit of %llu bytes (%llu held)",
            b->path, (long long)b->bytes, kind_of(b), (unsigned long long)limit,
            (unsigned long long)held);
    return false;
  }
  return true;
}

/* Magic and dimensions. */
static bool read_header(rg_ctx *ctx, const char *fn, rg_source *src, idx_blob *b) {
  uint8_t head[4 + 4 * 3] = {0};
  b->header = 4 + 4 * (int64_t)b->ndim;
  int64_t got = rg_source_read(src, head, b->header);
  if (got < 0) return false;
  uint32_t magic = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | head[2] << 8 | head[3];
  uint32_t expect = IDX_UBYTE << 8 | (uint32_t)b->ndim;
  if (got >= 4 && magic != expect) {
    rg_fail(ctx, RG_EFORMAT, fn,
            "%s: magic is 0x%08x, expected 0x%08x (IDX of unsigned bytes, %d dimension%s)",
            b->path, magic, expect, b->ndim, b->ndim > 1 ? "s" : "");
    return false;
  }
  if (got < b->header) {
    rg_fail(ctx, RG_EFORMAT, fn,
            "%s: the file ends after %lld bytes, inside the %lld-byte header%s", b->path,
            (long long)got, (long long)b->header,
            src->cut ? " (the gzip stream is cut short)" : "");
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
  return claim_possible(ctx, fn, src, b);
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

/* What follows the header must be exactly b->bytes long. A plain file's
 * length was checked, so its buffer is allocated at once; a gzip payload's
 * buffer grows as the data arrives. */
static bool read_payload(rg_ctx *ctx, const char *fn, rg_source *src, idx_blob *b) {
  size_t want = (size_t)b->bytes, got = 0;
  if (!src->gz) {
    b->data = rg_heap_alloc(ctx, fn, want ? want : 1);
    if (!b->data) return false;
    b->capacity = want ? want : 1;
  }
  while (got < want && !src->ended) {
    if (got == b->capacity && !grow(ctx, fn, b, got, want)) return false;
    size_t room = b->capacity - got;
    int64_t r = rg_source_read(src, b->data + got, (int64_t)(room < READ_STEP ? room : READ_STEP));
    if (r < 0) return false;
    got += (size_t)r;
  }
  if (got < want) {
    size_mismatch(ctx, fn, src, b, (int64_t)got, false);
    return false;
  }
  /* Nothing may follow: count extra data (up to a bound) for the message. */
  uint8_t rest[4096];
  int64_t extra = 0, r;
  while (extra < EXTRA_COUNTED && (r = rg_source_read(src, rest, sizeof rest)) > 0) extra += r;
  if (!rg_ctx_ok(ctx)) return false;
  if (extra > 0) {
    size_mismatch(ctx, fn, src, b, b->bytes + extra, !src->ended);
    return false;
  }
  if (src->cut) {
    rg_fail(ctx, RG_EFORMAT, fn, "%s: the gzip stream is cut short after its %lld bytes of data",
            b->path, (long long)b->bytes);
    return false;
  }
  return true;
}

static bool idx_read(rg_ctx *ctx, const char *fn, idx_blob *b) {
  rg_source src;
  if (!rg_source_open(&src, ctx, fn, b->path)) return false;
  bool ok = read_header(ctx, fn, &src, b) && read_payload(ctx, fn, &src, b);
  rg_source_close(&src);
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
