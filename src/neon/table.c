#define RG_ISA neon
#include "isa.h"
#include "table.inc"
