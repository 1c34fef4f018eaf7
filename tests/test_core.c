/* Context, tensors, tape semantics, Philox known answers and the
 * zero-allocation steady state. */
#define RG_TEST_MAIN
#include <math.h>

#include "core/internal.h" /* rg_deref, RG_GEN_LAST: header slot generations */
#include "core/philox.h"
#include "helpers.h"

/* Random123's kat_vectors for philox4x32-10: counter, key, expected. */
Test(philox, known_answers) {
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
       0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
       0x94fdcceb, 0x5001e420, 0x24126ea1},
  };
  for (int v = 0; v < 3; v++) {
    uint32_t out[4];
    rg_philox4x32_10(kat[v], kat[v] + 4, out);
    for (int i = 0; i < 4; i++)
      cr_assert_eq(out[i], kat[v][6 + i], "vector %d word %d: %08x", v, i, out[i]);
  }
}

Test(ctx, defaults_and_isa_choice) {
  rg_ctx *ctx = rg_ctx_new(NULL);
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert(rg_isa_supported(rg_ctx_isa(ctx)));
  cr_assert(rg_is_training(ctx));
  cr_assert_eq(rg_set_isa(ctx, "scalar"), RG_OK);
  cr_assert_str_eq(rg_ctx_isa(ctx), "scalar");
  cr_assert_eq(rg_set_isa(ctx, "sse9"), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(ctx), "rg_set_isa: unknown ISA \"sse9\""), "%s",
            rg_ctx_message(ctx));
  cr_assert_str_eq(rg_ctx_isa(ctx), "scalar", "a failed switch keeps the previous ISA");
  rg_ctx_free(ctx);
}

/* ISA names match in any case, in rg_config.isa, rg_set_isa, REGRAD_ISA and
 * rg_isa_supported (red-team issue 16, item 12). */
Test(ctx, isa_names_in_any_case) {
  cr_assert(rg_isa_supported("SCALAR") && rg_isa_supported("Scalar"));
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.isa = "SCALAR"});
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_str_eq(rg_ctx_isa(ctx), "scalar");
  cr_assert_eq(rg_set_isa(ctx, "AUTO"), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_eq(rg_set_isa(ctx, "sCaLaR"), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_str_eq(rg_ctx_isa(ctx), "scalar");
  if (rg_isa_supported("avx2")) {
    cr_assert_eq(rg_set_isa(ctx, "AVX2"), RG_OK, "%s", rg_ctx_message(ctx));
    cr_assert_str_eq(rg_ctx_isa(ctx), "avx2");
  }
  rg_ctx_free(ctx);
  setenv("REGRAD_ISA", "Scalar", 1);
  ctx = rg_ctx_new(NULL);
  unsetenv("REGRAD_ISA");
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_str_eq(rg_ctx_isa(ctx), "scalar");
  rg_ctx_free(ctx);
}

Test(ctx, bad_config_is_reported_not_fatal) {
  rg_config cfg = {.isa = "mmx"};
  rg_ctx *ctx = rg_ctx_new(&cfg);
  cr_assert(ctx);
  cr_assert_eq(rg_ctx_status(ctx), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(ctx), "rg_ctx_new"));
  cr_assert_null(rg_tensor_new(ctx, rg_shape1(3), NULL), "ops fail while the error is pending");
  rg_ctx_free(ctx);
  cfg = (rg_config){.threads = -2};
  ctx = rg_ctx_new(&cfg);
  cr_assert_eq(rg_ctx_status(ctx), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(ctx), "threads is -2"), "%s", rg_ctx_message(ctx));
  rg_ctx_free(ctx);
}

Test(ctx, unavailable_isa_is_unsupported) {
  const char *missing = NULL;
  static const char *const all[] = {"avx2", "avx512", "neon"};
  for (int i = 0; i < 3; i++)
    if (!rg_isa_supported(all[i])) missing = all[i];
  if (!missing) cr_skip_test("every ISA is available here");
  rg_ctx *ctx = th_ctx(0);
  cr_assert_eq(rg_set_isa(ctx, missing), RG_EUNSUPPORTED);
  cr_assert(strstr(rg_ctx_message(ctx), missing));
  rg_ctx_free(ctx);
}

