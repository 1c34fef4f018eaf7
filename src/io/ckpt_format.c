/* Checkpoint byte format, version 1: encoding and validating decoding.
 *
 * Every integer is little-endian and is written and read byte by byte, so a
 * file is the same bytes on x86-64 and aarch64.
 *
 *   header    magic "RGCKPT\0\0" (8 bytes), format version u32 (= 1)
 *   section   tag u32 | length u64 | payload (length bytes) | crc u32
 *             crc = zlib CRC32 of the 12 bytes of tag and length followed by
 *             the payload
 *
 * The sections come in this order, and the file ends right after END:
 *
 *   META  "META"  seed u64, dropout stream u64, step i64, epoch i64,
 *                 optim_steps i64, tensor count u64, version length u32,
 *                 library version ("0.1.0", no NUL): 52 + length bytes
 *   TNSR  "TNSR"  one per parameter or buffer, in the saving context's
 *                 creation order: kind u32 (1 parameter, 2 buffer), name
 *                 length u32 (>= 1), name (no NUL), rank u32 (1..4), dims
 *                 u64 x rank (each >= 1), data float32 x numel (IEEE-754
 *                 bits, little-endian, row-major)
 *   END   "END\0" empty payload
 *
 * A tag is its four ASCII bytes in file order. Gradients are not saved. A
 * reader rejects a newer version, an unknown tag, a section out of order and
 * anything after END; a change to the layout bumps the version.
 */
#include "io/ckpt_format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const uint8_t ck_magic[CK_MAGIC_LEN] = {'R', 'G', 'C', 'K', 'P', 'T', 0, 0};

#define CK_TAG(a, b, c, d) \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_META CK_TAG('M', 'E', 'T', 'A')
#define TAG_TNSR CK_TAG('T', 'N', 'S', 'R')
#define TAG_END CK_TAG('E', 'N', 'D', 0)

#define META_FIXED 52u                  /* META payload before the version */
#define TNSR_MIN (4u + 4u + 1u + 4u + 8u + 4u) /* one-byte name, [1] */

enum { FILE_PARAM = 1, FILE_BUFFER = 2 };

/* ------------------------------------------------------------ bytes */

