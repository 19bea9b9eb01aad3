/* threading.Timer: a thread that sleeps for the delay, then runs fn(arg) unless cancelled.
 *
 * The thread sleeps on one futex word with the deadline as timeout; cancel changes the word and
 * wakes it, so a cancelled timer's thread ends at once instead of sleeping out its delay (it is
 * non-daemon by inheritance, like Python's, and would hold up exit otherwise). Fire and cancel
 * race for the same word with a compare-and-swap, so exactly one wins: unlike Python, whose cancel
 * can land between the timer's check and its call, a cancel that returns 0 means fn never runs, and
 * -EALREADY says it had already started. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "../internal/thread.h"

enum { WAITING, CANCELLED, FIRED };

struct conc_timer {
    uint32_t state; /* futex word */
    uint32_t refs;  /* the handle and the timer's thread */
    double deadline;
    void (*fn)(void *);
    void *arg;
    conc_thread_t *thread;
};

static void timer_unref(conc_timer_t *tm) {
    if (conc__sub(&tm->refs, 1) == 0) {
        conc_thread_release(tm->thread);
        free(tm);
    }
}

static void *timer_main(void *p) {
    conc_timer_t *tm = p;
    while (conc__load(&tm->state) == WAITING) {
        if (conc__wait_nointr(&tm->state, WAITING, tm->deadline, false) == -ETIMEDOUT) {
            uint32_t expect = WAITING;
            if (conc__cas(&tm->state, &expect, FIRED)) tm->fn(tm->arg);
            break;
        }
    }
    timer_unref(tm);
    return NULL;
}

int conc_timer_start(conc_timer_t **out, double delay, void (*fn)(void *), void *arg) {
    if (!out || !fn || isnan(delay)) return -EINVAL;
    conc_timer_t *tm = calloc(1, sizeof *tm);
    if (!tm) return -ENOMEM;
    /* Measured from now. A delay <= 0 fires at once, as Python's Timer does. */
    tm->deadline = delay > 0 ? conc_deadline(delay) : conc_monotonic();
    tm->fn = fn;
    tm->arg = arg;
    tm->refs = 2;
    int r = conc_thread_start(&tm->thread, timer_main, tm, NULL);
    if (r < 0) {
        free(tm);
        return r;
    }
    *out = tm;
    return 0;
}

int conc_timer_cancel(conc_timer_t *tm) {
    if (!tm) return -EINVAL;
    uint32_t expect = WAITING;
    if (conc__cas(&tm->state, &expect, CANCELLED)) {
        conc__futex_wake(&tm->state, 1, false);
        return 0;
    }
    return expect == FIRED ? -EALREADY : 0; /* cancelling twice is harmless, as in Python */
}

int conc_timer_join(conc_timer_t *tm, double timeout) {
    if (!tm) return -EINVAL;
    return conc_thread_join(tm->thread, timeout, NULL);
}

void conc_timer_release(conc_timer_t *tm) {
    if (tm) timer_unref(tm);
}
