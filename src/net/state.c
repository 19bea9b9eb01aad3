/* The loop's I/O state and the slot parking every I/O wait is built on (internal/net.h).
 *
 * The state hangs off the loop's CONC__LOOP_SLOT_IO slot and is freed by a loop-free hook. That
 * hook first cancels the tasks still running and lets them finish (they may be parked in I/O
 * slots, and their clean-up closes streams), and only then closes what is left: streams still
 * flushing after conc_stream_close. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "../internal/net.h"

static void net_free(conc_loop_t *loop, void *arg) {
    struct conc__net *net = arg;
    conc__sched_cancel_all(loop);
    while (net->closing) conc__stream_finish(net->closing);
    conc__net_sig_free(net);
    *conc__loop_slot(loop, CONC__LOOP_SLOT_IO) = NULL;
    for (int i = 0; i < net->nchunks; i++) free(net->chunks[i]);
    free(net->chunks);
    free(net);
}

struct conc__net *conc__net_of(conc_loop_t *loop) {
    void **slot = conc__loop_slot(loop, CONC__LOOP_SLOT_IO);
    if (conc__likely(*slot != NULL)) return *slot;
    struct conc__net *net = calloc(1, sizeof *net);
    if (!net) return NULL;
    net->loop = loop;
    net->sigfd = -1;
    if (conc__loop_on_free(loop, net_free, net) < 0) {
        free(net);
        return NULL;
    }
    *slot = net;
    return net;
}

int conc__net_watch(conc_loop_t *loop, int fd, unsigned events, void (*cb)(void *, int, unsigned),
                    void *arg) {
    int r = conc__loop_watch(loop, fd, events, cb, arg);
    if (r == -ENOENT) {
        /* the loop still had an old registration of this fd number, which the kernel dropped
         * when that fd was closed: start afresh */
        conc__loop_unwatch(loop, fd);
        r = conc__loop_watch(loop, fd, events, cb, arg);
    }
    return r;
}

conc_task_t *conc__net_task(conc_loop_t *loop) {
    conc_task_t *t = conc__task_running;
    return t && t->loop == loop ? t : NULL;
}

static conc__detach_t slot_detach(conc_task_t *t, void *arg, int why) {
    (void)why;
    conc_task_t **slot = arg;
    if (*slot == t) *slot = NULL;
    return CONC__DETACHED;
}

int conc__slot_wait(conc_task_t **slot, double deadline) {
    conc_task_t *t = conc__task_running;
    if (!t) return -EPERM;
    if (*slot) return -EBUSY;
    *slot = t;
    int r = conc__task_park(deadline, slot_detach, slot, slot);
    if (*slot == t) *slot = NULL;
    return conc__task_saw(t, r, true);
}

void conc__slot_wake(conc_task_t **slot, int code) {
    conc_task_t *t = *slot;
    if (!t) return;
    *slot = NULL;
    conc__task_wake(t, code);
}
