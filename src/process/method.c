/* The process-wide default start method (multiprocessing.set_start_method).
 *
 * The default is forkserver, as in Python 3.14 on Linux: fork copies a process whose other threads
 * may hold locks (malloc's, stdio's, any library's) that stay locked forever in the child, and
 * spawn re-executes the program for every child. A forkserver forks from a process that never ran
 * a thread, at the cost of one round trip per start. Unlike Python, setting it twice is allowed:
 * a C program has no import-time races that the once-only rule protects against. */
#include <errno.h>
#include "proc.h"

static int method = CONC_START_FORKSERVER;

int conc_set_start_method(conc_start_method_t m) {
    if (m == CONC_START_DEFAULT) m = CONC_START_FORKSERVER;
    if (m != CONC_START_FORK && m != CONC_START_SPAWN && m != CONC_START_FORKSERVER) return -EINVAL;
    __atomic_store_n(&method, (int)m, __ATOMIC_RELAXED);
    return 0;
}

conc_start_method_t conc_get_start_method(void) {
    return (conc_start_method_t)__atomic_load_n(&method, __ATOMIC_RELAXED);
}
