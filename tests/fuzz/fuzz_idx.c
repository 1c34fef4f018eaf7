/* libFuzzer target: rg_dataset_load_idx. The input is
 *   u16 little-endian n | n bytes of the image file | the label file
 * (each plain or gzip, detected from the content). Whatever the bytes, the
 * loader returns a consistent dataset or NULL with RG_EFORMAT / RG_EIO /
 * RG_ENOMEM and a message naming it; the context's memory budget (4 MiB)
 * bounds what a header claiming huge sizes can make it allocate.
 *
 * A custom mutator keeps gzip files gzip: libFuzzer's byte mutations of a
 * compressed file almost always break its CRC or its deflate stream, so
 * without it the reader's header and payload checks behind the
 * decompression were rarely reached. For a part that is gzip it inflates
 * the part, mutates the content with LLVMFuzzerMutate and deflates it again
 * (at a random level, sometimes as two members, sometimes with bytes after
 * the stream or cut short); a plain part is sometimes compressed; otherwise
 * the input is mutated as bytes. */
#include <stdbool.h>
#include <string.h>
#include <zlib.h>

#include "regrad.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define CONTENT_MAX (1 << 20) /* decompressed part the mutator works on */

static uint32_t rnd(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static bool is_gzip(const uint8_t *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

/* The content of every gzip member in p[0, n) (at most cap bytes), or -1
 * when the stream is broken or too large. */
static long gunzip(const uint8_t *p, size_t n, uint8_t *out, size_t cap) {
  z_stream z = {0};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return -1;
  z.next_in = (Bytef *)p;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  int r;
  while ((r = inflate(&z, Z_NO_FLUSH)) == Z_STREAM_END && z.avail_in >= 2 &&
         is_gzip(z.next_in, z.avail_in))
    inflateReset(&z);
  long got = r == Z_STREAM_END ? (long)(cap - z.avail_out) : -1;
  inflateEnd(&z);
  return got;
}

/* gzip of content[0, n) at level into out (cap bytes), split into two
 * members at split when split < n; 0 when it does not fit. */
static size_t gzip(const uint8_t *content, size_t n, int level, size_t split, uint8_t *out,
                   size_t cap) {
  size_t used = 0;
  for (int member = 0; member < 2; member++) {
    size_t from = member ? split : 0, to = member ? n : split;
    if (member && split >= n) break;
    z_stream z = {0};
    if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return 0;
    z.next_in = (Bytef *)content + from;
    z.avail_in = (uInt)(to - from);
    z.next_out = out + used;
    z.avail_out = (uInt)(cap - used);
    int r = deflate(&z, Z_FINISH);
    used = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) return 0;
  }
  return used;
}

#ifndef FUZZ_IDX_PLAIN_MUTATOR /* defined: libFuzzer's mutations only (to compare) */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  static uint8_t content[CONTENT_MAX], packed[1 << 16], other[1 << 16];
  uint32_t s = seed;
  if (size < 2 || rnd(&s) % 8 == 0) return LLVMFuzzerMutate(data, size, max_size);
  size_t n = (size_t)data[0] | (size_t)data[1] << 8;
  if (n > size - 2) n = size - 2;
  const uint8_t *part[2] = {data + 2, data + 2 + n};
  size_t len[2] = {n, size - 2 - n};
  int which = (int)(rnd(&s) & 1);
  if (!is_gzip(part[which], len[which]) && is_gzip(part[!which], len[!which])) which = !which;
  long clen;
  if (is_gzip(part[which], len[which]))
    clen = gunzip(part[which], len[which], content, sizeof content / 2);
  else if (rnd(&s) % 4 == 0 && len[which] <= sizeof content / 2)
    memcpy(content, part[which], len[which]), clen = (long)len[which]; /* compress a plain part */
  else
    clen = -1;
  if (clen < 0) return LLVMFuzzerMutate(data, size, max_size);
  size_t m = LLVMFuzzerMutate(content, (size_t)clen, sizeof content);
  uint32_t how = rnd(&s) % 16;
  size_t split = how == 0 && m > 1 ? rnd(&s) % m : m; /* two members */
  size_t plen = gzip(content, m, (int)(rnd(&s) % 10), split, packed, sizeof packed - 8);
  if (plen == 0) return LLVMFuzzerMutate(data, size, max_size);
  if (how == 1) /* bytes after the stream */
    for (int i = 0, extra = 1 + (int)(rnd(&s) % 8); i < extra; i++) packed[plen++] = (uint8_t)rnd(&s);
  else if (how == 2 && plen > 1) /* cut short */
    plen = 1 + rnd(&s) % (plen - 1);
  size_t olen = len[!which];
  if (olen > sizeof other) return LLVMFuzzerMutate(data, size, max_size);
  memcpy(other, part[!which], olen);
  size_t ilen = which == 0 ? plen : olen, total = 2 + plen + olen;
  if (total > max_size || ilen > 0xffff) return LLVMFuzzerMutate(data, size, max_size);
  data[0] = (uint8_t)ilen;
  data[1] = (uint8_t)(ilen >> 8);
  memcpy(data + 2, which == 0 ? packed : other, ilen);
  memcpy(data + 2 + ilen, which == 0 ? other : packed, which == 0 ? olen : plen);
  return total;
}
#endif

