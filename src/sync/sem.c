/* Semaphore and BoundedSemaphore: threading's, and with CONC_PSHARED multiprocessing's.
 *
 * The value itself is the futex word, so acquire is one CAS when the value is positive and
 * sleepers wait for exactly the word they need to change. A separate count of sleepers lets
 * release skip the wake-up syscall when nobody waits; the count and the value are a Dekker pair
 * (the waiter raises the count then reads the value, the releaser raises the value then reads the
 * count), so both sides use sequentially consistent operations and at least one sees the other.
 *
 * Bounded release is one CAS loop that adds all n units or none, so a release that would pass the
 * initial value fails with -EOVERFLOW without releasing anything (Python raises ValueError without
 * changing the value). An unbounded semaphore refuses to overflow the 32-bit word the same way. */
#include <limits.h>
#include "conc/time.h"
#include "../internal/sync.h"

int conc_sem_init(conc_sem_t *s, unsigned value, unsigned flags) {
    if (flags & ~(CONC_PSHARED | CONC_BOUNDED)) return -EINVAL;
    __atomic_store_n(&s->_priv.value, value, __ATOMIC_RELAXED);
    __atomic_store_n(&s->_priv.waiters, 0, __ATOMIC_RELAXED);
    s->_priv.initial = value;
    s->_priv.flags = flags;
    return 0;
}

static inline bool try_take(uint32_t *v) {
    uint32_t c = __atomic_load_n(v, __ATOMIC_SEQ_CST);
    while (c > 0)
        if (__atomic_compare_exchange_n(v, &c, c - 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return true;
    return false;
}

int conc_sem_acquire(conc_sem_t *s, double timeout) {
    uint32_t *v = &s->_priv.value, *waiters = &s->_priv.waiters;
    if (conc__likely(try_take(v))) return 0;
    if (timeout == 0) return -ETIMEDOUT;
    bool shared = s->_priv.flags & CONC_PSHARED;
    double deadline = conc_deadline(timeout);
    __atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    int r;
    for (;;) {
        if (try_take(v)) {
            r = 0;
            break;
        }
        r = conc__spin_until_changed(v, 0) ? 0 : conc__wait(v, 0, deadline, shared);
        if (r < 0) break;
    }
    __atomic_sub_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    /* A release may have woken us just as we gave up: hand the wake-up to another sleeper. */
    if (r < 0 && __atomic_load_n(v, __ATOMIC_SEQ_CST) > 0 &&
        __atomic_load_n(waiters, __ATOMIC_SEQ_CST) > 0)
        conc__futex_wake(v, 1, shared);
    return r;
}

int conc_sem_release(conc_sem_t *s, unsigned n) {
    if (n == 0) return -EINVAL; /* Python: ValueError("n must be one or more") */
    uint32_t *v = &s->_priv.value;
    uint32_t limit = (s->_priv.flags & CONC_BOUNDED) ? s->_priv.initial : UINT32_MAX;
    uint32_t c = __atomic_load_n(v, __ATOMIC_SEQ_CST);
    do {
        if (c > limit || n > limit - c) return -EOVERFLOW;
    } while (!__atomic_compare_exchange_n(v, &c, c + n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    if (__atomic_load_n(&s->_priv.waiters, __ATOMIC_SEQ_CST) > 0)
        conc__futex_wake(v, n > INT_MAX ? INT_MAX : (int)n, s->_priv.flags & CONC_PSHARED);
    return 0;
}

unsigned conc_sem_value(conc_sem_t *s) {
    return __atomic_load_n(&s->_priv.value, __ATOMIC_ACQUIRE);
}
