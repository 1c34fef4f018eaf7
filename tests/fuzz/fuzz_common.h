/* Shared by the fuzz targets: an in-memory file with a path (a memfd, seen
 * as /proc/self/fd/N), so loaders that take a path read the fuzz input
 * without touching the disk. */
#ifndef RG_FUZZ_COMMON_H
#define RG_FUZZ_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "regrad.h"

typedef struct fuzz_file {
  int fd;
  char path[32];
} fuzz_file;

/* Replaces the content of f (created on first use) with data[0, n). */
static inline const char *fuzz_file_set(fuzz_file *f, const uint8_t *data, size_t n) {
  if (!f->path[0]) {
    f->fd = memfd_create("regrad-fuzz", 0);
    if (f->fd < 0) abort();
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
  }
  if (ftruncate(f->fd, 0) != 0 || (n && pwrite(f->fd, data, n, 0) != (ssize_t)n)) abort();
  return f->path;
}

/* Walks the sections of a checkpoint image after its 12-byte header and
 * stores a correct CRC in each, so mutations get past the CRC check into
 * the field validation. */
static inline void fuzz_fix_crcs(uint8_t *b, size_t size) {
  for (size_t pos = 12; size - pos >= 16 && pos < size;) {
    uint64_t len = 0;
    for (int i = 7; i >= 0; i--) len = len << 8 | b[pos + 4 + (size_t)i];
    if (len > size - pos - 16) return;
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0, NULL, 0), b + pos, 12 + (size_t)len);
    for (int i = 0; i < 4; i++) b[pos + 12 + len + (size_t)i] = (uint8_t)(crc >> (8 * i));
    pos += 16 + (size_t)len;
  }
}

/* The fuzz input as a checkpoint file at f's path: the first byte is a mode
 * (bit 0: fix every section's CRC), the rest the file. NULL for an empty
 * input. */
static inline const char *fuzz_checkpoint_file(fuzz_file *f, const uint8_t *data, size_t size) {
  if (size < 1) return NULL;
  uint8_t *copy = malloc(size);
  if (!copy) abort();
  memcpy(copy, data + 1, size - 1);
  if (data[0] & 1) fuzz_fix_crcs(copy, size - 1);
  const char *path = fuzz_file_set(f, copy, size - 1);
  free(copy);
  return path;
}

/* Every failure must leave a status, a message naming the function, and a
 * context that still clears and runs a tiny op. */
static inline void fuzz_expect_clean(rg_ctx *ctx, const char *fn) {
  rg_status st = rg_ctx_status(ctx);
  if (st != RG_OK && strncmp(rg_ctx_message(ctx), fn, strlen(fn)) != 0) {
    fprintf(stderr, "%s: message \"%s\" does not name it\n", fn, rg_ctx_message(ctx));
    abort();
  }
  rg_ctx_clear_error(ctx);
  rg_tensor *t = rg_tensor_new(ctx, rg_shape1(2), (const float[]){1, 2});
  if (!t || rg_tensor_data(t)[1] != 2.0f) abort();
}
#endif
