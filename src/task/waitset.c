/* Waiting for many futures: gather and wait_futures share this.
 *
 * Each future gets a done-callback carrying the shared record; it counts the completion (atomics:
 * futures complete in any thread) and, if the waiter's condition may now hold, pokes the waiter -
 * directly on the loop thread, through conc_call_soon_threadsafe from elsewhere. The waiter
 * re-checks the condition itself after every wake-up, so a spurious poke costs one step, and a
 * poke that arrives after the waiter moved on (it is no longer parked on this record) is dropped.
 * The record is reference counted: callbacks that never ran are removed when the wait ends, and a
 * late hop keeps it (and its task) alive until it has run. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "waitset.h"

struct ws_rec {
    struct waitset ws;
    conc__detach_fn detach;
};

static void ws_unref(struct ws_rec *w) {
    if (conc__sub(&w->ws.refs, 1) != 0) return;
    conc__task_unref(w->ws.task);
    free(w);
}

bool conc__waitset_met(struct waitset *ws) {
    uint32_t rem = __atomic_load_n(&ws->remaining, __ATOMIC_ACQUIRE);
    if (rem == 0) return true;
    switch (__atomic_load_n(&ws->mode, __ATOMIC_ACQUIRE)) {
    case WS_FIRST: return __atomic_load_n(&ws->ndone, __ATOMIC_ACQUIRE) > 0;
    case WS_FIRST_ERROR: return __atomic_load_n(&ws->first_err, __ATOMIC_ACQUIRE) != 0;
    default: return false;
    }
}

static bool parked_here(struct ws_rec *w) {
    conc_task_t *t = w->ws.task;
    return t->state == CONC__T_PARKED && t->token == w;
}

static void ws_hop(void *arg) {
    struct ws_rec *w = arg;
    conc_task_t *t = w->ws.task;
    if (parked_here(w)) {
        if (t->timer) conc_handle_cancel(t->timer);
        t->timer = NULL;
        t->wake_code = 0;
        t->state = CONC__T_READY;
        conc__task_run(t);
    }
    ws_unref(w);
}

static void ws_done(conc_future_t *f, void *arg) {
    struct ws_rec *w = arg;
    int r = conc_future_result(f, NULL);
    if (r != 0) {
        int zero = 0;
        __atomic_compare_exchange_n(&w->ws.first_err, &zero, r, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(&w->ws.ndone, 1, __ATOMIC_ACQ_REL);
    __atomic_sub_fetch(&w->ws.remaining, 1, __ATOMIC_ACQ_REL);
    if (conc__waitset_met(&w->ws)) {
        conc_task_t *t = w->ws.task;
        if (conc_loop_current() == t->loop) {
            if (parked_here(w)) conc__task_wake(t, 0);
        } else {
            conc__add(&w->ws.refs, 1);
            if (!conc_call_soon_threadsafe(t->loop, ws_hop, w)) ws_unref(w);
        }
    }
    ws_unref(w);
}

static conc__detach_t ws_detach(conc_task_t *t, void *arg, int why) {
    struct ws_rec *w = arg;
    if (why == -ETIMEDOUT || !w->detach) return CONC__DETACHED;
    return w->detach(t, &w->ws, why);
}

int conc__waitset_wait(conc_future_t **fs, size_t n, int mode, double deadline,
                       conc__detach_fn detach, struct waitset *out) {
    conc_task_t *t = conc__task_running;
    struct ws_rec *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    conc__task_retain(t);
    w->ws.task = t;
    w->ws.refs = 1;
    w->ws.remaining = (uint32_t)n;
    w->ws.mode = mode;
    w->ws.fs = fs;
    w->ws.n = n;
    w->detach = detach;
    size_t reg = 0;
    int r = 0;
    for (; reg < n; reg++) {
        conc__add(&w->ws.refs, 1);
        if (conc_future_add_done_callback(fs[reg], ws_done, w) < 0) {
            conc__sub(&w->ws.refs, 1);
            r = -ENOMEM;
            break;
        }
    }
    while (r == 0 && !conc__waitset_met(&w->ws)) {
        r = conc__task_park(deadline, ws_detach, w, w);
        if (r == -ECANCELED && !w->ws.cancel_requested) break;
        if (r == -ECANCELED) r = 0; /* forwarded: keep waiting under the new condition */
    }
    for (size_t i = 0; i < reg; i++) {
        if (conc_future_done(fs[i])) continue; /* its callback has run, or is running */
        int k = conc_future_remove_done_callback(fs[i], ws_done, w);
        while (k-- > 0) ws_unref(w);
    }
    /* a snapshot, field by field: callbacks in other threads may still be counting (atomics) */
    out->refs = 0;
    out->task = t;
    out->remaining = __atomic_load_n(&w->ws.remaining, __ATOMIC_ACQUIRE);
    out->ndone = __atomic_load_n(&w->ws.ndone, __ATOMIC_ACQUIRE);
    out->first_err = __atomic_load_n(&w->ws.first_err, __ATOMIC_ACQUIRE);
    out->mode = __atomic_load_n(&w->ws.mode, __ATOMIC_ACQUIRE);
    out->cancel_requested = w->ws.cancel_requested;
    out->fs = fs;
    out->n = n;
    ws_unref(w);
    return r;
}
