#define RG_ISA avx2
#include "isa.h"
#include "table.inc"
