/* Checkpoint byte format, version 2: encoding and validating decoding.
 *
 * Every integer is little-endian and is written and read byte by byte, so a
 * file is the same bytes on x86-64 and aarch64.
 *
 *   header    magic "RGCKPT\0\0" (8 bytes), format version u32 (= 2)
 *   section   tag u32 | length u64 | payload (length bytes) | crc u32
 *             crc = zlib CRC32 of the 12 bytes of tag and length followed by
 *             the payload
 *
 * The sections come in this order, and the file ends right after END:
 *
 *   META  "META"  seed u64, dropout stream u64, step i64, epoch i64, tensor
 *                 count u64, state count u64, attribute count u64, version
 *                 length u32, library version ("0.2.0", no NUL): 60 + length
 *                 bytes
 *   TNSR  "TNSR"  one per parameter or buffer, in the saving context's
 *                 creation order: kind u32 (1 parameter, 2 buffer), name
 *                 length u32 (>= 1), name (no NUL), rank u32 (1..4), dims
 *                 u64 x rank (each >= 1), data float32 x numel (IEEE-754
 *                 bits, little-endian, row-major)
 *   STAT  "STAT"  one per registered state record (an optimizer's step
 *                 count, a clipper's statistics, a batcher's position, a
 *                 trainer's counters), in registration order: name length
 *                 u32 (>= 1), name, the record (the rest of the payload;
 *                 its layout belongs to the object, docs/checkpoints.md)
 *   ATTR  "ATTR"  one per text attribute (rg_ctx_set_attr): key length u32
 *                 (>= 1), key, value (the rest, no NUL)
 *   END   "END\0" empty payload
 *
 * Version 1 (regrad 0.1) had a 52-byte META (an optimizer step count i64
 * after the epoch, and no state or attribute counts) and neither STAT nor
 * ATTR: it is still read, and holds no state records.
 *
 * A tag is its four ASCII bytes in file order. Gradients are not saved. A
 * reader rejects a newer version, an unknown tag, a section out of order and
 * anything after END; a change to the layout bumps the version.
 */
#include "io/ckpt_format.h"

#include "core/bytes.h"

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
#define TAG_STAT CK_TAG('S', 'T', 'A', 'T')
#define TAG_ATTR CK_TAG('A', 'T', 'T', 'R')
#define TAG_END CK_TAG('E', 'N', 'D', 0)

#define META_FIXED 60u    /* META payload before the version */
#define META_FIXED_V1 52u
#define TNSR_MIN (4u + 4u + 1u + 4u + 8u + 4u) /* one-byte name, [1] */
#define RECORD_MIN (4u + 1u)                   /* STAT or ATTR: one-byte name */

enum { FILE_PARAM = 1, FILE_BUFFER = 2 };

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

void ck_decode_floats(float *dst, const uint8_t *src, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = rg_get_u32(src + 4 * i);
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
  rg_put_u32(b, v);
  w_raw(w, b, sizeof b, true);
}

static void w_u64(ck_writer *w, uint64_t v) {
  uint8_t b[8];
  rg_put_u64(b, v);
  w_raw(w, b, sizeof b, true);
}

static void w_begin(ck_writer *w, uint32_t tag, uint64_t len) {
  w->crc = (uint32_t)crc32_z(0, NULL, 0);
  w_u32(w, tag);
  w_u64(w, len);
}

static void w_end(ck_writer *w) {
  uint8_t b[4];
  rg_put_u32(b, w->crc);
  w_raw(w, b, sizeof b, false);
}

void ck_write_header(ck_writer *w) {
  uint8_t b[CK_HEADER_LEN];
  memcpy(b, ck_magic, CK_MAGIC_LEN);
  rg_put_u32(b + CK_MAGIC_LEN, CK_VERSION);
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
  w_u64(w, (uint64_t)ctx->n_params);
  w_u64(w, (uint64_t)ctx->n_states);
  w_u64(w, (uint64_t)ctx->n_attrs);
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
    for (int64_t i = 0; i < n; i++) rg_put_u32(chunk + 4 * i, float_bits(t->data[at + i]));
    w_raw(w, chunk, (size_t)n * 4, true);
  }
  w_end(w);
}

