/* NEON bodies of the reductions: the 64-lane model of lanes.h for the float
 * sums, and an order-free unsigned max on the bit patterns of |x| for amax
 * (src/scalar/reduce.c is the reference). */
#define RG_ISA neon
#include "isa.h"
#include "lanes.h"

float rg_sum__neon(int64_t n, const float *x) { return rg_row_sum(n, x); }

double rg_sumsq__neon(int64_t n, const float *x) { return rg_row_sumsq(n, x); }

float rg_dot__neon(int64_t n, const float *x, const float *y) { return rg_row_dot(n, x, y); }

float rg_asum__neon(int64_t n, const float *x) {
  return rg_reduce(RG_FOLD_ASUM, n, x, NULL, 0.0f);
}

/* Unsigned max of the |x| bit patterns; the zero padding of the tail is the
 * identity of an unsigned max. */
float rg_amax__neon(int64_t n, const float *x) {
  const uint32x4_t magnitude = vdupq_n_u32(0x7fffffffu);
  uint32x4_t best0 = vdupq_n_u32(0), best1 = best0;
  int64_t i = 0;
  for (; n - i >= 8; i += 8) {
    best0 = vmaxq_u32(best0, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i)), magnitude));
    best1 = vmaxq_u32(best1, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i + 4)), magnitude));
  }
  for (; i < n; i += 4)
    best0 = vmaxq_u32(best0, vandq_u32(vreinterpretq_u32_f32(rg_ld(x + i, n - i)), magnitude));
  uint32_t best = vmaxvq_u32(vmaxq_u32(best0, best1));
  float r;
  memcpy(&r, &best, sizeof r);
  return r;
}

/* g is shared equally by the elements with |x| == m: sign(x) g / count. */
void rg_amax_bwd__neon(int64_t n, float m, float g, const float *x, float *dx) {
  const float32x4_t mv = rg_dup(m);
  uint64x2_t cnt = vdupq_n_u64(0);
  for (int64_t i = 0; i < n; i += 4) {
    uint32x4_t hit = vandq_u32(vceqq_f32(vabsq_f32(rg_ld(x + i, n - i)), mv), rg_first(n - i));
    cnt = vpadalq_u32(cnt, vshrq_n_u32(hit, 31));
  }
  int64_t count = (int64_t)vaddvq_u64(cnt);
  if (count == 0) return;
  const float32x4_t share = rg_dup(g / (float)count);
  for (int64_t i = 0; i < n; i += 4) {
    float32x4_t v = rg_ld(x + i, n - i);
    float32x4_t c = rg_sel(vceqq_f32(vabsq_f32(v), mv), rg_signed(v, share), rg_zero());
    rg_st(dx + i, vaddq_f32(rg_ld(dx + i, n - i), c), n - i);
  }
}

/* Per row: the sum of squares on the 32 double lanes and the sum of |x| on
 * the 64 float lanes; the row results add up in row order; amax over the
 * whole tensor. */
void rg_grad_stats__neon(int64_t m, int64_t n, const float *x, double *row_sumsq,
                         struct rg_grad_stats *stats) {
  double sq = 0.0;
  float ab = 0.0f;
  for (int64_t r = 0; r < m; r++) {
    const float *row = x + r * n;
    double rs = rg_row_sumsq(n, row);
    float ra = rg_asum__neon(n, row);
    if (row_sumsq) row_sumsq[r] = rs;
    sq = sq + rs;
    ab = ab + ra;
  }
  stats->sumsq = sq;
  stats->asum = ab;
  stats->amax = rg_amax__neon(m * n, x);
}
