/* Between conc_wait and its process branch (wait/process.c). */
#ifndef CONC_WAIT_WAIT_H
#define CONC_WAIT_WAIT_H

#include "conc/process.h"
#include "../internal/base.h"

/* The fd that becomes readable when the process has ended, or a negative code. */
CONC_HIDDEN int conc__wait_process_fd(conc_process_t *p);

#endif