/* A STAT or ATTR section: name length, name, then bytes. */
static void write_record(ck_writer *w, uint32_t tag, const char *name, const void *bytes,
                         size_t len) {
  size_t name_len = strlen(name);
  w_begin(w, tag, 4u + name_len + len);
  w_u32(w, (uint32_t)name_len);
  w_raw(w, name, name_len, true);
  w_raw(w, bytes, len, true);
  w_end(w);
}

void ck_write_body(ck_writer *w, const rg_ctx *ctx, const rg_train_state *st) {
  write_meta(w, ctx, st);
  for (int i = 0; i < ctx->n_params; i++) write_tensor(w, ctx->params[i]);
  for (int i = 0; i < ctx->n_states && !w->err; i++) {
    const rg_state *s = &ctx->states[i];
    uint8_t rec[RG_STATE_MAX_BYTES];
    s->kind->save(s->obj, rec);
    write_record(w, TAG_STAT, s->name, rec, s->kind->bytes);
  }
  for (int i = 0; i < ctx->n_attrs; i++)
    write_record(w, TAG_ATTR, ctx->attrs[i].key, ctx->attrs[i].value, strlen(ctx->attrs[i].value));
  w_begin(w, TAG_END, 0);
  w_end(w);
}

/* ------------------------------------------------------------ reading */

typedef struct parser {
  rg_ctx *ctx;
  const char *fn, *path;
  const uint8_t *buf;
  size_t size, pos; /* pos: the next unread byte */
  uint32_t version;
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
  uint64_t len = rg_get_u64(p + 4);
  if (len > left - CK_FRAME_LEN)
    return bad(ps, s->at, "truncated: a section declares %llu payload bytes, %zu are left",
               (unsigned long long)len, left - CK_FRAME_LEN);
  s->tag = rg_get_u32(p);
  s->payload = p + 12;
  s->len = (size_t)len;
  uint32_t stored = rg_get_u32(p + 12 + s->len);
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
  uint32_t version = rg_get_u32(ps->buf + CK_MAGIC_LEN);
  if (version > CK_VERSION)
    return bad(ps, CK_MAGIC_LEN, "format version %u is newer than this library's %u", version,
               CK_VERSION);
  if (version == 0) return bad(ps, CK_MAGIC_LEN, "format version 0 is invalid");
  ps->version = version;
  ps->pos = CK_HEADER_LEN;
  return true;
}

/* A count read from META, bounded by what the rest of the file can hold
 * (each section at least `least` bytes) before anything is allocated. */
static bool count_fits(parser *ps, const section *s, uint64_t count, size_t least,
                       const char *what, int64_t *out) {
  if (count > (ps->size - ps->pos) / (CK_FRAME_LEN + least))
    return bad(ps, s->at, "truncated (or a bad count): META counts %llu %s, %zu bytes follow",
               (unsigned long long)count, what, ps->size - ps->pos);
  *out = (int64_t)count;
  return true;
}

static bool parse_meta(parser *ps, ck_file *out) {
  section s = {0};
  if (!next_section(ps, &s)) return false;
  if (s.tag != TAG_META)
    return bad(ps, s.at, "the first section is \"%s\", expected \"META\"", TAG_STR(s.tag));
  size_t fixed = ps->version == 1 ? META_FIXED_V1 : META_FIXED;
  if (s.len < fixed || s.len - fixed != rg_get_u32(s.payload + fixed - 4))
    return bad(ps, s.at, "META is %zu bytes, which does not match its layout", s.len);
  const uint8_t *p = s.payload;
  out->version = ps->version;
  out->seed = rg_get_u64(p);
  out->dropout_stream = rg_get_u64(p + 8);
  out->st.step = (int64_t)rg_get_u64(p + 16);
  out->st.epoch = (int64_t)rg_get_u64(p + 24);
  if (ps->version == 1) /* the optimizer step count at p + 32 has no home now */
    return count_fits(ps, &s, rg_get_u64(p + 40), TNSR_MIN, "tensors", &out->n_tensors);
  return count_fits(ps, &s, rg_get_u64(p + 32), TNSR_MIN, "tensors", &out->n_tensors) &&
         count_fits(ps, &s, rg_get_u64(p + 40), RECORD_MIN, "states", &out->n_states) &&
         count_fits(ps, &s, rg_get_u64(p + 48), RECORD_MIN, "attributes", &out->n_attrs);
}

