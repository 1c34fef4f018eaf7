/* NEON bodies of the random slots (src/scalar/dropout.c is the reference).
 * Philox4x32-10 runs on four consecutive blocks at once, one block per
 * lane, with vmull_u32 for the 32x32->64 products; vst4q_u32 then lays the
 * 16 words out in stream order (block-major). Element i of a call uses word
 * key->offset + i of the stream, so a group of 16 words covers elements
 * e0..e0+15 with e0 = 4 * block - offset; the first and last groups go
 * through a zero-padded stack copy. */
#define RG_ISA neon
#include "core/philox.h"
#include "isa.h"
#include "vec.h"

/* Block counters wrap like the reference's (uint64_t)(offset + i) >> 2. */
#define BLOCK_MASK (UINT64_MAX >> 2)

/* The 16 words of blocks b..b+3 of stream (key->seed, key->stream). */
static void philox16(const struct rg_rng_key *key, uint64_t b, uint32_t out[16]) {
  uint32_t lo[4], hi[4];
  for (int j = 0; j < 4; j++) {
    uint64_t blk = (b + (uint64_t)j) & BLOCK_MASK;
    lo[j] = (uint32_t)blk;
    hi[j] = (uint32_t)(blk >> 32);
  }
  uint32x4_t c0 = vld1q_u32(lo), c1 = vld1q_u32(hi);
  uint32x4_t c2 = vdupq_n_u32((uint32_t)key->stream);
  uint32x4_t c3 = vdupq_n_u32((uint32_t)(key->stream >> 32));
  uint32_t k0 = (uint32_t)key->seed, k1 = (uint32_t)(key->seed >> 32);
  const uint32x4_t m0 = vdupq_n_u32(RG_PHILOX_M0), m1 = vdupq_n_u32(RG_PHILOX_M1);
  for (int round = 0; round < 10; round++) {
    uint32x4_t p0a = vreinterpretq_u32_u64(vmull_u32(vget_low_u32(c0), vget_low_u32(m0)));
    uint32x4_t p0b = vreinterpretq_u32_u64(vmull_high_u32(c0, m0));
    uint32x4_t p1a = vreinterpretq_u32_u64(vmull_u32(vget_low_u32(c2), vget_low_u32(m1)));
    uint32x4_t p1b = vreinterpretq_u32_u64(vmull_high_u32(c2, m1));
    /* Low and high halves of the four 64-bit products, in lane order. */
    uint32x4_t p0lo = vuzp1q_u32(p0a, p0b), p0hi = vuzp2q_u32(p0a, p0b);
    uint32x4_t p1lo = vuzp1q_u32(p1a, p1b), p1hi = vuzp2q_u32(p1a, p1b);
    uint32x4_t n0 = veorq_u32(veorq_u32(p1hi, c1), vdupq_n_u32(k0));
    uint32x4_t n2 = veorq_u32(veorq_u32(p0hi, c3), vdupq_n_u32(k1));
    c1 = p1lo;
    c3 = p0lo;
    c0 = n0;
    c2 = n2;
    k0 += RG_PHILOX_W0;
    k1 += RG_PHILOX_W1;
  }
  uint32x4x4_t words = {{c0, c1, c2, c3}};
  vst4q_u32(out, words);
}

enum rand_kind { DROP_FWD, DROP_BWD, UNIFORM, NORMAL };

/* threshold and a, b: dropout (threshold, scale), uniform (lo, hi - lo),
 * normal (mean, std). */
struct rand_args {
  uint32_t threshold;
  float a, b;
};

/* (bits >> 8) * 2^-24 */
RG_INLINE float32x4_t u24(uint32x4_t bits) {
  return vmulq_f32(vcvtq_f32_u32(bits), rg_dup(RG_U24_SCALE));
}

