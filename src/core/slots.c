/* Slot names in kernels.def order. */
#include "kernels.h"

const char *const rg_slot_names[RG_SLOT_COUNT] = {
#define RG_KERNEL(name, ret, params) #name,
#include "kernels.def"
#undef RG_KERNEL
};
