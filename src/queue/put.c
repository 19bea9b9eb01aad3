/* conc_queue_put: copy one message into the ring (or its spill slot) and commit it with one store.
 *
 * Under plock a producer writes the record past the tail, where no consumer looks, and only then
 * stores the new pword (tail and message count together). Killed anywhere before that store, it
 * has changed nothing visible; the next producer takes its lock over (owner death) and writes over
 * the leftovers. Waiting for room happens with no lock held, on the low half of gword, which every
 * get changes.
 *
 * Why put prefetches the ring for writing a little ahead of the tail: the lines a put writes were
 * last read by a consumer (a lap ago, or a moment ago when it keeps up), so they sit in the
 * consumer CPU's caches and the first store to each must take it from there - about 200 ns one
 * way between the CPUs here. The lock and the commit are locked instructions, which wait for every
 * earlier store to own its line, so without the prefetch each put stalled for one such transfer
 * (a 64-byte record crosses into a new line nearly every time): ~210 ns a message. Asking for the
 * lines PREFETCH_AHEAD bytes early starts those transfers several puts before they are needed,
 * and they overlap: 1->1 and 2->2 streams of 64 B went from 200-225 to 35-41 ns a message, back to
 * back on the same machine (and below 30 ns with the other changes of that day). Only
 * lines inside the room the producer already knows of are prefetched: stealing a line a consumer
 * has yet to read would only slow it down. */
#include <errno.h>
#include <string.h>
#include "../internal/queue.h"
#include "../internal/sync.h"

void (*volatile conc__queue_test_stop)(const char *where);

/* Is there room for k more records of `need` units? */
static bool room_for(const conc_queue_t *q, uint64_t pw, uint64_t gw, uint64_t need, uint64_t k) {
    uint64_t used = conc__q_used(pw, gw);
    return used <= q->units && k * need <= q->units - used &&
           (!q->maxsize || conc__q_count(pw, gw) + k <= q->maxsize);
}

static bool room(const conc_queue_t *q, uint64_t pw, uint64_t gw, uint64_t need) {
    return room_for(q, pw, gw, need, 1);
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
/* PREFETCHW (for writing) exists on every AMD64 CPU and on Intel's since Broadwell; the older ones
 * get the plain prefetch, which at least brings the line over. */
static bool have_prefetchw;
__attribute__((constructor)) static void find_prefetchw(void) {
    unsigned a, b, c, d;
    have_prefetchw = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & bit_PRFCHW);
}
#endif

#define PREFETCH_AHEAD 1024 /* bytes: some 10 puts of 64 B, a few transfer times */
#define PREFETCH_MAX   1024 /* bytes a put prefetches at most: a long copy streams anyway */

/* Ask for the lines that enter the window [tail + AHEAD, ...) with this record, for writing. */
static void prefetch_ahead(const conc_queue_t *q, uint64_t pw, uint64_t gw, uint64_t need) {
    uint64_t ahead = PREFETCH_AHEAD / 8, n = need * 8 < PREFETCH_MAX ? need * 8 : PREFETCH_MAX;
    if (conc__q_used(pw, gw) + ahead + need > q->units) return;
    uint64_t mask = q->units * 8 - 1, start = (CONC__Q_POS(pw) + ahead) * 8;
    for (uint64_t b = start & ~(uint64_t)63; b < start + n; b += 64) {
        const unsigned char *p = q->ring + (b & mask);
#if defined(__x86_64__) || defined(__i386__)
        if (have_prefetchw) {
            __asm__ volatile("prefetchw (%0)" ::"r"(p));
            continue;
        }
#endif
        __builtin_prefetch(p, 1, 3);
    }
}

static void stop_here(const char *where) {
    void (*f)(const char *) = conc__queue_test_stop;
    if (f) f(where);
}

/* Write the record at the tail of pw and commit it. plock held. */
static int write_record(conc_queue_t *q, uint64_t pw, const void *buf, size_t len, bool spill,
                        uint64_t need) {
    uint64_t pos = CONC__Q_POS(pw), hdr = len;
    size_t half = len / 2;
    if (spill) {
        uint64_t off = conc__q_spill_offset(q, pos);
        int r = conc__queue_pio(q->memfd, (void *)buf, half, off, true);
        if (r == 0) stop_here("put");
        if (r == 0) r = conc__queue_pio(q->memfd, (char *)buf + half, len - half, off + half, true);
        if (r < 0) return r; /* nothing committed: the slot is written over by a later spill */
        hdr |= CONC__Q_SPILLED;
    } else if (conc__likely(!conc__queue_test_stop)) {
        conc__queue_copy_in(q, pos * 8 + 8, buf, len);
    } else {
        conc__queue_copy_in(q, pos * 8 + 8, buf, half);
        stop_here("put");
        conc__queue_copy_in(q, pos * 8 + 8 + half, (const char *)buf + half, len - half);
    }
    /* a header is 8-byte aligned in a ring of 8-byte units: it never wraps */
    memcpy(q->ring + ((pos * 8) & (q->units * 8 - 1)), &hdr, sizeof hdr);
    uint64_t npw = ((CONC__Q_CNT(pw) + 1) & CONC__Q_CNT_MASK) << CONC__Q_POS_BITS |
                   ((pos + need) & CONC__Q_POS_MASK);
    __atomic_store_n(&q->h->pword, npw, CONC__Q_COMMIT); /* the commit (queue.h: order) */
    return 0;
}

int conc_queue_put(conc_queue_t *q, const void *buf, size_t len, double timeout) {
    if (!q || (!buf && len)) return -EINVAL;
    if (len > CONC_QUEUE_MAX_MESSAGE) return -EMSGSIZE;
    if (conc__load(&q->closed)) return CONC_ECLOSED;
    struct conc__qhdr *h = q->h;
    bool spill = len > q->spill_min;
    uint64_t need = spill ? 1 : 1 + (len + 7) / 8;
    double deadline = __builtin_nan(""); /* queue.h: conc__q_deadline */
    bool waited = false;
    for (;;) {
        int r =
            conc__lock_try_shared(&h->plock)
                ? 0
                : conc__lock_acquire_until(&h->plock, conc__q_deadline(&deadline, timeout), true);
        if (r < 0 && r != CONC_EOWNERDEAD) return r;
        uint64_t pw = conc__load_rlx(&h->pword);
        uint64_t gw = conc__load_rlx(&h->gcache);
        if (!room(q, pw, gw, need)) {
            gw = conc__load(&h->gword);
            __atomic_store_n(&h->gcache, gw, __ATOMIC_RELAXED);
        }
        if (room(q, pw, gw, need)) {
            if (waited) conc__queue_learn(&q->pbatch, room_for(q, pw, gw, need, 2));
            prefetch_ahead(q, pw, gw, need);
            r = write_record(q, pw, buf, len, spill, need);
            conc_lock_release(&h->plock); /* also the commit's barrier (queue.h) */
            if (r == 0) conc__queue_wake(q, &h->gseq);
            return r;
        }
        conc_lock_release(&h->plock);
        r = conc__queue_sleep(q, &h->gword, gw, &h->pseq, conc__q_deadline(&deadline, timeout),
                              &q->pbatch);
        waited = true;
        if (conc__load(&q->closed)) return CONC_ECLOSED;
        if (r < 0) return r;
    }
}
