/* Trains a two-layer net on synthetic data: is a point inside the circle? */
#include <math.h>
#include <regrad.h>
#include <stdio.h>

int main(void) {
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.seed = 1});
  rg_tensor *w1 = rg_param_new(ctx, "w1", rg_shape2(32, 2), NULL), *b1 = rg_param_new(ctx, "b1", rg_shape1(32), NULL);
  rg_tensor *w2 = rg_param_new(ctx, "w2", rg_shape2(2, 32), NULL), *b2 = rg_param_new(ctx, "b2", rg_shape1(2), NULL);
  rg_init_kaiming_uniform(ctx, w1, 0, RG_FAN_IN, RG_RELU);
  rg_init_xavier_uniform(ctx, w2, 1.0f);
  rg_optim *opt = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.1f, .momentum = 0.9f});
  rg_optim_add_all(opt);
  float x[256 * 2];
  int32_t y[256], correct = 0;
  for (int i = 0; i < 256; i++) {
    x[2 * i] = (float)((i * 37) % 64) / 32.0f - 1.0f, x[2 * i + 1] = (float)((i * 11) % 64) / 32.0f - 1.0f;
    y[i] = x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1] < 0.5f;
  }
  for (int step = 0; step <= 300; step++) {
    rg_tensor *in = rg_tensor_new(ctx, rg_shape2(256, 2), x);
    rg_tensor *logits = rg_linear(ctx, rg_relu(ctx, rg_linear(ctx, in, w1, b1)), w2, b2);
    rg_tensor *loss = rg_cross_entropy(ctx, logits, y, 0.0f);
    if (rg_backward(ctx, loss) != RG_OK) return fprintf(stderr, "%s\n", rg_ctx_message(ctx)), 1;
    rg_optim_step(opt, 0.1f, 1.0f);
    const float *l = rg_tensor_data(logits);
    for (int i = correct = 0; i < 256; i++) correct += (l[2 * i + 1] > l[2 * i]) == y[i];
    if (step % 100 == 0) printf("step %3d  loss %.4f  accuracy %.3f\n", step, rg_tensor_data(loss)[0], correct / 256.0);
    rg_zero_grad(ctx);
    rg_tape_reset(ctx);
  }
  rg_optim_free(opt);
  rg_ctx_free(ctx);
  return correct > 230 ? 0 : 1;
}
