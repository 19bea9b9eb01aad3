/* conc_gather (asyncio.gather) and conc_wait_futures (asyncio.wait), on the waitset.
 *
 * gather without return_errors wakes at the first error and returns it; the others keep running,
 * as asyncio's. Cancelling the waiting task asks every unfinished future to cancel (a task's:
 * its task), then waits for all of them before returning -ECANCELED, as cancelling asyncio's
 * _GatheringFuture does. wait never cancels anything: a cancellation just ends the wait. */
#include <errno.h>
#include <math.h>
#include "conc/time.h"
#include "waitset.h"

static conc__detach_t gather_detach(conc_task_t *t, void *arg, int why) {
    (void)t;
    (void)why;
    struct waitset *ws = arg;
    ws->cancel_requested = true;
    __atomic_store_n(&ws->mode, WS_ALL, __ATOMIC_RELEASE);
    for (size_t i = 0; i < ws->n; i++)
        if (!conc_future_done(ws->fs[i])) conc__cancel_future(ws->fs[i]);
    return CONC__FORWARDED;
}

int conc_gather(conc_future_t **fs, size_t n, bool return_errors) {
    conc_task_t *t = conc__task_running;
    if (!t) return -EPERM;
    if (n && !fs) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!fs[i]) return -EINVAL;
    if (n == 0) return 0;
    struct waitset ws;
    int r = conc__waitset_wait(fs, n, return_errors ? WS_ALL : WS_FIRST_ERROR, INFINITY,
                               gather_detach, &ws);
    if (r == 0) r = ws.cancel_requested ? -ECANCELED : return_errors ? 0 : ws.first_err;
    return conc__task_saw(t, r, true);
}

static conc__detach_t wait_detach(conc_task_t *t, void *arg, int why) {
    (void)t;
    (void)arg;
    (void)why;
    return CONC__DETACHED;
}

int conc_wait_futures(conc_future_t **fs, size_t n, double timeout, int return_when) {
    conc_task_t *t = conc__task_running;
    if (!t) return -EPERM;
    if ((n && !fs) || return_when < CONC_FIRST_COMPLETED || return_when > CONC_ALL_COMPLETED ||
        isnan(timeout))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!fs[i]) return -EINVAL;
    int mode = return_when == CONC_FIRST_COMPLETED   ? WS_FIRST
               : return_when == CONC_FIRST_EXCEPTION ? WS_FIRST_ERROR
                                                     : WS_ALL;
    int r = 0;
    if (n > 0) {
        double deadline = timeout < 0 ? INFINITY : conc_monotonic() + timeout;
        struct waitset ws;
        if (timeout == 0) deadline = -INFINITY; /* a poll still runs through the callbacks */
        r = conc__waitset_wait(fs, n, mode, deadline, wait_detach, &ws);
        r = conc__task_saw(t, r, true);
        if (r < 0 && r != -ETIMEDOUT) return r;
        if (r == -ETIMEDOUT && !conc__waitset_met(&ws)) return -ETIMEDOUT;
    }
    int done = 0;
    for (size_t i = 0; i < n; i++) done += conc_future_done(fs[i]);
    return done;
}
