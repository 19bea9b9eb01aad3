/* Completing a future: set_result, set_error, cancel - exactly once - and running its callbacks.
 *
 * The outcome and the callback list change together under the future's lock, so a callback is
 * either in the list the completer takes (and runs it) or registered after the outcome is visible
 * (and conc_future_add_done_callback runs it at once): none is lost, none runs twice. The lock is
 * released before anything runs. Callbacks run in the completing thread, in registration order; a
 * callback may drop the last reference of its future, so the completer holds one of its own while
 * they run. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include "../internal/future.h"

static int complete(conc_future_t *f, uint32_t kind, void *value, int err) {
    if (!f) return -EINVAL;
    conc__flock(&f->lock);
    uint32_t now = conc__load_rlx(&f->state);
    if ((now & CONC__F_KIND) != CONC__F_PENDING ||
        (kind == CONC__F_CANCELLED && (now & CONC__F_RUNNING))) {
        conc__funlock(&f->lock);
        return -EINVAL;
    }
    f->value = value;
    f->err = err;
    /* an exchange, not a store: a waiter may have set CONC__F_WAITERS without the lock */
    uint32_t old = __atomic_exchange_n(&f->state, kind, __ATOMIC_ACQ_REL);
    struct conc__fcb first = f->first, *list = f->head;
    f->first.fn = NULL;
    f->head = f->tail = NULL;
    conc__funlock(&f->lock);

    if (old & CONC__F_WAITERS) conc__futex_wake(&f->state, INT_MAX, false);
    if (!first.fn && !list) return 0;
    conc_future_retain(f);
    if (first.fn) first.fn(f, first.arg);
    while (list) {
        struct conc__fcb *next = list->next;
        list->fn(f, list->arg);
        free(list);
        list = next;
    }
    conc_future_release(f);
    return 0;
}

int conc_future_set_result(conc_future_t *f, void *value) {
    return complete(f, CONC__F_RESULT, value, 0);
}

int conc_future_set_error(conc_future_t *f, int err) {
    if (err >= 0) return -EINVAL;
    return complete(f, CONC__F_ERROR, NULL, err);
}

bool conc__future_set_running(conc_future_t *f) {
    conc__flock(&f->lock);
    bool ok = (conc__load_rlx(&f->state) & CONC__F_KIND) == CONC__F_PENDING;
    if (ok) __atomic_fetch_or(&f->state, CONC__F_RUNNING, __ATOMIC_ACQ_REL);
    conc__funlock(&f->lock);
    return ok;
}

/* A future an executor is running cannot be cancelled (concurrent.futures.Future.cancel). */
bool conc_future_cancel(conc_future_t *f) {
    return complete(f, CONC__F_CANCELLED, NULL, -ECANCELED) == 0;
}
