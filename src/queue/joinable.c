/* JoinableQueue: task_done and join.
 *
 * The unfinished count is nput (in pword) minus ndone, so a put raises it in the same store that
 * commits the message - Python raises it before putting, under a lock, which comes to the same -
 * and task_done lowers it with one compare-and-swap on ndone: nothing for a SIGKILL to tear, and
 * no lock for a dead process to hold. Joiners sleep on tdseq, bumped when the count reaches zero. */
#include <errno.h>
#include <limits.h>
#include "../internal/queue.h"

static uint64_t unfinished(struct conc__qhdr *h) {
    uint64_t d = __atomic_load_n(&h->ndone, __ATOMIC_SEQ_CST); /* first: see size.c */
    uint64_t pw = __atomic_load_n(&h->pword, __ATOMIC_SEQ_CST);
    return (CONC__Q_CNT(pw) - d) & CONC__Q_CNT_MASK;
}

int conc_queue_task_done(conc_queue_t *q) {
    if (!q || !q->h->joinable) return -EINVAL;
    struct conc__qhdr *h = q->h;
    uint64_t d = __atomic_load_n(&h->ndone, __ATOMIC_SEQ_CST);
    for (;;) {
        uint64_t pw = __atomic_load_n(&h->pword, __ATOMIC_SEQ_CST);
        uint64_t left = (CONC__Q_CNT(pw) - d) & CONC__Q_CNT_MASK;
        if (left == 0) return -EOVERFLOW; /* Python: "task_done() called too many times" */
        if (__atomic_compare_exchange_n(&h->ndone, &d, d + 1, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            if (left == 1) {
                __atomic_add_fetch(&h->tdseq, 1, __ATOMIC_SEQ_CST);
                if (__atomic_load_n(&h->jwaiters, __ATOMIC_SEQ_CST))
                    conc__futex_wake(&h->tdseq, INT_MAX, true);
            }
            return 0;
        }
    }
}

int conc_queue_join(conc_queue_t *q, double timeout) {
    if (!q || !q->h->joinable) return -EINVAL;
    struct conc__qhdr *h = q->h;
    double deadline = conc_deadline(timeout);
    for (;;) {
        uint32_t seq = __atomic_load_n(&h->tdseq, __ATOMIC_SEQ_CST);
        if (unfinished(h) == 0) return 0;
        __atomic_add_fetch(&h->jwaiters, 1, __ATOMIC_SEQ_CST);
        int r = 0;
        if (__atomic_load_n(&h->tdseq, __ATOMIC_SEQ_CST) == seq)
            r = conc__wait(&h->tdseq, seq, deadline, true);
        __atomic_sub_fetch(&h->jwaiters, 1, __ATOMIC_SEQ_CST);
        if (r < 0) return unfinished(h) == 0 ? 0 : r;
    }
}
