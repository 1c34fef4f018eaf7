/* libFuzzer target: rg_dataset_load_idx. The input is
 *   u16 little-endian n | n bytes of the image file | the label file
 * (each plain or gzip: zlib detects it). Whatever the bytes, the loader
 * returns a consistent dataset or NULL with RG_EFORMAT / RG_EIO / RG_ENOMEM
 * and a message naming it; the context's memory budget (4 MiB) bounds what
 * a header claiming huge sizes can make it allocate. */
#include <string.h>

#include "regrad.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
