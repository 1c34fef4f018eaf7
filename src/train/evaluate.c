/* Loss and accuracy of an MLP on a dataset, in evaluation mode. */
#include <math.h>

#include "core/internal.h"
#include "data/data.h"
#include "train/mlp.h"

#define EVAL_ROWS 1000

rg_status rg_mlp_evaluate(rg_mlp *m, const rg_dataset *ds, int64_t max_rows, double *loss,
                          double *accuracy) {
  static const char fn[] = "rg_mlp_evaluate";
  if (loss) *loss = NAN;
  if (accuracy) *accuracy = NAN;
  rg_ctx *ctx = m ? rg_mlp_context(m) : NULL;
  if (!m) return RG_EINVAL;
  if (!rg_dataset_valid(ctx, fn, ds, 0)) return rg_ctx_status(ctx);
  int64_t n = max_rows > 0 && max_rows < ds->n ? max_rows : ds->n;
  if (n == 0) return RG_OK;
  bool was_training = ctx->training, had_grad = rg_set_grad_enabled(ctx, false);
  ctx->training = false;
  double loss_sum = 0.0;
  int64_t correct = 0;
  for (int64_t at = 0; at < n && ctx->status == RG_OK; at += EVAL_ROWS) {
    int64_t rows = n - at < EVAL_ROWS ? n - at : EVAL_ROWS;
    rg_tensor *x = rg_tensor_view(ctx, rg_shape2(rows, ds->features), ds->x + at * ds->features);
    rg_tensor *logits = rg_mlp_forward(m, x);
    rg_tensor *xent = rg_cross_entropy(ctx, logits, ds->y + at, 0.0f);
    if (xent) {
      /* Op outputs are handles (internal.h): read them through the accessors. */
      loss_sum += (double)rg_tensor_data(xent)[0] * (double)rows;
      correct += rg_count_correct(rg_tensor_data(logits), rows, rg_tensor_shape(logits).dim[1],
                                  ds->y + at);
    }
    rg_tape_reset(ctx);
  }
  ctx->training = was_training;
  rg_set_grad_enabled(ctx, had_grad);
  if (ctx->status != RG_OK) return ctx->status;
  if (loss) *loss = loss_sum / (double)n;
  if (accuracy) *accuracy = (double)correct / (double)n;
  return RG_OK;
}

int64_t rg_count_correct(const float *logits, int64_t rows, int64_t classes,
                         const int32_t *labels) {
  int64_t correct = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *row = logits + r * classes;
    int64_t best = 0;
    for (int64_t k = 1; k < classes; k++)
      if (row[k] > row[best]) best = k;
    correct += best == labels[r];
  }
  return correct;
}
