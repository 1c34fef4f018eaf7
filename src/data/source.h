/* A byte source over one input file for the IDX reader (source.c): the
 * file's bytes when it is plain, the decompressed content of its gzip
 * members when it starts with the gzip magic. Reads go in bounded steps
 * through counted buffers (zlib's state included), and anything after the
 * last gzip member that is not another member is an error. */
#ifndef RG_DATA_SOURCE_H
#define RG_DATA_SOURCE_H
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "core/internal.h"

/* Deflate stores at most 1032 bytes of output per byte of input (a 258-byte
 * match in 2 bits), so a gzip file of n bytes holds fewer than n * 1032. */
#define RG_GZIP_MAX_RATIO 1032

typedef struct rg_source {
  rg_ctx *ctx;
  const char *fn, *path;
  int fd;
  int64_t size; /* of the file when opened */
  bool gz;
  z_stream z;
  bool z_live;
  uint8_t *in; /* read buffer of IN_BYTES, counted */
  int64_t file_pos; /* bytes read from the file so far */
  bool eof;         /* the file has no more bytes */
  bool ended;       /* the content has no more bytes */
  bool cut;         /* ... because the gzip stream stops inside a member */
} rg_source;

/* Opens path (rg_open_read: a regular file or RG_EIO) and looks at its first
 * bytes. False with the error set. */
bool rg_source_open(rg_source *s, rg_ctx *ctx, const char *fn, const char *path);
/* Up to len bytes of content into buf: fewer only at the end of the content
 * (s->ended, with s->cut when a gzip stream was cut short); -1 with the
 * error set (RG_EIO, RG_EFORMAT for corrupt gzip data or bytes after the
 * last gzip member, RG_ENOMEM). */
int64_t rg_source_read(rg_source *s, uint8_t *buf, int64_t len);
void rg_source_close(rg_source *s);
#endif
