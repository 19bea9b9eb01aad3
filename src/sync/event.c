/* Event: threading.Event, and with CONC_PSHARED multiprocessing.Event.
 *
 * The futex word is (generation << 1) | flag. set() moves a clear word to the next generation with
 * the flag up; clear() drops the flag and keeps the generation. A waiter sleeps on the exact word it
 * saw, so any set() changes that word - even when a clear() follows at once - and every thread that
 * was waiting when set() ran returns 0, as in Python (where set() notifies all under a lock). A
 * plain 0/1 word would let set();clear() slip past a sleeper that wakes to find 0 again.
 *
 * A count of sleepers lets set() skip the wake-up syscall when nobody waits (a Dekker pair with the
 * word, hence the sequentially consistent operations). set() is always a read-modify-write, also
 * when the flag is already up, so whatever the caller wrote before set() is visible to a thread
 * that sees the flag. */
#include <limits.h>
#include "conc/time.h"
#include "../internal/sync.h"

int conc_event_init(conc_event_t *e, unsigned flags) {
    if (flags & ~CONC_PSHARED) return -EINVAL;
    __atomic_store_n(&e->_priv.word, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&e->_priv.waiters, 0, __ATOMIC_RELAXED);
    e->_priv.flags = flags;
    return 0;
}

void conc_event_set(conc_event_t *e) {
    uint32_t *w = &e->_priv.word;
    uint32_t c = __atomic_load_n(w, __ATOMIC_SEQ_CST), n;
    do n = (c & 1) ? c : c + 3; /* next generation, flag up */
    while (!__atomic_compare_exchange_n(w, &c, n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    if (n != c && __atomic_load_n(&e->_priv.waiters, __ATOMIC_SEQ_CST) > 0)
        conc__futex_wake(w, INT_MAX, e->_priv.flags & CONC_PSHARED);
}

void conc_event_clear(conc_event_t *e) {
    __atomic_and_fetch(&e->_priv.word, ~1u, __ATOMIC_SEQ_CST);
}

bool conc_event_is_set(conc_event_t *e) {
    return __atomic_load_n(&e->_priv.word, __ATOMIC_ACQUIRE) & 1;
}

int conc_event_wait(conc_event_t *e, double timeout) {
    uint32_t *w = &e->_priv.word;
    uint32_t seen = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    if (seen & 1) return 0;
    if (timeout == 0) return -ETIMEDOUT;
    if (conc__spin_until_changed(w, seen)) return 0; /* any change from a clear word is a set() */
    bool shared = e->_priv.flags & CONC_PSHARED;
    double deadline = conc_deadline(timeout);
    __atomic_add_fetch(&e->_priv.waiters, 1, __ATOMIC_SEQ_CST);
    int r;
    for (;;) {
        /* Any change from the clear word we saw is a set(), possibly cleared again since. */
        if (__atomic_load_n(w, __ATOMIC_SEQ_CST) != seen) {
            r = 0;
            break;
        }
        r = conc__wait(w, seen, deadline, shared);
        if (r < 0) {
            if (r == -ETIMEDOUT && __atomic_load_n(w, __ATOMIC_SEQ_CST) != seen) r = 0;
            break;
        }
    }
    __atomic_sub_fetch(&e->_priv.waiters, 1, __ATOMIC_SEQ_CST);
    return r;
}