static void put_u32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *b, uint64_t v) {
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(const uint8_t *b) {
  return (uint64_t)get_u32(b) | (uint64_t)get_u32(b + 4) << 32;
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

void ck_decode_floats(float *dst, const uint8_t *src, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = get_u32(src + 4 * i);
    memcpy(dst + i, &u, sizeof u);
  }
}

/* ------------------------------------------------------------ writing */

static void w_raw(ck_writer *w, const void *p, size_t n, bool in_crc) {
  if (w->err || n == 0) return;
  if (in_crc) w->crc = (uint32_t)crc32_z(w->crc, p, n);
  errno = 0;
  if (fwrite(p, 1, n, w->f) != n) w->err = errno ? errno : EIO;
}

static void w_u32(ck_writer *w, uint32_t v) {
  uint8_t b[4];
  put_u32(b, v);
  w_raw(w, b, sizeof b, true);
}

static void w_u64(ck_writer *w, uint64_t v) {
  uint8_t b[8];
  put_u64(b, v);
  w_raw(w, b, sizeof b, true);
}

static void w_begin(ck_writer *w, uint32_t tag, uint64_t len) {
  w->crc = (uint32_t)crc32_z(0, NULL, 0);
  w_u32(w, tag);
  w_u64(w, len);
}

static void w_end(ck_writer *w) {
  uint8_t b[4];
  put_u32(b, w->crc);
  w_raw(w, b, sizeof b, false);
}

void ck_write_header(ck_writer *w) {
  uint8_t b[CK_HEADER_LEN];
  memcpy(b, ck_magic, CK_MAGIC_LEN);
  put_u32(b + CK_MAGIC_LEN, CK_VERSION);
  w_raw(w, b, sizeof b, false);
}

static void write_meta(ck_writer *w, const rg_ctx *ctx, const rg_train_state *st) {
  const char *version = rg_version();
  uint32_t vlen = (uint32_t)strlen(version);
  w_begin(w, TAG_META, META_FIXED + vlen);
  w_u64(w, ctx->seed);
  w_u64(w, ctx->dropout_stream);
  w_u64(w, (uint64_t)st->step);
  w_u64(w, (uint64_t)st->epoch);
  w_u64(w, (uint64_t)st->optim_steps);
  w_u64(w, (uint64_t)ctx->n_params);
  w_u32(w, vlen);
  w_raw(w, version, vlen, true);
  w_end(w);
}

static void write_tensor(ck_writer *w, const rg_tensor *t) {
  size_t name_len = strlen(t->name); /* names are short: checked by the caller */
  uint64_t len = 12u + name_len + 8u * (uint64_t)t->shape.rank + 4u * (uint64_t)t->numel;
  w_begin(w, TAG_TNSR, len);
  w_u32(w, t->kind == RG_PARAM ? FILE_PARAM : FILE_BUFFER);
  w_u32(w, (uint32_t)name_len);
  w_raw(w, t->name, name_len, true);
  w_u32(w, (uint32_t)t->shape.rank);
  for (int i = 0; i < t->shape.rank; i++) w_u64(w, (uint64_t)t->shape.dim[i]);
  uint8_t chunk[4096];
  const int64_t per = (int64_t)(sizeof chunk / 4);
  for (int64_t at = 0; at < t->numel && !w->err; at += per) {
    int64_t n = t->numel - at < per ? t->numel - at : per;
    for (int64_t i = 0; i < n; i++) put_u32(chunk + 4 * i, float_bits(t->data[at + i]));
    w_raw(w, chunk, (size_t)n * 4, true);
  }
  w_end(w);
}

void ck_write_body(ck_writer *w, const rg_ctx *ctx, const rg_train_state *st) {
  write_meta(w, ctx, st);
  for (int i = 0; i < ctx->n_params; i++) write_tensor(w, ctx->params[i]);
  w_begin(w, TAG_END, 0);
  w_end(w);
}

/* ------------------------------------------------------------ reading */

typedef struct parser {
  rg_ctx *ctx;
  const char *fn, *path;
  const uint8_t *buf;
  size_t size, pos; /* pos: the next unread byte */
} parser;

/* A section as found: payload is buf[at + 12, at + 12 + len). */
typedef struct section {
  size_t at;
  uint32_t tag;
  const uint8_t *payload;
  size_t len;
} section;

__attribute__((format(printf, 3, 4))) static bool bad(parser *ps, size_t at, const char *fmt,
                                                      ...) {
  char what[320];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  rg_fail(ps->ctx, RG_EFORMAT, ps->fn, "\"%s\": %s (at byte %zu)", ps->path, what, at);
  return false;
}

/* A tag as text for messages: "TNSR", "END\x00". */
static const char *tag_str(uint32_t tag, char buf[17]) {
  size_t at = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = (tag >> (8 * i)) & 0xffu;
    bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    at += (size_t)snprintf(buf + at, 17 - at, plain ? "%c" : "\\x%02x", c);
  }
  return buf;
}
#define TAG_STR(tag) tag_str((tag), (char[17]){0})

/* Reads the section at ps->pos: framing within the file, then the CRC. */
static bool next_section(parser *ps, section *s) {
  size_t left = ps->size - ps->pos;
  s->at = ps->pos;
  if (left == 0) return bad(ps, s->at, "truncated: the file ends before the END section");
  if (left < CK_FRAME_LEN)
    return bad(ps, s->at, "truncated: a section needs %d framing bytes, %zu are left",
               CK_FRAME_LEN, left);
  const uint8_t *p = ps->buf + ps->pos;
  uint64_t len = get_u64(p + 4);
  if (len > left - CK_FRAME_LEN)
    return bad(ps, s->at, "truncated: a section declares %llu payload bytes, %zu are left",
               (unsigned long long)len, left - CK_FRAME_LEN);
  s->tag = get_u32(p);
  s->payload = p + 12;
  s->len = (size_t)len;
  uint32_t stored = get_u32(p + 12 + s->len);
  uint32_t crc = (uint32_t)crc32_z(crc32_z(0, NULL, 0), p, 12 + s->len);
  if (crc != stored)
    return bad(ps, s->at, "CRC mismatch in section \"%s\": stored 0x%08x, computed 0x%08x",
               TAG_STR(s->tag), stored, crc);
  ps->pos += CK_FRAME_LEN + s->len;
  return true;
}