Test(tensor, shapes_are_validated) {
  rg_ctx *ctx = th_ctx(0);
  cr_assert_null(rg_tensor_new(ctx, rg_shape2(3, 0), NULL));
  cr_assert_eq(rg_ctx_status(ctx), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(ctx), "rg_tensor_new: shape dimension 1 is 0"), "%s",
            rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  rg_shape bad_rank = {5, {1, 1, 1, 1}};
  cr_assert_null(rg_tensor_new(ctx, bad_rank, NULL));
  cr_assert_eq(rg_ctx_status(ctx), RG_EINVAL);
  rg_ctx_clear_error(ctx);
  cr_assert_null(rg_tensor_new(ctx, rg_shape3(1ll << 40, 1ll << 20, 1 << 10), NULL));
  cr_assert_eq(rg_ctx_status(ctx), RG_EOVERFLOW);
  rg_ctx_clear_error(ctx);
  cr_assert_null(rg_param_new(ctx, "", rg_shape1(2), NULL));
  cr_assert_eq(rg_ctx_status(ctx), RG_EINVAL);
  rg_ctx_clear_error(ctx);
  cr_assert(rg_param_new(ctx, "w", rg_shape1(2), NULL));
  cr_assert_null(rg_param_new(ctx, "w", rg_shape1(2), NULL));
  cr_assert(strstr(rg_ctx_message(ctx), "\"w\" is already taken"));
  rg_ctx_clear_error(ctx);
  float data[6] = {1, 2, 3, 4, 5, 6};
  rg_tensor *t = rg_tensor_new(ctx, rg_shape2(2, 3), data);
  cr_assert_eq(rg_tensor_numel(t), 6);
  cr_assert_eq(rg_tensor_shape(t).dim[1], 3);
  cr_assert_eq(rg_tensor_data(t)[5], 6.0f);
  cr_assert_null(rg_tensor_grad(t));
  cr_assert_eq(rg_param_find(ctx, "w"), rg_params(ctx, NULL)[0]);
  rg_ctx_free(ctx);
}

/* A view is the caller's memory: no copy, the same results as a copy, the
 * caller's later writes seen, retired by rg_tape_reset like any transient. */
Test(tensor, view_reads_the_callers_memory) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape2(5, 7), NULL);
  th_fill(rg_tensor_data(w), 35, 1, -1, 1);
  float xs[3 * 7], via_copy[15], via_view[15];
  th_fill(xs, 21, 2, -1, 1);
  rg_tensor *v = rg_tensor_view(ctx, rg_shape2(3, 7), xs);
  cr_assert(v, "%s", rg_ctx_message(ctx));
  cr_assert(rg_tensor_data(v) == xs, "a view does not copy");
  memcpy(via_view, rg_tensor_data(rg_linear(ctx, v, w, NULL)), sizeof via_view);
  memcpy(via_copy, rg_tensor_data(rg_linear(ctx, rg_tensor_new(ctx, rg_shape2(3, 7), xs), w, NULL)),
         sizeof via_copy);
  cr_assert(memcmp(via_view, via_copy, sizeof via_view) == 0);
  xs[0] += 1.0f;
  const float *y = rg_tensor_data(rg_linear(ctx, v, w, NULL));
  cr_assert(y[0] != via_view[0], "the view follows the caller's memory");
  rg_tape_reset(ctx);
  cr_assert_null(rg_relu(ctx, v));
  cr_assert_eq(rg_ctx_status(ctx), RG_ESTATE, "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  cr_assert_null(rg_tensor_view(ctx, rg_shape1(3), NULL));
  cr_assert(strstr(rg_ctx_message(ctx), "rg_tensor_view: data is NULL"), "%s", rg_ctx_message(ctx));
  rg_ctx_free(ctx);
}

