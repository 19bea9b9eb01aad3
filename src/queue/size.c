/* qsize, empty, full: read both committed words, consumers' first. A get committed between the two
 * loads can then only make the count look one too high, never wrap it below zero. As in Python,
 * the answer may be stale by the time the caller looks at it. */
#include "../internal/queue.h"

size_t conc_queue_qsize(conc_queue_t *q) {
    if (!q) return 0;
    uint64_t gw = __atomic_load_n(&q->h->gword, __ATOMIC_SEQ_CST);
    uint64_t pw = __atomic_load_n(&q->h->pword, __ATOMIC_SEQ_CST);
    uint64_t n = conc__q_count(pw, gw);
    return n > q->units ? (size_t)q->units : (size_t)n; /* only if scribbled on */
}

bool conc_queue_empty(conc_queue_t *q) {
    return conc_queue_qsize(q) == 0;
}

bool conc_queue_full(conc_queue_t *q) {
    return q && q->maxsize && conc_queue_qsize(q) >= q->maxsize;
}