static bool parse_header(parser *ps) {
  if (ps->size < CK_HEADER_LEN)
    return bad(ps, 0, "truncated: %zu bytes, too short for the %d-byte header", ps->size,
               CK_HEADER_LEN);
  if (memcmp(ps->buf, ck_magic, CK_MAGIC_LEN) != 0)
    return bad(ps, 0, "not a regrad checkpoint (bad magic)");
  uint32_t version = get_u32(ps->buf + CK_MAGIC_LEN);
  if (version > CK_VERSION)
    return bad(ps, CK_MAGIC_LEN, "format version %u is newer than this library's %u", version,
               CK_VERSION);
  if (version == 0) return bad(ps, CK_MAGIC_LEN, "format version 0 is invalid");
  ps->pos = CK_HEADER_LEN;
  return true;
}

static bool parse_meta(parser *ps, ck_file *out) {
  section s = {0};
  if (!next_section(ps, &s)) return false;
  if (s.tag != TAG_META)
    return bad(ps, s.at, "the first section is \"%s\", expected \"META\"", TAG_STR(s.tag));
  if (s.len < META_FIXED || s.len - META_FIXED != get_u32(s.payload + 48))
    return bad(ps, s.at, "META is %zu bytes, which does not match its layout", s.len);
  const uint8_t *p = s.payload;
  out->seed = get_u64(p);
  out->dropout_stream = get_u64(p + 8);
  out->st.step = (int64_t)get_u64(p + 16);
  out->st.epoch = (int64_t)get_u64(p + 24);
  out->st.optim_steps = (int64_t)get_u64(p + 32);
  uint64_t count = get_u64(p + 40);
  /* Bound the count by what the rest of the file can hold before allocating. */
  if (count > (ps->size - ps->pos) / (CK_FRAME_LEN + TNSR_MIN))
    return bad(ps, s.at, "truncated (or a bad count): META counts %llu tensors, %zu bytes follow",
               (unsigned long long)count, ps->size - ps->pos);
  out->n_tensors = (int64_t)count;
  return true;
}

/* Checks one TNSR payload field by field; every length against what is left. */
static bool parse_tensor(parser *ps, const section *s, int64_t index, ck_tensor *t) {
  const uint8_t *p = s->payload;
  size_t left = s->len;
  if (left < 8) return bad(ps, s->at, "tensor %lld: section too short", (long long)index);
  uint32_t kind = get_u32(p), name_len = get_u32(p + 4);
  p += 8, left -= 8;
  if (kind != FILE_PARAM && kind != FILE_BUFFER)
    return bad(ps, s->at, "tensor %lld: kind %u is neither 1 (parameter) nor 2 (buffer)",
               (long long)index, kind);
  if (name_len == 0 || name_len > left || memchr(p, 0, name_len))
    return bad(ps, s->at, "tensor %lld: bad name (length %u, %zu bytes left)", (long long)index,
               name_len, left);
  *t = (ck_tensor){.name = (const char *)p, .name_len = name_len, .index = index, .at = s->at,
                   .kind = kind == FILE_PARAM ? RG_PARAM : RG_BUFFER};
  p += name_len, left -= name_len;
  int nl = name_len > 64 ? 64 : (int)name_len;
  if (left < 4) return bad(ps, s->at, "tensor \"%.*s\": section too short", nl, t->name);
  uint32_t rank = get_u32(p);
  p += 4, left -= 4;
  if (rank < 1 || rank > RG_MAX_RANK || left < 8u * rank)
    return bad(ps, s->at, "tensor \"%.*s\": bad rank %u", nl, t->name, rank);
  t->shape.rank = (int)rank;
  int64_t numel = 1;
  for (uint32_t i = 0; i < rank; i++, p += 8, left -= 8) {
    uint64_t d = get_u64(p);
    /* Keep numel * 4 <= INT64_MAX, as rg_shape_valid does. */
    if (d < 1 || d > (uint64_t)INT64_MAX || (uint64_t)numel > ((uint64_t)INT64_MAX / 4) / d)
      return bad(ps, s->at, "tensor \"%.*s\": dimension %u is %llu", nl, t->name, i,
                 (unsigned long long)d);
    t->shape.dim[i] = (int64_t)d;
    numel *= (int64_t)d;
  }
  if ((uint64_t)left != 4u * (uint64_t)numel)
    return bad(ps, s->at, "tensor \"%.*s\": %zu data bytes, its shape %s needs %llu", nl,
               t->name, left, RG_SHAPE_STR(t->shape), 4ull * (unsigned long long)numel);
  t->numel = numel;
  t->data = p;
  return true;
}

