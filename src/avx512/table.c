#define RG_ISA avx512
#include "isa.h"
#include "table.inc"
