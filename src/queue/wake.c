/* Sleeping and waking on a Queue's futex words (the low halves of pword and gword, see
 * internal/queue.h), and telling conc_wait about new messages.
 *
 * Why spin first: a partner on another CPU usually commits within a microsecond or two, far less
 * than a futex sleep and cross-CPU wake-up; a consumer that sleeps on every empty ring also makes
 * every put pay a wake syscall. Never on a single CPU, where the partner cannot run meanwhile.
 *
 * The waiter counts make the common put or get syscall-free: a waiter counts itself, then looks at
 * the word again; a committer stores the word, then reads the count - all four sequentially
 * consistent (a store and a load, not a fence, which ThreadSanitizer cannot model). One of the two
 * sees the other, so no wake-up is lost. A waiter SIGKILLed
 * asleep leaves its count behind: the cost is a wake syscall per commit from then on, never a
 * missed wake-up.
 *
 * close must wake this process's sleepers without changing the words they sleep on (those are the
 * queue's committed state), and a futex wake sent just before a sleeper enters the kernel is lost.
 * So the handle counts its sleepers, a sleeper checks the flag after counting itself, and close
 * keeps waking until the count is zero (each sleeper leaves as soon as it runs). */
#include <limits.h>
#include <sched.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/queue.h"
#include "../internal/sync.h"

#define SPINS 400

int conc__queue_sleep(conc_queue_t *q, uint64_t *word, uint64_t val, uint32_t *waiters,
                      double deadline) {
    int r = 0;
    /* In a fork child, the count copied from the parent names threads that do not exist here. */
    uint32_t pid = __atomic_load_n(&q->sleepers_pid, __ATOMIC_ACQUIRE),
             me = (uint32_t)conc__self_pid();
    if (pid != me && __atomic_compare_exchange_n(&q->sleepers_pid, &pid, me, false,
                                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        __atomic_store_n(&q->sleepers, 0, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&q->sleepers, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; conc__spin_ok && i < SPINS; i++) {
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) goto out;
        conc__cpu_relax();
    }
    __atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&q->closed, __ATOMIC_SEQ_CST) &&
        __atomic_load_n(word, __ATOMIC_SEQ_CST) == val)
        r = conc__wait(conc__q_lo32(word), (uint32_t)val, deadline, true);
    __atomic_sub_fetch(waiters, 1, __ATOMIC_SEQ_CST);
out:
    __atomic_sub_fetch(&q->sleepers, 1, __ATOMIC_SEQ_CST);
    return r;
}

void conc__queue_wake(conc_queue_t *q, uint64_t *word, uint32_t *waiters) {
    if (__atomic_load_n(waiters, __ATOMIC_SEQ_CST))
        conc__futex_wake(conc__q_lo32(word), INT_MAX, true);
    if (word == &q->h->pword && __atomic_load_n(&q->h->pollers, __ATOMIC_SEQ_CST)) {
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
        conc__futex_wake(conc__q_lo32(&q->h->pword), INT_MAX, true);
        conc__futex_wake(conc__q_lo32(&q->h->gword), INT_MAX, true);
        sched_yield();
    }
}
