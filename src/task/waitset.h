/* Waiting for many futures at once (gather, wait_futures): one shared record, a done-callback per
 * future, and the waiting task parked until a condition on the counts holds. */
#ifndef CONC_TASK_WAITSET_H
#define CONC_TASK_WAITSET_H

#include "../internal/task.h"

enum { WS_ALL, WS_FIRST, WS_FIRST_ERROR };

struct waitset {
    uint32_t refs;      /* the waiter + one per registered callback + hops in flight */
    conc_task_t *task;  /* the waiter (one reference, dropped with the record) */
    uint32_t remaining; /* futures not done yet */
    uint32_t ndone;
    int first_err;         /* the first error or -ECANCELED among the done ones, 0 if none yet */
    int mode;              /* WS_*: when the waiter wants to be woken (atomic: callbacks read it) */
    bool cancel_requested; /* the waiter was cancelled (gather: the children were asked to stop) */
    conc_future_t **fs;    /* the futures waited for */
    size_t n;
};

/* Register on the n futures and wait until the condition of mode holds (or deadline, or
 * cancellation: detach decides what a cancellation does). Returns 0, -ETIMEDOUT, -ECANCELED or
 * -ENOMEM, with *ws holding the counts; callbacks not run yet are removed before returning. */
CONC_HIDDEN int conc__waitset_wait(conc_future_t **fs, size_t n, int mode, double deadline,
                                   conc__detach_fn detach, struct waitset *out);
/* For detach functions: change the condition (gather, once cancelled, waits for all). */
CONC_HIDDEN bool conc__waitset_met(struct waitset *ws);

#endif
