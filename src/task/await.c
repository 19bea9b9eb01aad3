/* conc_await and conc_sleep: the two basic suspension points.
 *
 * Awaiting registers a done-callback and parks. The callback runs wherever the future completes:
 * on the task's loop thread it wakes the task (the step is queued, as asyncio's __wakeup); from
 * another thread it hands the wake-up to the loop with conc_call_soon_threadsafe, holding a task
 * reference until the hop has run. A wake-up only counts while the task is still parked on that
 * future (token), so a late hop after the task moved on is harmless.
 *
 * Cancelling an await cancels what is awaited: a task's future forwards the request to that task
 * and keeps waiting for it to finish (asyncio); a plain future is cancelled, and its callback
 * wakes the task. A pending cancellation that arrives after the future completed, before the task
 * ran, wins as in asyncio: the await returns -ECANCELED. */
#include <errno.h>
#include <math.h>
#include "conc/time.h"
#include "../internal/loop.h"
#include "../internal/task.h"

static conc__detach_t await_detach(conc_task_t *t, void *arg, int why);

/* Parked in conc_await on a future that is now done. */
static bool awaiting_done(conc_task_t *t) {
    return t->state == CONC__T_PARKED && t->detach == await_detach && conc_future_done(t->token);
}

static void wake_if_awaiting(conc_task_t *t) {
    if (awaiting_done(t)) conc__task_wake(t, 0);
}

static void await_hop(void *arg) {
    conc_task_t *t = arg;
    if (awaiting_done(t)) {
        /* a loop callback of our own: resume right here */
        if (t->timer) conc_handle_cancel(t->timer);
        t->timer = NULL;
        t->wake_code = 0;
        t->state = CONC__T_READY;
        conc__task_run(t);
    }
    conc__task_unref(t);
}

static void await_done(conc_future_t *f, void *arg) {
    (void)f;
    conc_task_t *t = arg;
    if (conc_loop_current() == t->loop) {
        wake_if_awaiting(t);
        conc__task_unref(t);
    } else if (!conc_call_soon_threadsafe(t->loop, await_hop, t)) {
        conc__task_unref(t); /* out of memory: nothing else can wake it */
    }
}

static conc__detach_t await_detach(conc_task_t *t, void *arg, int why) {
    (void)t;
    (void)why;
    return conc__cancel_future(arg) ? CONC__FORWARDED : CONC__MISSED;
}

int conc_await(conc_future_t *f, void **result) {
    conc_task_t *t = conc__task_running;
    if (result) *result = NULL;
    if (!t) return -EPERM;
    if (!f) return -EINVAL;
    if (f == t->fut) return -EDEADLK; /* a task awaiting itself would wait forever */
    if (!conc_future_done(f)) {
        conc__task_retain(t);
        int r = conc_future_add_done_callback(f, await_done, t);
        if (r < 0) {
            conc__task_unref(t);
            return r;
        }
        /* the callback ran at once if f completed meanwhile (then there is nothing to wait for) */
        if (!conc_future_done(f)) {
            unsigned asked = t->cancelling;
            r = conc__task_park(INFINITY, await_detach, f, f);
            /* A cancellation requested while parked always surfaces here, even if the awaited
             * task handled it and returned a value: C has no other way to see it. */
            if (r != -ECANCELED && t->cancelling == asked) r = conc_future_result(f, result);
            if (t->cancelling != asked) r = -ECANCELED;
            r = conc__task_saw(t, r, true);
            if (r == -ECANCELED && result) *result = NULL;
            return r;
        }
    }
    return conc__task_saw(t, conc_future_result(f, result), false);
}

int conc_sleep(double seconds) {
    conc_task_t *t = conc__task_running;
    if (!t) return -EPERM;
    if (isnan(seconds)) return -EINVAL;
    double deadline = seconds > 0 ? conc_monotonic() + seconds : -INFINITY;
    int r = conc__task_park(deadline, NULL, NULL, NULL);
    if (r == -ETIMEDOUT) r = 0;
    return conc__task_saw(t, r, true);
}
