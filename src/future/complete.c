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

/* Without the lock, win the right to complete f with kind: set BUSY on a pending state. -EINVAL
 * if it is done or being completed, or if a cancel meets a running future; 1 if CBS is set (the
 * caller must complete under the lock). */
static int claim(conc_future_t *f, uint32_t kind) {
    uint32_t s = conc__load(&f->state);
    for (;;) {
        if ((s & CONC__F_KIND) != CONC__F_PENDING || (s & CONC__F_BUSY) ||
            (kind == CONC__F_CANCELLED && (s & CONC__F_RUNNING)))
            return -EINVAL;
        if (s & CONC__F_CBS) return 1;
        if (__atomic_compare_exchange_n(&f->state, &s, s | CONC__F_BUSY, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return 0;
    }
}

/* Publish the outcome (BUSY held): an exchange, not a store, since a waiter may set WAITERS. */
static void publish(conc_future_t *f, uint32_t kind, void *value, int err) {
    f->value = value;
    f->err = err;
    uint32_t old = __atomic_exchange_n(&f->state, kind, __ATOMIC_ACQ_REL);
    if (old & CONC__F_WAITERS) conc__futex_wake(&f->state, INT_MAX, false);
}

static int complete(conc_future_t *f, uint32_t kind, void *value, int err) {
    if (!f) return -EINVAL;
    int r = claim(f, kind);
    if (r < 0) return r;
    if (r == 0) {
        publish(f, kind, value, err);
        return 0;
    }
    /* Under the lock every other completer is excluded (they all take it once CBS is set), so
     * value and err may be written before the one CAS that publishes. */
    conc__flock(&f->lock);
    uint32_t old = conc__load(&f->state);
    for (bool written = false;; written = true) {
        if ((old & CONC__F_KIND) != CONC__F_PENDING || (old & CONC__F_BUSY) ||
            (kind == CONC__F_CANCELLED && (old & CONC__F_RUNNING))) {
            conc__funlock(&f->lock);
            return -EINVAL; /* a done future's outcome is untouched; a pending one's unread */
        }
        if (!written) {
            f->value = value;
            f->err = err;
        }
        if (__atomic_compare_exchange_n(&f->state, &old, kind, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            break;
    }
    struct conc__fcb first = f->first, *list = f->head;
    f->first.fn = NULL;
    f->head = f->tail = NULL;
    /* the lock is released after the outcome is visible: a registrar that takes it next sees the
     * future done and runs its callback itself */
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

/* false if f is done or being completed (a cancel won). */
bool conc__future_set_running(conc_future_t *f) {
    uint32_t s = conc__load(&f->state);
    for (;;) {
        if ((s & CONC__F_KIND) != CONC__F_PENDING || (s & CONC__F_BUSY)) return false;
        if (__atomic_compare_exchange_n(&f->state, &s, s | CONC__F_RUNNING, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return true;
    }
}

/* A future an executor is running cannot be cancelled (concurrent.futures.Future.cancel). */
bool conc_future_cancel(conc_future_t *f) {
    return complete(f, CONC__F_CANCELLED, NULL, -ECANCELED) == 0;
}