/* x feeds two ops; dx must be the sum of both contributions. */
Test(tape, gradients_accumulate_over_uses) {
  rg_ctx *ctx = th_ctx(0);
  float xv[3] = {1, -2, 3};
  rg_tensor *x = rg_param_new(ctx, "x", rg_shape1(3), xv);
  rg_tensor *loss = rg_sum(ctx, rg_add(ctx, rg_mul(ctx, x, x), rg_scale(ctx, x, 5.0f)));
  cr_assert_eq(rg_backward(ctx, loss), RG_OK, "%s", rg_ctx_message(ctx));
  for (int i = 0; i < 3; i++) cr_assert_eq(rg_tensor_grad(x)[i], 2 * xv[i] + 5);
  /* Parameter gradients accumulate across backward passes until zeroed. */
  rg_tape_reset(ctx);
  loss = rg_sum(ctx, x);
  rg_backward(ctx, loss);
  for (int i = 0; i < 3; i++) cr_assert_eq(rg_tensor_grad(x)[i], 2 * xv[i] + 6);
  rg_zero_grad(ctx);
  cr_assert_eq(rg_tensor_grad(x)[0], 0.0f);
  rg_ctx_free(ctx);
}

Test(tape, no_grad_records_nothing) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape2(4, 3), NULL);
  rg_tensor *x = rg_tensor_new(ctx, rg_shape2(2, 3), NULL);
  cr_assert(rg_set_grad_enabled(ctx, false));
  rg_tensor *y = rg_sum(ctx, rg_relu(ctx, rg_linear(ctx, x, w, NULL)));
  cr_assert(y);
  cr_assert_eq(rg_ctx_stats(ctx).tape_nodes, 0);
  cr_assert_eq(rg_backward(ctx, y), RG_ESTATE);
  cr_assert(strstr(rg_ctx_message(ctx), "not recorded"));
  rg_ctx_free(ctx);
}

Test(tape, backward_twice_and_stale_tensors) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape1(3), NULL);
  rg_tensor *loss = rg_sum(ctx, rg_tanh(ctx, w));
  cr_assert_eq(rg_backward(ctx, loss), RG_OK);
  cr_assert_eq(rg_backward(ctx, loss), RG_ESTATE);
  cr_assert(strstr(rg_ctx_message(ctx), "already ran"));
  rg_ctx_clear_error(ctx);
  rg_tensor *h = rg_relu(ctx, w);
  rg_tape_reset(ctx);
  cr_assert_null(rg_relu(ctx, h));
  cr_assert_eq(rg_ctx_status(ctx), RG_ESTATE);
  cr_assert(strstr(rg_ctx_message(ctx), "rg_relu: x is a stale tensor"), "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  cr_assert(rg_relu(ctx, w), "the context works after the error is cleared");
  rg_ctx_free(ctx);
}

/* A tape that outgrew its first arena chunk gets its chunks merged (freed)
 * on reset: a tensor from before must be reported stale without reading the
 * freed memory (ASan) (red-team issue 16, item 1). */
Test(tape, stale_tensor_after_arena_chunks_are_freed) {
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.arena_bytes = 4096});
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape1(3), NULL);
  rg_tensor *h = rg_relu(ctx, w);
  cr_assert(rg_tensor_new(ctx, rg_shape1(100000), NULL), "%s", rg_ctx_message(ctx));
  rg_tape_reset(ctx);
  cr_assert_null(rg_relu(ctx, h));
  cr_assert_eq(rg_ctx_status(ctx), RG_ESTATE, "%s", rg_ctx_message(ctx));
  cr_assert(strstr(rg_ctx_message(ctx), "rg_relu: x is a stale tensor"), "%s",
            rg_ctx_message(ctx));
  cr_assert_null(rg_tensor_data(h));
  cr_assert_eq(rg_tensor_numel(h), 0);
  rg_ctx_clear_error(ctx);
  cr_assert(rg_relu(ctx, w), "%s", rg_ctx_message(ctx));
  rg_ctx_free(ctx);
}

/* In a training loop a new tensor lands where the last step's was: the old
 * handle must not silently stand for the new tensor. */
