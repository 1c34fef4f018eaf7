/* Little-endian encoding of integers and floating-point bit patterns, byte by
 * byte, so that checkpoint records are the same bytes on every host. */
#ifndef RG_CORE_BYTES_H
#define RG_CORE_BYTES_H
#include <stdint.h>
#include <string.h>

static inline void rg_put_u32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static inline void rg_put_u64(uint8_t *b, uint64_t v) {
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t rg_get_u32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t rg_get_u64(const uint8_t *b) {
  return (uint64_t)rg_get_u32(b) | (uint64_t)rg_get_u32(b + 4) << 32;
}

static inline void rg_put_f32(uint8_t *b, float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  rg_put_u32(b, u);
}

static inline float rg_get_f32(const uint8_t *b) {
  uint32_t u = rg_get_u32(b);
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static inline void rg_put_f64(uint8_t *b, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  rg_put_u64(b, u);
}

static inline double rg_get_f64(const uint8_t *b) {
  uint64_t u = rg_get_u64(b);
  double v;
  memcpy(&v, &u, sizeof v);
  return v;
}
#endif