static int cmp_name(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c) return c;
  return alen < blen ? -1 : alen > blen;
}

static int cmp_tensor(const void *a, const void *b) {
  const ck_tensor *x = a, *y = b;
  return cmp_name(x->name, x->name_len, y->name, y->name_len);
}

ck_tensor *ck_find(const ck_file *f, const char *name) {
  size_t len = strlen(name);
  int64_t lo = 0, hi = f->n_tensors;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    int c = cmp_name(f->tensors[mid].name, f->tensors[mid].name_len, name, len);
    if (c == 0) return &f->tensors[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

void ck_file_free(rg_ctx *ctx, ck_file *f) {
  if (f->tensors) rg_heap_free(ctx, f->tensors, (size_t)f->n_tensors * sizeof *f->tensors);
  f->tensors = NULL;
}

/* The TNSR sections and END, after META. */
static bool parse_tensors(parser *ps, ck_file *out) {
  for (int64_t i = 0;; i++) {
    section s = {0};
    if (!next_section(ps, &s)) return false;
    if (s.tag == TAG_END) {
      if (s.len != 0) return bad(ps, s.at, "END has a %zu-byte payload", s.len);
      if (i != out->n_tensors)
        return bad(ps, s.at, "END after %lld tensors, META counts %lld", (long long)i,
                   (long long)out->n_tensors);
      if (ps->pos != ps->size)
        return bad(ps, ps->pos, "%zu bytes follow the END section", ps->size - ps->pos);
      return true;
    }
    if (s.tag != TAG_TNSR)
      return bad(ps, s.at, "unexpected section \"%s\"", TAG_STR(s.tag));
    if (i == out->n_tensors)
      return bad(ps, s.at, "more tensor sections than the %lld META counts",
                 (long long)out->n_tensors);
    if (!parse_tensor(ps, &s, i, &out->tensors[i])) return false;
  }
}

bool ck_parse(rg_ctx *ctx, const char *fn, const char *path, const uint8_t *buf, size_t size,
              ck_file *out) {
  parser ps = {.ctx = ctx, .fn = fn, .path = path, .buf = buf, .size = size};
  *out = (ck_file){0};
  if (!parse_header(&ps) || !parse_meta(&ps, out)) return false;
  if (out->n_tensors > 0) {
    out->tensors = rg_heap_alloc(ctx, fn, (size_t)out->n_tensors * sizeof *out->tensors);
    if (!out->tensors) return false;
  }
  if (!parse_tensors(&ps, out)) {
    ck_file_free(ctx, out);
    return false;
  }
  if (out->n_tensors > 1)
    qsort(out->tensors, (size_t)out->n_tensors, sizeof *out->tensors, cmp_tensor);
  for (int64_t i = 1; i < out->n_tensors; i++) {
    const ck_tensor *t = &out->tensors[i];
    if (cmp_tensor(t - 1, t) == 0) {
      int nl = t->name_len > 64 ? 64 : (int)t->name_len;
      bad(&ps, t->at > t[-1].at ? t->at : t[-1].at, "tensor name \"%.*s\" appears twice", nl, t->name);
      ck_file_free(ctx, out);
      return false;
    }
  }
  return true;
}
