/* Sleeping and waking on a Queue's futex words (the low halves of pword and gword, see
 * internal/queue.h), and telling conc_wait about new messages.
 *
 * Why spin first: a partner on another CPU usually commits within a microsecond or two, far less
 * than a futex sleep and cross-CPU wake-up; a consumer that sleeps on every empty ring also makes
 * every put pay a wake syscall. Never on a single CPU, where the partner cannot run meanwhile.
 *
 * The waiter counts make the common put or get syscall-free: a waiter counts itself, then looks at
 * the word again (both sequentially consistent); a committer stores the word, then (after a full
 * fence) reads the count. One of the two sees the other, so no wake-up is lost. A waiter SIGKILLed
 * asleep leaves its count behind: the cost is a wake syscall per commit from then on, never a
 * missed wake-up. */
#include <limits.h>
#include <unistd.h>
#include "../internal/queue.h"
#include "../internal/sync.h"

#define SPINS 400

int conc__queue_sleep(uint64_t *word, uint64_t val, uint32_t *waiters, double deadline) {
    if (conc__spin_ok)
        for (int i = 0; i < SPINS; i++) {
            if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) return 0;
            conc__cpu_relax();
        }
    __atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    int r = 0;
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) == val)
        r = conc__wait(conc__q_lo32(word), (uint32_t)val, deadline, true);
    __atomic_sub_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    return r;
}

void conc__queue_wake(conc_queue_t *q, uint64_t *word, uint32_t *waiters) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(waiters, __ATOMIC_RELAXED))
        conc__futex_wake(conc__q_lo32(word), INT_MAX, true);
    if (word == &q->h->pword && __atomic_load_n(&q->h->pollers, __ATOMIC_RELAXED)) {
        uint64_t one = 1;
        (void)!write(q->efd, &one, sizeof one);
    }
}
