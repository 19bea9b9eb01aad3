/* The fd counterpart of conc__wait: sleep in ppoll until an fd is ready, a deadline passes, or -
 * in the main thread after conc_init - a SIGINT arrives (-EINTR, the interrupt consumed).
 *
 * Why a signal mask: the SIGINT handler only counts the signal (signal/interrupt.c). Checking the
 * count and then calling poll() leaves a window where the signal lands after the check and poll
 * sleeps anyway. So SIGINT is blocked while the count is checked and ppoll unblocks it atomically
 * for the sleep: a signal that came in the window is delivered the moment ppoll starts and makes it
 * return EINTR. poll and ppoll are never restarted after a handler, whatever SA_RESTART says. The
 * two extra sigprocmask calls are paid only by the main thread of a program that called conc_init,
 * and only when it is about to sleep anyway.
 *
 * Under ThreadSanitizer the handler may run late (see internal/base.h), but never too late here:
 * the signal reaches the process only inside ppoll, ppoll then returns EINTR, and the loop flushes
 * the deferred handler before it looks at the count. So no slicing is needed, unlike futex waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include "conc/time.h"
#include "../internal/base.h"

bool conc__intr_here(void) {
    return __atomic_load_n(&conc__intr_enabled, __ATOMIC_RELAXED) && conc__is_main_thread();
}

int conc__wait_fds(struct pollfd *fds, size_t n, double deadline, bool intr) {
    bool masked = intr && conc__intr_here();
    sigset_t sigint, old;
    if (masked) {
        sigemptyset(&sigint);
        sigaddset(&sigint, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigint, &old);
    }
    int r;
    for (;;) {
        conc__signals_flush(); /* TSan: a deferred SIGINT handler runs now (see base.h) */
        if (masked && conc__intr_take()) {
            r = -EINTR;
            break;
        }
        struct timespec ts, *tsp = NULL;
        if (!isinf(deadline)) {
            double left = deadline - conc_monotonic();
            if (left < 0) left = 0;
            ts.tv_sec = (time_t)left;
            ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
            if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;
            tsp = &ts;
        }
        int k = ppoll(fds, (nfds_t)n, tsp, masked ? &old : NULL);
        if (k > 0) {
            r = k;
            break;
        }
        if (k == 0) {
            r = -ETIMEDOUT;
            break;
        }
        if (errno != EINTR) {
            r = -errno;
            break;
        }
        /* a handler ran: SIGINT is seen at the top of the loop, anything else just retries */
    }
    if (masked) pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}
