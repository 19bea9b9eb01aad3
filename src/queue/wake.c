/* Sleeping and waking on a Queue's event counts (gseq, pseq: see internal/queue.h), and telling
 * conc_wait about new messages.
 *
 * Why spin first: a partner on another CPU usually commits within a microsecond or two, far less
 * than a futex sleep and cross-CPU wake-up; a consumer that sleeps on every empty ring also makes
 * every put pay a wake syscall. Never on a single CPU, where the partner cannot run meanwhile.
 *
 * Why an event count with a sleeping bit, not a count of waiters: a sleeper stays counted until it
 * runs again, and with two consumers on one CPU the woken one may wait a whole time slice for it -
 * every put meanwhile paid a futex wake (about 1.1 us here) that found nobody in the kernel. Now a
 * sleeper sets bit 0, then looks at the word again; a committer stores the word, then reads the
 * count, and only if the bit is set clears it (bumping the sequence) and wakes everybody asleep on
 * it: one syscall per round of sleeping, whoever commits next. The sleeper's two accesses are
 * sequentially consistent, and so is the committer's load of the count; its commit store is
 * ordered before that load by the side's lock release in between on x86, or is itself
 * sequentially consistent (internal/queue.h, CONC__Q_COMMIT) - never a bare fence, which
 * ThreadSanitizer cannot model. So one of the two sides sees the other and no wake-up is lost: a
 * sleeper that set the bit before the commit is woken, or its futex wait finds the sequence moved
 * and returns. A sleeper SIGKILLed asleep leaves the bit set: the next commit pays one wake for
 * nobody.
 *
 * close must wake this process's sleepers without changing the committed words, and a futex wake
 * sent just before a sleeper enters the kernel is lost. So the handle counts its sleepers, a
 * sleeper checks the flag after setting the bit, and close keeps waking until the count is zero
 * (each sleeper leaves as soon as it runs). */
#include <limits.h>
#include <sched.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/queue.h"
#include "../internal/sync.h"

#define SPINS 400

int conc__queue_sleep(conc_queue_t *q, uint64_t *word, uint64_t val, uint32_t *seq, double deadline,
                      const uint32_t *batch) {
    int r = 0;
    /* In a fork child, the count copied from the parent names threads that do not exist here. */
    uint32_t pid = __atomic_load_n(&q->sleepers_pid, __ATOMIC_ACQUIRE),
             me = (uint32_t)conc__self_pid();
    if (pid != me && __atomic_compare_exchange_n(&q->sleepers_pid, &pid, me, false,
                                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        __atomic_store_n(&q->sleepers, 0, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&q->sleepers, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; conc__spin_ok && i < SPINS; i++) {
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) {
            uint32_t linger = __atomic_load_n(batch, __ATOMIC_RELAXED) & 0xffffu;
            for (uint32_t k = 0; k < linger; k++) conc__cpu_relax(); /* batch.c: why */
            goto out;
        }
        conc__cpu_relax();
    }
    uint32_t s = __atomic_fetch_or(seq, 1u, __ATOMIC_SEQ_CST) | 1u;
    if (!__atomic_load_n(&q->closed, __ATOMIC_SEQ_CST) &&
        __atomic_load_n(word, __ATOMIC_SEQ_CST) == val)
        r = conc__wait(seq, s, deadline, true);
out:
    __atomic_sub_fetch(&q->sleepers, 1, __ATOMIC_SEQ_CST);
    return r;
}

void conc__queue_wake(conc_queue_t *q, uint32_t *seq) {
    uint32_t s = __atomic_load_n(seq, __ATOMIC_SEQ_CST);
    while (conc__unlikely(s & 1u))
        if (__atomic_compare_exchange_n(seq, &s, (s + 2u) & ~1u, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            conc__futex_wake(seq, INT_MAX, true);
            break;
        }
    if (seq == &q->h->gseq && __atomic_load_n(&q->h->pollers, __ATOMIC_SEQ_CST)) {
        uint64_t one = 1;
        (void)!write(q->efd, &one, sizeof one);
    }
}

void conc_queue_close(conc_queue_t *q) {
    if (!q) return;
    __atomic_store_n(&q->closed, 1u, __ATOMIC_SEQ_CST);
    /* bounded all the same: a count left wrong by a fork that raced a sleeper must not hang us */
    double end = conc_monotonic() + 1.0;
    while (__atomic_load_n(&q->sleepers, __ATOMIC_SEQ_CST) &&
           (uint32_t)conc__self_pid() == __atomic_load_n(&q->sleepers_pid, __ATOMIC_ACQUIRE) &&
           conc_monotonic() < end) {
        conc__futex_wake(&q->h->gseq, INT_MAX, true);
        conc__futex_wake(&q->h->pseq, INT_MAX, true);
        sched_yield();
    }
}