/* One block's 4 words w applied to 4 elements (in, out). */
RG_INLINE float32x4_t rand_block(enum rand_kind kind, uint32x4_t w, struct rand_args a,
                                 float32x4_t in, float32x4_t out) {
  switch (kind) {
    case DROP_FWD:
    case DROP_BWD: {
      uint32x4_t keep = vcgeq_u32(vshrq_n_u32(w, 8), vdupq_n_u32(a.threshold));
      float32x4_t v = rg_sel(keep, vmulq_f32(in, rg_dup(a.a)), rg_zero());
      return kind == DROP_FWD ? v : vaddq_f32(out, v);
    }
    case UNIFORM: return vfmaq_f32(rg_dup(a.a), rg_dup(a.b), u24(vshrq_n_u32(w, 8)));
    case NORMAL: {
      /* Box-Muller on word pairs (0,1), (2,3): u1 from the even word, u2
       * from the odd one; even elements take cos, odd ones sin. */
      uint32x4_t even = vtrn1q_u32(w, w), odd = vtrn2q_u32(w, w);
      float32x4_t u1 = u24(vaddq_u32(vshrq_n_u32(even, 8), vdupq_n_u32(1)));
      float32x4_t u2 = u24(vshrq_n_u32(odd, 8));
      float32x4_t r = vsqrtq_f32(vmulq_f32(rg_dup(-2.0f), rg_log4(u1)));
      Sleef_float32x4_t_2 sc = Sleef_sincospif4_u05advsimd(vaddq_f32(u2, u2));
      static const uint32_t odd_lane[4] = {0, 0xffffffffu, 0, 0xffffffffu};
      float32x4_t z = vmulq_f32(r, rg_sel(vld1q_u32(odd_lane), sc.x, sc.y));
      return vfmaq_f32(rg_dup(a.a), rg_dup(a.b), z);
    }
  }
  return out;
}

/* 16 elements with the 16 words w. in is NULL for the fills. */
RG_INLINE void rand_group(enum rand_kind kind, const uint32_t *w, struct rand_args a,
                          const float *in, float *out) {
#pragma GCC unroll 4
  for (int q = 0; q < 4; q++) {
    float32x4_t x = in ? vld1q_f32(in + 4 * q) : rg_zero();
    float32x4_t y = kind == DROP_BWD ? vld1q_f32(out + 4 * q) : rg_zero();
    vst1q_f32(out + 4 * q, rand_block(kind, vld1q_u32(w + 4 * q), a, x, y));
  }
}

RG_INLINE void rand_run(enum rand_kind kind, int64_t n, const struct rg_rng_key *key,
                        struct rand_args a, const float *in, float *out) {
  const uint64_t first = (uint64_t)key->offset;
  uint64_t b = first >> 2;
  uint32_t w[16];
  for (int64_t e = -(int64_t)(first & 3); e < n; e += 16, b += 4) {
    philox16(key, b, w);
    if (e >= 0 && n - e >= 16) {
      rand_group(kind, w, a, in ? in + e : NULL, out + e);
      continue;
    }
    int64_t lo = e < 0 ? -e : 0, hi = n - e < 16 ? n - e : 16;
    size_t bytes = (size_t)(hi - lo) * sizeof(float);
    float ti[16] = {0}, to[16] = {0};
    if (in) memcpy(ti + lo, in + e + lo, bytes);
    memcpy(to + lo, out + e + lo, bytes);
    rand_group(kind, w, a, in ? ti : NULL, to);
    memcpy(out + e + lo, to + lo, bytes);
  }
}

void rg_dropout_fwd__neon(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                          float scale, const float *x, float *y) {
  rand_run(DROP_FWD, n, key, (struct rand_args){threshold, scale, 0.0f}, x, y);
}

void rg_dropout_bwd__neon(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                          float scale, const float *dy, float *dx) {
  rand_run(DROP_BWD, n, key, (struct rand_args){threshold, scale, 0.0f}, dy, dx);
}

void rg_rand_uniform__neon(int64_t n, const struct rg_rng_key *key, float lo, float hi,
                           float *y) {
  rand_run(UNIFORM, n, key, (struct rand_args){0, lo, hi - lo}, NULL, y);
}

void rg_rand_normal__neon(int64_t n, const struct rg_rng_key *key, float mean, float std,
                          float *y) {
  rand_run(NORMAL, n, key, (struct rand_args){0, mean, std}, NULL, y);
}