/* Checks one TNSR payload field by field; every length against what is left. */
static bool parse_tensor(parser *ps, const section *s, int64_t index, ck_tensor *t) {
  const uint8_t *p = s->payload;
  size_t left = s->len;
  if (left < 8) return bad(ps, s->at, "tensor %lld: section too short", (long long)index);
  uint32_t kind = rg_get_u32(p), name_len = rg_get_u32(p + 4);
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
  uint32_t rank = rg_get_u32(p);
  p += 4, left -= 4;
  if (rank < 1 || rank > RG_MAX_RANK || left < 8u * rank)
    return bad(ps, s->at, "tensor \"%.*s\": bad rank %u", nl, t->name, rank);
  t->shape.rank = (int)rank;
  int64_t numel = 1;
  for (uint32_t i = 0; i < rank; i++, p += 8, left -= 8) {
    uint64_t d = rg_get_u64(p);
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

/* A STAT or ATTR payload: name length, a name without NUL, the rest; an
 * attribute's value holds no NUL either. */
static bool parse_record(parser *ps, const section *s, const char *what, int64_t index,
                         ck_record *r) {
  const uint8_t *p = s->payload;
  size_t left = s->len;
  uint32_t name_len = left >= 4 ? rg_get_u32(p) : 0;
  if (name_len == 0 || name_len > left - 4 || memchr(p + 4, 0, name_len))
    return bad(ps, s->at, "%s %lld: bad name (length %u, %zu bytes)", what, (long long)index,
               name_len, left);
  *r = (ck_record){.name = (const char *)p + 4, .name_len = name_len, .data = p + 4 + name_len,
                   .len = left - 4 - name_len, .index = index, .at = s->at};
  if (s->tag == TAG_ATTR && memchr(r->data, 0, r->len))
    return bad(ps, s->at, "attribute \"%.*s\": the value holds a NUL byte",
               name_len > 64 ? 64 : (int)name_len, r->name);
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

static int cmp_record(const void *a, const void *b) {
  const ck_record *x = a, *y = b;
  return cmp_name(x->name, x->name_len, y->name, y->name_len);
}

ck_tensor *ck_find(const ck_file *f, const char *name) {
  ck_tensor key = {.name = name, .name_len = strlen(name)};
  return f->n_tensors ? bsearch(&key, f->tensors, (size_t)f->n_tensors, sizeof key, cmp_tensor)
                      : NULL;
}

static ck_record *find_record(ck_record *list, int64_t n, const char *name) {
  ck_record key = {.name = name, .name_len = strlen(name)};
  return n ? bsearch(&key, list, (size_t)n, sizeof key, cmp_record) : NULL;
}

ck_record *ck_find_state(const ck_file *f, const char *name) {
  return find_record(f->states, f->n_states, name);
}

ck_record *ck_find_attr(const ck_file *f, const char *key) {
  return find_record(f->attrs, f->n_attrs, key);
}

void ck_file_free(rg_ctx *ctx, ck_file *f) {
  rg_heap_free(ctx, f->tensors, (size_t)f->n_tensors * sizeof *f->tensors);
  rg_heap_free(ctx, f->states, (size_t)f->n_states * sizeof *f->states);
  rg_heap_free(ctx, f->attrs, (size_t)f->n_attrs * sizeof *f->attrs);
  f->tensors = NULL;
  f->states = f->attrs = NULL;
}

/* The sections after META: the counted TNSR, STAT and ATTR sections in this
 * order, then END and nothing after it. */
static bool parse_sections(parser *ps, ck_file *out) {
  const struct { uint32_t tag; int64_t count; const char *what; } parts[] = {
      {TAG_TNSR, out->n_tensors, "tensor"}, {TAG_STAT, out->n_states, "state"},
      {TAG_ATTR, out->n_attrs, "attribute"}};
  for (int part = 0; part < 3; part++)
    for (int64_t i = 0; i < parts[part].count; i++) {
      section s = {0};
      if (!next_section(ps, &s)) return false;
      if (s.tag != parts[part].tag)
        return bad(ps, s.at, "section \"%s\" where %s %lld of %lld (\"%s\") was expected",
                   TAG_STR(s.tag), parts[part].what, (long long)i + 1,
                   (long long)parts[part].count, TAG_STR(parts[part].tag));
      bool ok = part == 0   ? parse_tensor(ps, &s, i, &out->tensors[i])
                : part == 1 ? parse_record(ps, &s, "state", i, &out->states[i])
                            : parse_record(ps, &s, "attribute", i, &out->attrs[i]);
      if (!ok) return false;
    }
  section s = {0};
  if (!next_section(ps, &s)) return false;
  if (s.tag != TAG_END)
    return bad(ps, s.at, "section \"%s\" after the %lld tensors, %lld states and %lld "
               "attributes META counts, expected \"END\"", TAG_STR(s.tag),
               (long long)out->n_tensors, (long long)out->n_states, (long long)out->n_attrs);
  if (s.len != 0) return bad(ps, s.at, "END has a %zu-byte payload", s.len);
  if (ps->pos != ps->size)
    return bad(ps, ps->pos, "%zu bytes follow the END section", ps->size - ps->pos);
  return true;
}

/* Sorts list by name and refuses a name that appears twice. */
static bool sort_unique(parser *ps, void *list, int64_t n, size_t size,
                        int (*cmp)(const void *, const void *), const char *what) {
  if (n < 2) return true;
  qsort(list, (size_t)n, size, cmp);
  for (int64_t i = 1; i < n; i++) {
    const char *a = (const char *)list + (size_t)(i - 1) * size, *b = a + size;
    if (cmp(a, b) != 0) continue;
    /* ck_tensor and ck_record both start with name and name_len */
    const ck_record *r = (const void *)b;
    int nl = r->name_len > 64 ? 64 : (int)r->name_len;
    return bad(ps, 0, "%s name \"%.*s\" appears twice", what, nl, r->name);
  }
  return true;
}

bool ck_parse(rg_ctx *ctx, const char *fn, const char *path, const uint8_t *buf, size_t size,
              ck_file *out) {
  parser ps = {.ctx = ctx, .fn = fn, .path = path, .buf = buf, .size = size};
  *out = (ck_file){0};
  if (!parse_header(&ps) || !parse_meta(&ps, out)) return false;
  if (out->n_tensors > 0)
    out->tensors = rg_heap_alloc(ctx, fn, (size_t)out->n_tensors * sizeof *out->tensors);
  if (out->n_states > 0)
    out->states = rg_heap_alloc(ctx, fn, (size_t)out->n_states * sizeof *out->states);
  if (out->n_attrs > 0)
    out->attrs = rg_heap_alloc(ctx, fn, (size_t)out->n_attrs * sizeof *out->attrs);
  bool ok = ctx->status == RG_OK && parse_sections(&ps, out) &&
            sort_unique(&ps, out->tensors, out->n_tensors, sizeof *out->tensors, cmp_tensor,
                        "tensor") &&
            sort_unique(&ps, out->states, out->n_states, sizeof *out->states, cmp_record,
                        "state") &&
            sort_unique(&ps, out->attrs, out->n_attrs, sizeof *out->attrs, cmp_record,
                        "attribute");
  if (!ok) ck_file_free(ctx, out);
  return ok;
}
