/* The transient arena: chunks that are kept across rg_tape_reset, so a loop
 * whose shapes do not change stops allocating after its first step. */
#ifndef RG_ARENA_H
#define RG_ARENA_H
#include <stddef.h>

typedef struct rg_arena_chunk {
  struct rg_arena_chunk *next;
  size_t size, used;
  /* data follows, 64-byte aligned */
} rg_arena_chunk;

typedef struct rg_arena {
  rg_arena_chunk *head; /* chunk being filled; older chunks follow */
  size_t initial;
  size_t high_water; /* largest total used in one tape epoch */
} rg_arena;
#endif
