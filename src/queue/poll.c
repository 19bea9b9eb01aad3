/* conc_wait's queue branch (see src/wait/wait.c): a queue is "readable" when it is not empty.
 *
 * Readiness reaches poll through the queue's eventfd, shared by every process holding the queue:
 * a put writes it only while some conc_wait is registered as a poller, so puts stay syscall-free
 * otherwise. The fd is a hint, never the truth: it can be left readable by a message somebody has
 * since taken, so conc_wait re-checks the queue itself, and whoever finds it stale drains it and
 * then looks at the queue again, re-arming the fd if a message slipped in meanwhile (without that,
 * a put landing between another poller's check and the drain would be hidden from that poller). */
#include <unistd.h>
#include "../internal/queue.h"

int conc__queue_poll_begin(conc_queue_t *q) {
    __atomic_add_fetch(&q->h->pollers, 1, __ATOMIC_SEQ_CST);
    return q->efd;
}

bool conc__queue_readable(conc_queue_t *q) {
    return !conc_queue_empty(q);
}

void conc__queue_poll_stale(conc_queue_t *q) {
    uint64_t v;
    (void)!read(q->efd, &v, sizeof v);
    if (conc__queue_readable(q)) {
        v = 1;
        (void)!write(q->efd, &v, sizeof v);
    }
}

void conc__queue_poll_end(conc_queue_t *q) {
    __atomic_sub_fetch(&q->h->pollers, 1, __ATOMIC_SEQ_CST);
}