Test(tape, stale_tensor_is_not_the_tensor_at_its_old_address) {
  rg_ctx *ctx = th_ctx(0);
  const float one[4] = {1, 2, 3, 4}, two[4] = {-5, 6, -7, 8};
  rg_tensor *old = rg_tensor_new(ctx, rg_shape1(4), one);
  for (int step = 0; step < 3; step++) {
    rg_tape_reset(ctx);
    rg_tensor *now = rg_tensor_new(ctx, rg_shape1(4), two);
    cr_assert(now, "%s", rg_ctx_message(ctx));
    cr_assert_null(rg_tensor_data(old), "step %d: the old handle reads the new tensor's data",
                   step);
    cr_assert_null(rg_relu(ctx, old), "step %d: an op accepted the stale tensor", step);
    cr_assert_eq(rg_ctx_status(ctx), RG_ESTATE, "%s", rg_ctx_message(ctx));
    cr_assert(strstr(rg_ctx_message(ctx), "rg_relu: x is a stale tensor"), "%s",
              rg_ctx_message(ctx));
    rg_ctx_clear_error(ctx);
    rg_tensor *y = rg_relu(ctx, now);
    cr_assert(y, "%s", rg_ctx_message(ctx));
    cr_assert_float_eq(rg_tensor_data(y)[1], 6.0f, 0);
    cr_assert_float_eq(rg_tensor_data(y)[0], 0.0f, 0);
    old = now;
  }
  rg_ctx_free(ctx);
}

/* Over many steps no handle ever names two tensors: every handle kept from
 * an earlier step stays stale while the same header slots are reused. */
Test(tape, handles_of_every_earlier_step_stay_stale) {
  enum { STEPS = 300, PER = 3 };
  static rg_tensor *kept[STEPS][PER];
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape1(2), NULL);
  for (int step = 0; step < STEPS; step++) {
    kept[step][0] = rg_tensor_new(ctx, rg_shape1(2), NULL);
    kept[step][1] = rg_add(ctx, kept[step][0], w);
    kept[step][2] = rg_sum(ctx, kept[step][1]);
    cr_assert_eq(rg_backward(ctx, kept[step][2]), RG_OK, "%s", rg_ctx_message(ctx));
    for (int i = 0; i < PER; i++) cr_assert(rg_tensor_data(kept[step][i]));
    rg_tape_reset(ctx);
    if (step % 37 == 0 || step == STEPS - 1)
      for (int s = 0; s <= step; s++)
        for (int i = 0; i < PER; i++) {
          cr_assert_null(rg_tensor_data(kept[s][i]), "step %d tensor %d", s, i);
          for (int t = 0; t < s; t++) cr_assert_neq(kept[t][i], kept[s][i]);
        }
  }
  cr_assert_eq(rg_backward(ctx, kept[0][2]), RG_ESTATE);
  rg_ctx_free(ctx);
}

/* A header slot reused RG_GEN_LAST times is retired, never handed out again,
 * so even after four million resets no handle value comes back. */
Test(tape, a_slot_at_its_last_generation_is_retired) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *first = rg_tensor_new(ctx, rg_shape1(2), NULL);
  rg_tensor *slot = rg_deref(first);
  cr_assert(slot);
  slot->gen = RG_GEN_LAST - 1; /* as if reused four million times */
  cr_assert_null(rg_tensor_data(first));
  rg_tape_reset(ctx);
  rg_tensor *last = rg_tensor_new(ctx, rg_shape1(2), NULL);
  cr_assert_eq(rg_deref(last), slot, "the slot serves its last generation");
  cr_assert_eq((uintptr_t)last >> 48, RG_GEN_LAST >> 6);
  uint64_t allocs = rg_ctx_stats(ctx).heap_allocs;
  rg_tape_reset(ctx);
  rg_tensor *next = rg_tensor_new(ctx, rg_shape1(2), NULL);
  cr_assert(next && rg_deref(next) != slot, "a retired slot is not reused");
  cr_assert_eq(rg_ctx_stats(ctx).heap_allocs, allocs, "the pool had spare slots");
  cr_assert_null(rg_tensor_data(last));
  cr_assert_null(rg_relu(ctx, last));
  cr_assert_eq(rg_ctx_status(ctx), RG_ESTATE);
  rg_ctx_clear_error(ctx);
  /* Every slot of the pool is used once more: the retired one is skipped. */
  for (int round = 0; round < 3; round++) {
    rg_tape_reset(ctx);
    for (int i = 0; i < 200; i++) {
      rg_tensor *t = rg_tensor_new(ctx, rg_shape1(1), NULL);
      cr_assert(t && rg_deref(t) != slot, "%s", rg_ctx_message(ctx));
    }
  }
  rg_ctx_free(ctx);
}

