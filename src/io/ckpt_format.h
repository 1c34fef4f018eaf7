/* The checkpoint byte format, shared by src/io/checkpoint.c (files, the
 * context) and src/io/ckpt_format.c (encoding, decoding, validation). The
 * layout is described at the top of ckpt_format.c and in docs/checkpoints.md. */
#ifndef RG_CKPT_FORMAT_H
#define RG_CKPT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/internal.h"

#define CK_VERSION 2u
#define CK_MAGIC_LEN 8
#define CK_HEADER_LEN 12 /* magic + version */

/* A section is framed by a tag, a length and a CRC: 16 bytes. */
#define CK_FRAME_LEN 16

/* Writer: a stdio stream with the CRC of the current section. The first
 * failing call records errno; later calls do nothing. */
typedef struct ck_writer {
  FILE *f;
  int err;      /* errno of the first failure, 0 while all is well */
  uint32_t crc; /* CRC32 of the current section so far */
} ck_writer;

void ck_write_header(ck_writer *w);
/* Writes a whole checkpoint body: META, one TENSOR section per parameter or
 * buffer of ctx (creation order), END. */
void ck_write_body(ck_writer *w, const rg_ctx *ctx, const rg_train_state *st);

/* A tensor section as found in a file; name and data point into the file
 * image (name is not NUL-terminated). */
typedef struct ck_tensor {
  const char *name;
  size_t name_len;
  enum rg_kind kind;
  rg_shape shape;
  int64_t numel;
  const uint8_t *data; /* numel little-endian float32 */
  int64_t index;       /* position among the tensors of the file, from 0 */
  size_t at;           /* byte offset of its section */
  bool matched;        /* set by the loader */
} ck_tensor;

/* A STAT or ATTR section as found: the name (not NUL-terminated) and the
 * record or value bytes, pointing into the file image. */
typedef struct ck_record {
  const char *name;
  size_t name_len;
  const uint8_t *data;
  size_t len;
  int64_t index; /* position among the file's records of its kind */
  size_t at;     /* byte offset of its section */
  bool matched;  /* set by the loader */
} ck_record;

typedef struct ck_file {
  uint32_t version;
  uint64_t seed, dropout_stream;
  rg_train_state st;
  /* each sorted by name (rg_heap_alloc; free with ck_file_free) */
  ck_tensor *tensors;
  int64_t n_tensors;
  ck_record *states, *attrs;
  int64_t n_states, n_attrs;
} ck_file;

/* Parses and validates a whole file image: magic, version, every section's
 * framing and CRC, the order META, TNSR..., STAT..., ATTR..., END, nothing
 * after END, every field's range, and unique names. On failure sets RG_EFORMAT ("fn:
 * \"path\": what, where") or RG_ENOMEM and returns false with nothing to
 * free. */
bool ck_parse(rg_ctx *ctx, const char *fn, const char *path, const uint8_t *buf, size_t size,
              ck_file *out);
void ck_file_free(rg_ctx *ctx, ck_file *f);

/* The tensor, state record or attribute of that name in f (binary search),
 * or NULL. */
ck_tensor *ck_find(const ck_file *f, const char *name);
ck_record *ck_find_state(const ck_file *f, const char *name);
ck_record *ck_find_attr(const ck_file *f, const char *key);

/* Decodes n little-endian float32 values bit for bit. */
void ck_decode_floats(float *dst, const uint8_t *src, int64_t n);

#endif
