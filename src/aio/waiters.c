/* The waiter list of the async primitives (internal/aio.h): an intrusive doubly linked FIFO of
 * waiters on the waiting tasks' stacks, and the park/grant protocol on top of task parking. */
#include <errno.h>
#include <math.h>
#include "conc/time.h"
#include "../internal/aio.h"

void conc__aw_push(conc_awaiters_t *q, struct conc__aw *w) {
    w->task = conc__task_running;
    w->item = NULL;
    w->list = q;
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        ((struct conc__aw *)q->tail)->next = w;
    else
        q->head = w;
    q->tail = w;
}

void conc__aw_unlink(struct conc__aw *w) {
    conc_awaiters_t *q = w->list;
    if (!q) return;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
    w->list = NULL;
}

struct conc__aw *conc__aw_grant(conc_awaiters_t *q, void *item) {
    struct conc__aw *w = q->head;
    if (!w) return NULL;
    conc__aw_unlink(w);
    w->item = item;
    conc__task_wake(w->task, 0);
    return w;
}

static conc__detach_t detach(conc_task_t *t, void *arg, int why) {
    (void)t;
    (void)why;
    conc__aw_unlink(arg);
    return CONC__DETACHED;
}

static conc__detach_t detach_not_on_cancel(conc_task_t *t, void *arg, int why) {
    (void)t;
    (void)arg;
    (void)why;
    return CONC__MISSED;
}

double conc__aw_deadline(double timeout) {
    return timeout < 0 || isnan(timeout) ? INFINITY : conc_monotonic() + timeout;
}

int conc__aw_wait(struct conc__aw *w, double timeout) {
    int r = conc__task_park(conc__aw_deadline(timeout), detach, w, w);
    if (r != 0) conc__aw_unlink(w); /* already unlinked by detach; ENOMEM paths too */
    return conc__task_saw(w->task, r, false);
}

void conc__aw_wait_uncancellable(struct conc__aw *w) {
    while (conc__task_park(INFINITY, detach_not_on_cancel, w, w) != 0) {
    }
}