Test(tape, loss_must_be_scalar) {
  rg_ctx *ctx = th_ctx(0);
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape1(3), NULL);
  cr_assert_eq(rg_backward(ctx, rg_relu(ctx, w)), RG_ESHAPE);
  rg_ctx_free(ctx);
}

/* A training step whose shapes do not change allocates nothing after the
 * first: linear, batch norm, relu, dropout, cross-entropy and an L2 penalty. */
Test(tape, steady_state_steps_do_not_allocate) {
  rg_ctx *ctx = th_ctx(3);
  rg_tensor *w1 = rg_param_new(ctx, "w1", rg_shape2(32, 20), NULL);
  rg_tensor *b1 = rg_param_new(ctx, "b1", rg_shape1(32), NULL);
  rg_tensor *g = rg_param_new(ctx, "g", rg_shape1(32), NULL);
  rg_tensor *be = rg_param_new(ctx, "be", rg_shape1(32), NULL);
  rg_tensor *rm = rg_buffer_new(ctx, "rm", rg_shape1(32), NULL);
  rg_tensor *rv = rg_buffer_new(ctx, "rv", rg_shape1(32), NULL);
  rg_tensor *w2 = rg_param_new(ctx, "w2", rg_shape2(5, 32), NULL);
  th_fill(rg_tensor_data(w1), 640, 1, -0.3f, 0.3f);
  th_fill(rg_tensor_data(w2), 160, 2, -0.3f, 0.3f);
  for (int i = 0; i < 32; i++) rg_tensor_data(g)[i] = 1, rg_tensor_data(rv)[i] = 1;
  static float xs[16 * 20];
  int32_t labels[16];
  th_fill(xs, 16 * 20, 4, -1, 1);
  for (int i = 0; i < 16; i++) labels[i] = i % 5;
  uint64_t after_second = 0;
  for (int step = 0; step < 12; step++) {
    rg_tensor *x = rg_tensor_new(ctx, rg_shape2(16, 20), xs);
    rg_tensor *h = rg_linear(ctx, x, w1, b1);
    h = rg_dropout(ctx, rg_relu(ctx, rg_batch_norm(ctx, h, g, be, rm, rv, 0.1f, 1e-5f)), 0.2f);
    rg_tensor *wl[2] = {w1, w2};
    rg_tensor *loss = rg_add(ctx, rg_cross_entropy(ctx, rg_linear(ctx, h, w2, NULL), labels, 0),
                             rg_l2_penalty(ctx, wl, 2, 1e-3f));
    cr_assert_eq(rg_backward(ctx, loss), RG_OK, "%s", rg_ctx_message(ctx));
    rg_tape_reset(ctx);
    rg_zero_grad(ctx);
    if (step == 1) after_second = rg_ctx_stats(ctx).heap_allocs;
  }
  cr_assert_eq(rg_ctx_stats(ctx).heap_allocs, after_second, "%llu allocations after step 2",
               (unsigned long long)(rg_ctx_stats(ctx).heap_allocs - after_second));
  rg_ctx_free(ctx);
}

/* NaN and infinity pass through ops and backward without crashing. */
Test(tape, non_finite_values_propagate) {
  rg_ctx *ctx = th_ctx(0);
  float v[4] = {NAN, INFINITY, -INFINITY, 1.0f};
  rg_tensor *w = rg_param_new(ctx, "w", rg_shape2(1, 4), v);
  int32_t label = 3;
  rg_tensor *loss = rg_cross_entropy(ctx, rg_tanh(ctx, w), &label, 0.0f);
  cr_assert(loss);
  cr_assert(isnan(rg_tensor_data(loss)[0]));
  cr_assert_eq(rg_backward(ctx, loss), RG_OK);
  cr_assert(isnan(rg_tensor_grad(w)[0]));
  rg_ctx_free(ctx);
}
