/* conc_queue_get: copy the oldest message out, then consume it with one store of gword.
 *
 * Under glock a consumer reads the record at the head into a fresh buffer and only then stores
 * the new gword. Killed before that store, it consumed nothing: the message is still first in
 * line, whole, for the next consumer (which takes the lock over from the dead one).
 *
 * A spilled message's slot is punched out (its pages freed) after the commit, still under glock.
 * Slots repeat every TWO laps of the ring for this reason: once the head has moved past a record,
 * producers may write anywhere up to one ring ahead of it - the next lap - but not two laps on,
 * which would need another get, which our lock holds off. So the punch can never hit a newer
 * message. A consumer killed between commit and punch leaves the pages until the slot's next
 * message is consumed (the punch covers the whole slot). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "../internal/queue.h"
#include "../internal/sync.h"

static void stop_here(const char *where) {
    void (*f)(const char *) = conc__queue_test_stop;
    if (f) f(where);
}

/* Copy out and consume the record at the head of gw. glock held; the queue is not empty. */
static int take(conc_queue_t *q, uint64_t pw, uint64_t gw, void **buf, size_t *len) {
    uint64_t used = conc__q_used(pw, gw), pos = CONC__Q_POS(gw), hdr;
    if (used > q->units) return CONC_EPROTO;
    memcpy(&hdr, q->ring + ((pos * 8) & (q->units * 8 - 1)), sizeof hdr); /* never wraps */
    bool spill = hdr & CONC__Q_SPILLED;
    uint64_t n = hdr & ~CONC__Q_SPILLED, need = spill ? 1 : 1 + (n + 7) / 8;
    if (n > CONC_QUEUE_MAX_MESSAGE || need > used || (!spill && n > q->spill_min))
        return CONC_EPROTO; /* scribbled on: consume nothing */
    void *b = malloc(n ? (size_t)n : 1);
    if (!b) return -ENOMEM;
    uint64_t off = conc__q_spill_offset(q, pos);
    if (spill) {
        int r = conc__queue_pio(q->memfd, b, (size_t)n, off, false);
        if (r < 0) {
            free(b);
            return r;
        }
    } else {
        conc__queue_copy_out(q, pos * 8 + 8, b, (size_t)n);
    }
    stop_here("get");
    uint64_t ngw = ((CONC__Q_CNT(gw) + 1) & CONC__Q_CNT_MASK) << CONC__Q_POS_BITS |
                   ((pos + need) & CONC__Q_POS_MASK);
    __atomic_store_n(&q->h->gword, ngw, CONC__Q_COMMIT); /* the commit (queue.h: order) */
    if (spill)
        fallocate(q->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                  (off_t)CONC__Q_SPILL_STRIDE);
    *buf = b;
    *len = (size_t)n;
    return 0;
}

int conc_queue_get(conc_queue_t *q, void **buf, size_t *len, double timeout) {
    if (!q || !buf || !len) return -EINVAL;
    *buf = NULL;
    *len = 0;
    struct conc__qhdr *h = q->h;
    double deadline = __builtin_nan(""); /* queue.h: conc__q_deadline */
    bool waited = false;
    for (;;) {
        int r =
            conc__lock_try_shared(&h->glock)
                ? 0
                : conc__lock_acquire_until(&h->glock, conc__q_deadline(&deadline, timeout), true);
        if (r < 0 && r != CONC_EOWNERDEAD) return r;
        uint64_t gw = conc__load_rlx(&h->gword);
        uint64_t pw = conc__load_rlx(&h->pcache);
        if (conc__q_used(pw, gw) == 0) {
            pw = conc__load(&h->pword);
            __atomic_store_n(&h->pcache, pw, __ATOMIC_RELAXED);
        }
        if (conc__q_used(pw, gw) != 0) {
            if (waited) conc__queue_learn(&q->gbatch, conc__q_count(pw, gw) > 1);
            r = take(q, pw, gw, buf, len);
            conc_lock_release(&h->glock); /* also the commit's barrier (queue.h) */
            if (r == 0) conc__queue_wake(q, &h->pseq);
            return r;
        }
        conc_lock_release(&h->glock);
        if (conc__load(&q->closed)) return CONC_ECLOSED;
        r = conc__queue_sleep(q, &h->pword, pw, &h->gseq, conc__q_deadline(&deadline, timeout),
                              &q->gbatch);
        waited = true;
        if (r < 0) return r;
    }
}
