/* SPDX-License-Identifier: MIT */
/* The floor's reset in place (reset.c): the driver's reset_loop. */
#ifndef FLOOR_RESET_H
#define FLOOR_RESET_H

#include "driver.h"

int floor_reset_loop(const struct bench_vm_args *a, unsigned long iterations);

#endif
