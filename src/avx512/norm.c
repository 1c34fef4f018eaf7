/* AVX-512 bodies of batch normalization over [n, f]. Column statistics run
 * down the rows in order, as in src/scalar/norm.c, so the vectors run across
 * features: strips of 64 columns stay in four registers per quantity while
 * the rows stream past, masked at the right edge. */
#define RG_ISA avx512
#include "isa.h"

#if !defined(__AVX512F__) || !defined(__FMA__)
#error "src/avx512 needs -mavx512f and -mfma"
#endif

#include "simd.h"

#define STRIP_VECS 4
#define STRIP (STRIP_VECS * RG_V)

/* Masks of the STRIP_VECS vectors of the strip starting at column j; a vector
 * wholly past f gets mask 0 and is skipped, so no pointer past f is formed. */
static inline void strip_masks(int64_t f, int64_t j, __mmask16 k[STRIP_VECS]) {
  for (int v = 0; v < STRIP_VECS; v++) k[v] = rg_mask(f - j - v * RG_V);
}

/* Loads the strip of p starting at j (masked-off vectors are zero). */
static inline void strip_load(const float *p, const __mmask16 k[STRIP_VECS],
                              __m512 out[STRIP_VECS]) {
#pragma GCC unroll 4
  for (int v = 0; v < STRIP_VECS; v++) out[v] = k[v] ? rg_load(p + v * RG_V, k[v]) : rg_zero();
}

static inline void strip_store(float *p, const __mmask16 k[STRIP_VECS],
                               const __m512 in[STRIP_VECS]) {
#pragma GCC unroll 4
  for (int v = 0; v < STRIP_VECS; v++)
    if (k[v]) rg_store(p + v * RG_V, k[v], in[v]);
}

/* The loop over the vectors of a strip, for bodies that use v and k[v]. */
#define EACH_VEC(v, k) \
  _Pragma("GCC unroll 4") for (int v = 0; v < STRIP_VECS; v++) if (k[v])

void rg_bn_stats__avx512(int64_t n, int64_t f, const float *x, float *mean, float *var) {
  __m512 count = rg_splat((float)n);
  for (int64_t j = 0; j < f; j += STRIP) {
    __mmask16 k[STRIP_VECS];
    __m512 mu[STRIP_VECS], s[STRIP_VECS];
    strip_masks(f, j, k);
    for (int v = 0; v < STRIP_VECS; v++) mu[v] = rg_zero(), s[v] = rg_zero();
    for (int64_t i = 0; i < n; i++) {
      const float *row = x + i * f + j;
      EACH_VEC(v, k) mu[v] = _mm512_add_ps(mu[v], rg_load(row + v * RG_V, k[v]));
    }
    EACH_VEC(v, k) mu[v] = _mm512_div_ps(mu[v], count);
    for (int64_t i = 0; i < n; i++) {
      const float *row = x + i * f + j;
      EACH_VEC(v, k) {
        __m512 d = _mm512_sub_ps(rg_load(row + v * RG_V, k[v]), mu[v]);
        s[v] = _mm512_fmadd_ps(d, d, s[v]);
      }
    }
    EACH_VEC(v, k) s[v] = _mm512_div_ps(s[v], count);
    strip_store(mean + j, k, mu);
    strip_store(var + j, k, s);
  }
}

/* y = fmaf((x - mean) * invstd, gamma, beta) */
void rg_bn_apply__avx512(int64_t n, int64_t f, const float *x, const float *mean,
                         const float *invstd, const float *gamma, const float *beta, float *y) {
  for (int64_t j = 0; j < f; j += STRIP) {
    __mmask16 k[STRIP_VECS];
    __m512 mu[STRIP_VECS], is[STRIP_VECS], ga[STRIP_VECS], be[STRIP_VECS];
    strip_masks(f, j, k);
    strip_load(mean + j, k, mu);
    strip_load(invstd + j, k, is);
    strip_load(gamma + j, k, ga);
    strip_load(beta + j, k, be);
    for (int64_t i = 0; i < n; i++) {
      const float *xr = x + i * f + j;
      float *yr = y + i * f + j;
      EACH_VEC(v, k) {
        __m512 xh = _mm512_mul_ps(_mm512_sub_ps(rg_load(xr + v * RG_V, k[v]), mu[v]), is[v]);
        rg_store(yr + v * RG_V, k[v], _mm512_fmadd_ps(xh, ga[v], be[v]));
      }
    }
  }
}

/* Per column, as src/scalar/norm.c: sums of dy and dy * xh down the rows,
 * then dx += (gamma invstd / n) * fmaf(-xh, sum(dy xh), n dy - sum dy). */
void rg_bn_bwd__avx512(int64_t n, int64_t f, const float *x, const float *mean,
                       const float *invstd, const float *gamma, const float *dy, float *dx,
                       float *dgamma, float *dbeta) {
  __m512 count = rg_splat((float)n);
  for (int64_t j = 0; j < f; j += STRIP) {
    __mmask16 k[STRIP_VECS];
    __m512 mu[STRIP_VECS], is[STRIP_VECS], ga[STRIP_VECS], sdy[STRIP_VECS], sdyxh[STRIP_VECS];
    strip_masks(f, j, k);
    strip_load(mean + j, k, mu);
    strip_load(invstd + j, k, is);
    strip_load(gamma + j, k, ga);
    for (int v = 0; v < STRIP_VECS; v++) sdy[v] = rg_zero(), sdyxh[v] = rg_zero();
    for (int64_t i = 0; i < n; i++) {
      const float *xr = x + i * f + j, *gr = dy + i * f + j;
      EACH_VEC(v, k) {
        __m512 xh = _mm512_mul_ps(_mm512_sub_ps(rg_load(xr + v * RG_V, k[v]), mu[v]), is[v]);
        __m512 g = rg_load(gr + v * RG_V, k[v]);
        sdy[v] = _mm512_add_ps(sdy[v], g);
        sdyxh[v] = _mm512_fmadd_ps(g, xh, sdyxh[v]);
      }
    }
    __m512 kk[STRIP_VECS];
    EACH_VEC(v, k) kk[v] = _mm512_div_ps(_mm512_mul_ps(ga[v], is[v]), count);
    for (int64_t i = 0; i < n; i++) {
      const float *xr = x + i * f + j, *gr = dy + i * f + j;
      float *dr = dx + i * f + j;
      EACH_VEC(v, k) {
        __m512 xh = _mm512_mul_ps(_mm512_sub_ps(rg_load(xr + v * RG_V, k[v]), mu[v]), is[v]);
        __m512 c = _mm512_sub_ps(_mm512_mul_ps(count, rg_load(gr + v * RG_V, k[v])), sdy[v]);
        __m512 t = _mm512_fnmadd_ps(xh, sdyxh[v], c);
        rg_store(dr + v * RG_V, k[v], _mm512_fmadd_ps(kk[v], t, rg_load(dr + v * RG_V, k[v])));
      }
    }
    __m512 dg[STRIP_VECS], db[STRIP_VECS];
    strip_load(dgamma + j, k, dg);
    strip_load(dbeta + j, k, db);
    EACH_VEC(v, k) {
      dg[v] = _mm512_add_ps(dg[v], sdyxh[v]);
      db[v] = _mm512_add_ps(db[v], sdy[v]);
    }
    strip_store(dgamma + j, k, dg);
    strip_store(dbeta + j, k, db);
  }
}
