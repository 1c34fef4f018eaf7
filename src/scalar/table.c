#define RG_ISA scalar
#include "isa.h"
#include "table.inc"
