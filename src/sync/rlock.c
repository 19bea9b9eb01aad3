/* RLock: threading.RLock, and with CONC_PSHARED multiprocessing.RLock.
 *
 * The futex word of mutex.c holding the owner's kernel tid, which is unique across processes, so
 * the same word serves a shared RLock. The recursion count is touched only by the owner: checking
 * "am I the owner" is a relaxed load comparing the word with our own tid (nobody else ever writes
 * our tid there), so re-entry costs no atomic read-modify-write at all.
 *
 * While the process has one thread, a private RLock takes and drops the word with plain loads and
 * stores, as a private Lock does (lock.c says why that is safe): no other thread can race for it.
 *
 * A shared RLock is recovered when its owning thread dies (not only its process), as a robust
 * pthread mutex is: an RLock is owned by a thread, and a thread that vanished can never release. */
#include <math.h>
#include "conc/time.h"
#include "../internal/sync.h"

int conc_rlock_init(conc_rlock_t *r, unsigned flags) {
    if (flags & ~CONC_PSHARED) return -EINVAL;
    __atomic_store_n(&r->_priv.word, 0, __ATOMIC_RELAXED);
    r->_priv.count = 0;
    r->_priv.flags = flags;
    return 0;
}

static inline unsigned rlock_how(conc_rlock_t *r, bool intr) {
    return ((r->_priv.flags & CONC_PSHARED) ? CONC__M_SHARED : 0u) | (intr ? CONC__M_INTR : 0u);
}

static inline bool single_threaded(conc_rlock_t *r) {
#ifdef CONC__ST_LOCK
    return __libc_single_threaded && !(r->_priv.flags & CONC_PSHARED);
#else
    (void)r;
    return false;
#endif
}

/* Out of line, so that the fast paths below need no stack frame. */
__attribute__((noinline)) static int acquire_slow(conc_rlock_t *r, uint32_t me, double timeout) {
    int rc;
    if (timeout == 0)
        rc = conc__mutex_poll_slow(&r->_priv.word, me, rlock_how(r, true));
    else
        rc = conc__mutex_lock_slow(&r->_priv.word, me, conc_deadline(timeout), rlock_how(r, true));
    if (rc < 0 && rc != CONC_EOWNERDEAD) return rc;
    r->_priv.count = 1;
    return rc;
}

int conc_rlock_acquire(conc_rlock_t *r, double timeout) {
    uint32_t me = (uint32_t)conc__self_tid();
    uint32_t c = conc__load_rlx(&r->_priv.word);
    if ((c & ~CONC__MUTEX_WAITERS) == me) {
        if (conc__unlikely(r->_priv.count == UINT32_MAX)) return -EOVERFLOW;
        r->_priv.count++;
        return 0;
    }
    if (c == 0) {
        if (single_threaded(r))
            __atomic_store_n(&r->_priv.word, me, __ATOMIC_RELAXED);
        else if (!conc__cas(&r->_priv.word, &c, me))
            return acquire_slow(r, me, timeout);
        r->_priv.count = 1;
        return 0;
    }
    return acquire_slow(r, me, timeout);
}

bool conc__rlock_is_owned(conc_rlock_t *r) {
    uint32_t c = conc__load_rlx(&r->_priv.word);
    return c != 0 && (c & ~CONC__MUTEX_WAITERS) == (uint32_t)conc__self_tid();
}

int conc_rlock_release(conc_rlock_t *r) {
    if (!conc__rlock_is_owned(r)) return -EPERM;
    if (--r->_priv.count > 0) return 0;
    if (single_threaded(r)) {
        uint32_t c = conc__load_rlx(&r->_priv.word);
        conc__store(&r->_priv.word, 0u);
        /* A thread can have slept on the word only before the process became single-threaded. */
        if (conc__unlikely(c & CONC__MUTEX_WAITERS)) conc__futex_wake(&r->_priv.word, 1, false);
        return 0;
    }
    conc__mutex_unlock(&r->_priv.word, r->_priv.flags & CONC_PSHARED);
    return 0;
}

uint32_t conc__rlock_release_save(conc_rlock_t *r) {
    uint32_t count = r->_priv.count;
    r->_priv.count = 0;
    conc__mutex_unlock(&r->_priv.word, r->_priv.flags & CONC_PSHARED);
    return count;
}

int conc__rlock_acquire_restore(conc_rlock_t *r, uint32_t count) {
    uint32_t me = (uint32_t)conc__self_tid(), c = 0;
    int rc = 0;
    if (!conc__cas(&r->_priv.word, &c, me))
        rc = conc__mutex_lock_slow(&r->_priv.word, me, INFINITY, rlock_how(r, false));
    r->_priv.count = count;
    return rc;
}