/* Whether p[0, n) is one or more complete gzip members and nothing else;
 * their content goes to out (at most cap bytes) and its length to *len. */
static bool exact_gzip(const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *len) {
  z_stream z = {0};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) abort();
  z.next_in = (Bytef *)p;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  int r;
  while ((r = inflate(&z, Z_NO_FLUSH)) == Z_STREAM_END && z.avail_in > 0) {
    if (!is_gzip(z.next_in, z.avail_in)) break;
    inflateReset(&z);
  }
  bool exact = r == Z_STREAM_END && z.avail_in == 0;
  *len = cap - z.avail_out;
  inflateEnd(&z);
  return exact;
}

static bool same_dataset(const rg_dataset *a, const rg_dataset *b) {
  return a->n == b->n && a->features == b->features && a->rows == b->rows && a->cols == b->cols &&
         a->classes == b->classes &&
         !memcmp(a->x, b->x, (size_t)(a->n * a->features) * sizeof(float)) &&
         !memcmp(a->y, b->y, (size_t)a->n * sizeof(int32_t));
}

/* Gzip and plain are one format: with every gzip part replaced by its
 * content, a load gives the same dataset, or fails as well. A load that
 * accepted a gzip part must have found it to be complete members with
 * nothing after them. (Both loads here without a memory limit: a gzip part
 * holds at most 1 MiB, which bounds what either may allocate.) */
static void gzip_equals_plain(const uint8_t *part[2], const size_t len[2], const rg_dataset *ds) {
  static uint8_t content[2][CONTENT_MAX];
  static fuzz_file plain[2], again[2];
  const char *pp[2], *gp[2];
  bool any = false;
  for (int i = 0; i < 2; i++) {
    size_t clen = len[i];
    const uint8_t *use = part[i];
    if (is_gzip(part[i], len[i])) {
      any = true;
      bool exact = exact_gzip(part[i], len[i], content[i], CONTENT_MAX, &clen);
      if (ds && !exact) {
        fprintf(stderr, "fuzz_idx: accepted a gzip file with bytes after its stream or cut\n");
        abort();
      }
      if (!exact || clen == CONTENT_MAX) return; /* broken or too large to compare */
      use = content[i];
    }
    pp[i] = fuzz_file_set(&plain[i], use, clen);
    gp[i] = fuzz_file_set(&again[i], part[i], len[i]);
  }
  if (!any) return;
  rg_ctx *a = rg_ctx_new(&(rg_config){.seed = 1, .isa = "scalar"});
  rg_ctx *b = rg_ctx_new(&(rg_config){.seed = 1, .isa = "scalar"});
  if (!a || !b) abort();
  rg_dataset *dg = rg_dataset_load_idx(a, gp[0], gp[1]), *dp = rg_dataset_load_idx(b, pp[0], pp[1]);
  if (!dg != !dp || (dg && !same_dataset(dg, dp))) {
    fprintf(stderr, "fuzz_idx: gzip and plain differ: gzip %s \"%s\", plain %s \"%s\"\n",
            rg_status_name(rg_ctx_status(a)), rg_ctx_message(a), rg_status_name(rg_ctx_status(b)),
            rg_ctx_message(b));
    abort();
  }
  rg_dataset_free(dg);
  rg_dataset_free(dp);
  rg_ctx_free(a);
  rg_ctx_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz_file images, labels;
  if (size < 2) return 0;
  size_t n = (size_t)data[0] | (size_t)data[1] << 8;
  data += 2, size -= 2;
  if (n > size) n = size;
  const char *ip = fuzz_file_set(&images, data, n);
  const char *lp = fuzz_file_set(&labels, data + n, size - n);
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 1, .isa = "scalar", .mem_limit = 4u << 20});
  if (!ctx) abort();
  rg_dataset *ds = rg_dataset_load_idx(ctx, ip, lp);
  const uint8_t *part[2] = {data, data + n};
  const size_t len[2] = {n, size - n};
  gzip_equals_plain(part, len, ds);
  if (ds) {
    /* Consistent: every pixel in [0, 1], every label below classes. */
    if (rg_ctx_status(ctx) != RG_OK || ds->features != (int64_t)ds->rows * ds->cols) abort();
    for (int64_t i = 0; i < ds->n * ds->features; i++)
      if (!(ds->x[i] >= 0.0f && ds->x[i] <= 1.0f)) abort();
    for (int64_t i = 0; i < ds->n; i++)
      if (ds->y[i] < 0 || ds->y[i] >= ds->classes) abort();
    rg_dataset_free(ds);
  } else {
    rg_status st = rg_ctx_status(ctx);
    if (st != RG_EFORMAT && st != RG_EIO && st != RG_ENOMEM) abort();
  }
  fuzz_expect_clean(ctx, "rg_dataset_load_idx");
  rg_ctx_free(ctx);
  return 0;
}
