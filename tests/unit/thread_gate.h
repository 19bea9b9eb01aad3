/* A one-shot gate for the thread tests and their helper programs: a futex word one side opens and
 * the other sleeps on, so tests synchronise on events instead of sleeping. */
#ifndef CONC_TEST_THREAD_GATE_H
#define CONC_TEST_THREAD_GATE_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include "conc/time.h"
#include "internal/base.h"

static inline void gate_open(uint32_t *g) {
    __atomic_store_n(g, 1, __ATOMIC_RELEASE);
    conc__futex_wake(g, 1 << 30, false);
}

/* 0 once open, -ETIMEDOUT after timeout seconds (negative: forever). */
static inline int gate_wait(uint32_t *g, double timeout) {
    double deadline = timeout < 0 ? INFINITY : conc_monotonic() + timeout;
    while (!__atomic_load_n(g, __ATOMIC_ACQUIRE))
        if (conc__wait_nointr(g, 0, deadline, false) == -ETIMEDOUT)
            return __atomic_load_n(g, __ATOMIC_ACQUIRE) ? 0 : -ETIMEDOUT;
    return 0;
}

static inline bool gate_is_open(uint32_t *g) {
    return __atomic_load_n(g, __ATOMIC_ACQUIRE) != 0;
}

#endif
