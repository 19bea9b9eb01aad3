/* The waiter list under every async primitive (src/aio).
 *
 * A waiter lives on the waiting task's stack, linked into the primitive's list (FIFO). Whoever
 * hands something over (a lock, an item, a notification) unlinks the first waiter, stores what it
 * gets, and wakes it: the hand-over is complete before the waiter runs, so a cancellation that
 * comes later cannot lose it. A cancellation or timeout while still linked unlinks the waiter
 * (the park's detach), so nothing is ever handed to a task that stopped waiting. */
#ifndef CONC_INTERNAL_AIO_H
#define CONC_INTERNAL_AIO_H

#include "conc/aio.h"
#include "task.h"

struct conc__aw {
    struct conc__aw *prev, *next;
    conc_awaiters_t *list; /* NULL once unlinked */
    conc_task_t *task;
    void *item; /* what was handed over (a queue item) */
};

static inline bool conc__aw_any(const conc_awaiters_t *q) {
    return q->head != NULL;
}

/* Append w (for the running task) to q. */
CONC_HIDDEN void conc__aw_push(conc_awaiters_t *q, struct conc__aw *w);
CONC_HIDDEN void conc__aw_unlink(struct conc__aw *w);
/* Unlink the first waiter, give it item and wake it. NULL if there is none. */
CONC_HIDDEN struct conc__aw *conc__aw_grant(conc_awaiters_t *q, void *item);
/* Park the running task, linked as w, until granted (0), timeout (-ETIMEDOUT) or cancelled
 * (-ECANCELED, marks the task); w is unlinked in the last two cases. timeout as the public calls. */
CONC_HIDDEN int conc__aw_wait(struct conc__aw *w, double timeout);
/* The same but a cancellation does not end the wait: it is left pending for the next suspension
 * point (a condition re-acquiring its lock). */
CONC_HIDDEN void conc__aw_wait_uncancellable(struct conc__aw *w);
/* timeout (seconds, < 0 forever) to an absolute deadline for conc__task_park */
CONC_HIDDEN double conc__aw_deadline(double timeout);

#endif
