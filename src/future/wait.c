/* conc_future_wait: a plain thread sleeps on the future's state word.
 *
 * The waiter sets CONC__F_WAITERS before sleeping, so completing a future nobody waits for costs no
 * futex syscall. If the outcome lands between the flag and the sleep, the word no longer holds the
 * value the waiter sleeps on and the kernel returns at once. Going through conc__wait makes the
 * main thread return -EINTR on SIGINT after conc_init, as every blocking call in conc does. */
#include <errno.h>
#include "conc/time.h"
#include "../internal/future.h"

int conc_future_wait(conc_future_t *f, double timeout) {
    if (!f) return -EINVAL;
    if (conc__fkind(f) != CONC__F_PENDING) return 0; /* no clock read for a future that is done */
    double deadline = conc_deadline(timeout);
    /* a backend that fetches results faster itself (conc-mpi) gets the waiting thread first; a
     * SIGINT it consumed meanwhile is this wait's -EINTR */
    if (f->waiter) {
        int r = conc__future_help(f, deadline, false);
        if (r == 0 || r == -EINTR) return r;
    }
    for (;;) {
        uint32_t s = conc__load(&f->state);
        if ((s & CONC__F_KIND) != CONC__F_PENDING) return 0;
        if (!(s & CONC__F_WAITERS)) {
            if (!conc__cas(&f->state, &s, s | CONC__F_WAITERS)) continue;
            s |= CONC__F_WAITERS;
        }
        int r = conc__wait(&f->state, s, deadline, false);
        if (r == -EINTR) return -EINTR;
        if (r == -ETIMEDOUT) return conc_future_done(f) ? 0 : -ETIMEDOUT;
    }
}
