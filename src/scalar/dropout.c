/* Scalar reference bodies of the random slots: dropout masks generated and
 * applied in one pass, and uniform / normal fills. Element i of a call uses
 * Philox block (key->offset + i) / 4, word (key->offset + i) % 4. */
#define RG_ISA scalar
#include "core/philox.h"
#include "isa.h"
#include "math.h"

/* Caches the current 4-word block while walking consecutive elements. */
struct rg_block_cursor {
  const struct rg_rng_key *key;
  uint64_t block;
  uint32_t w[4];
};

static uint32_t cursor_word(struct rg_block_cursor *c, uint64_t index) {
  uint64_t block = index >> 2;
  if (block != c->block) {
    c->block = block;
    rg_philox_block(c->key->seed, c->key->stream, block, c->w);
  }
  return c->w[index & 3];
}

static struct rg_block_cursor cursor_new(const struct rg_rng_key *key) {
  struct rg_block_cursor c = {.key = key, .block = UINT64_MAX};
  return c;
}

/* Keep element when its top 24 bits are >= threshold; kept values scale. */
void rg_dropout_fwd__scalar(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                            float scale, const float *x, float *y) {
  struct rg_block_cursor c = cursor_new(key);
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = cursor_word(&c, (uint64_t)key->offset + (uint64_t)i) >> 8;
    y[i] = (u >= threshold) ? x[i] * scale : 0.0f;
  }
}

void rg_dropout_bwd__scalar(int64_t n, const struct rg_rng_key *key, uint32_t threshold,
                            float scale, const float *dy, float *dx) {
  struct rg_block_cursor c = cursor_new(key);
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = cursor_word(&c, (uint64_t)key->offset + (uint64_t)i) >> 8;
    dx[i] = dx[i] + ((u >= threshold) ? dy[i] * scale : 0.0f);
  }
}

void rg_rand_uniform__scalar(int64_t n, const struct rg_rng_key *key, float lo, float hi,
                             float *y) {
  struct rg_block_cursor c = cursor_new(key);
  for (int64_t i = 0; i < n; i++) {
    float u = (float)(cursor_word(&c, (uint64_t)key->offset + (uint64_t)i) >> 8) * RG_U24_SCALE;
    y[i] = fmaf(hi - lo, u, lo);
  }
}

/* Box-Muller on word pairs (0,1) and (2,3) of each block: u1 in (0, 1],
 * u2 in [0, 1); even words take r cos(2 pi u2), odd words r sin(2 pi u2). */
void rg_rand_normal__scalar(int64_t n, const struct rg_rng_key *key, float mean, float std,
                            float *y) {
  struct rg_block_cursor c = cursor_new(key);
  for (int64_t i = 0; i < n; i++) {
    uint64_t idx = (uint64_t)key->offset + (uint64_t)i;
    uint64_t pair = idx & ~(uint64_t)1;
    float u1 = (float)((cursor_word(&c, pair) >> 8) + 1) * RG_U24_SCALE;
    float u2 = (float)(cursor_word(&c, pair + 1) >> 8) * RG_U24_SCALE;
    float r = sqrtf(-2.0f * rg_logf(u1));
    Sleef_float_2 sc = Sleef_sincospif1_u05purecfma(u2 + u2);
    float z = r * ((idx & 1) ? sc.x : sc.y);
    y[i] = fmaf(std, z, mean);
  }
}
