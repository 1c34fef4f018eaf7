/* libFuzzer target: rg_checkpoint_load into a small model (parameters "w"
 * [2,3] and "b" [3], buffer "rm" [3]: what the seeds in checkpoint/ hold).
 * The first input byte is a mode: bit 0 set rewrites every section's CRC
 * before loading, so mutations get past the CRC check into the field
 * validation. A failed load must leave RG_EFORMAT / RG_ESHAPE / RG_EIO /
 * RG_ENOMEM and the context's tensors, seed and stream untouched; a
 * successful one only changes values. */
#include <string.h>

#include "regrad.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static float sum_of(rg_ctx *ctx) {
  int n;
  float s = 0;
  rg_tensor *const *all = rg_params(ctx, &n);
  for (int i = 0; i < n; i++)
    for (int64_t j = 0; j < rg_tensor_numel(all[i]); j++) s += rg_tensor_data(all[i])[j];
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz_file file;
  const char *path = fuzz_checkpoint_file(&file, data, size);
  if (!path) return 0;
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 7, .isa = "scalar", .mem_limit = 1u << 20});
  if (!ctx) abort();
  rg_param_new(ctx, "w", rg_shape2(2, 3), (const float[]){1, 2, 3, 4, 5, 6});
  rg_param_new(ctx, "b", rg_shape1(3), (const float[]){7, 8, 9});
  rg_buffer_new(ctx, "rm", rg_shape1(3), (const float[]){10, 11, 12});
  if (rg_ctx_status(ctx) != RG_OK) abort();
  rg_train_state st = {-1, -1};
  rg_status s = rg_checkpoint_load(ctx, path, &st);
  if (s != RG_OK) {
    if (s != RG_EFORMAT && s != RG_ESHAPE && s != RG_EIO && s != RG_ENOMEM) abort();
    if (sum_of(ctx) != 78.0f || st.step != -1 || st.epoch != -1) abort();
  }
  fuzz_expect_clean(ctx, "rg_checkpoint_load");
  rg_ctx_free(ctx);
  return 0;
}
