/* Packing for the GEMM bodies written in plain C (src/scalar/gemm.c) or
 * with few intrinsics (src/neon/gemm.c); included after isa.h. A micro-panel
 * of op(A) holds kc steps of `rows` rows, step-major; a strip of op(B) holds
 * kc steps of `cols` columns; both padded with +0.0 past the matrix's edge,
 * so every tile runs full-size. Packing copies values and never rounds. */
#ifndef RG_GEMM_REF_PACK_H
#define RG_GEMM_REF_PACK_H

/* ap[p * rows + r] = op(A)(i0 + r, p0 + p) for r < mr, +0.0 for mr <= r < rows. */
static inline void rg_ref_pack_a(int64_t mr, int64_t rows, int64_t kc, int ta, const float *a,
                                 int64_t lda, int64_t i0, int64_t p0, float *ap) {
  for (int64_t p = 0; p < kc; p++)
    for (int64_t r = 0; r < rows; r++)
      ap[p * rows + r] = r >= mr ? 0.0f
                         : ta    ? a[(p0 + p) * lda + i0 + r]
                                 : a[(i0 + r) * lda + p0 + p];
}

/* Step p of a strip: row[j] = op(B)(p0 + p, j0 + j) for j < nr, +0.0 for
 * nr <= j < cols. */
static inline void rg_ref_pack_b_row(int64_t nr, int64_t cols, int tb, const float *b,
                                     int64_t ldb, int64_t j0, int64_t p0, int64_t p,
                                     float *row) {
  for (int64_t j = 0; j < cols; j++)
    row[j] = j >= nr ? 0.0f : tb ? b[(j0 + j) * ldb + p0 + p] : b[(p0 + p) * ldb + j0 + j];
}

#endif
