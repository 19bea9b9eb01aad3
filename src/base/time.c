/* The monotonic clock and Python-style timeouts turned into absolute deadlines. */
#include <math.h>
#include <time.h>
#include "conc/time.h"

double conc_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double conc_deadline(double timeout) {
    if (timeout < 0 || isnan(timeout)) return INFINITY;
    return conc_monotonic() + timeout;
}

double conc_deadline_remaining(double deadline) {
    if (isinf(deadline)) return CONC_FOREVER;
    double left = deadline - conc_monotonic();
    return left > 0 ? left : 0;
}

bool conc_deadline_expired(double deadline) {
    return !isinf(deadline) && conc_monotonic() >= deadline;
}
