/* Lock: threading.Lock, and with CONC_PSHARED multiprocessing.Lock.
 *
 * One futex word: acquire is one CAS when free, and a syscall happens only when somebody sleeps. A
 * private Lock's release is a plain store of its lock byte (lock_wait.c, which has its contended
 * path); a shared Lock uses the mutex word of mutex.c, released with one exchange, because the
 * barrier that makes the plain store safe reaches only our own process. The lock has no owner in
 * Python's sense - any thread or process may release it - but a shared lock records the holder's
 * pid in the word anyway: it costs
 * nothing (the same CAS stores it) and lets waiters recover the lock when that process is killed
 * while holding it (CONC_EOWNERDEAD). The process, not the thread, is the owner that counts: a
 * thread that exits holding a Lock is ordinary Python (another thread may release it). A shared
 * Lock handed to another process to release, whose acquirer then exits, would be taken over too:
 * for multiprocessing locks that is the behaviour one wants.
 *
 * Single-threaded processes: glibc's pthread_mutex takes and drops a lock with a plain load and
 * store while the process has one thread (__libc_single_threaded), which more than halves an
 * uncontended lock+unlock (about 5 ns against 15 ns here), and a private Lock does the same. No
 * other thread exists to race with; pthread_create clears the flag before the new thread runs and
 * is a full barrier, so that thread sees every earlier store; the flag never comes back while
 * threads exist. (Signal handlers must not take a Lock anyway, as with pthread mutexes.) Shared
 * locks never take this path (other processes), nor do TSan builds, which must see atomics. */
#include <math.h>
#include "conc/time.h"
#include "../internal/sync.h"

int conc_lock_init(conc_lock_t *l, unsigned flags) {
    if (flags & ~CONC_PSHARED) return -EINVAL;
    __atomic_store_n(&l->_priv.word, 0, __ATOMIC_RELAXED);
    l->_priv.flags = flags;
    return 0;
}

static inline uint32_t lock_me(conc_lock_t *l) {
    return (l->_priv.flags & CONC_PSHARED) ? (uint32_t)conc__self_pid() : 1u;
}

static inline unsigned lock_how(conc_lock_t *l, bool intr) {
    bool shared = l->_priv.flags & CONC_PSHARED;
    return (shared ? CONC__M_SHARED | CONC__M_PROCESS : 0u) | (intr ? CONC__M_INTR : 0u);
}

int conc__lock_acquire_until(conc_lock_t *l, double deadline, bool intr) {
    if (!(l->_priv.flags & CONC_PSHARED)) {
        uint32_t c = 0;
        if (conc__likely(conc__cas(&l->_priv.word, &c, 1u))) return 0;
        return conc__lock_wait(&l->_priv.word, deadline, intr);
    }
    uint32_t me = lock_me(l), c = 0;
    if (conc__likely(conc__cas(&l->_priv.word, &c, me))) return 0;
    return conc__mutex_lock_slow(&l->_priv.word, me, deadline, lock_how(l, intr));
}

/* Out of line, so that the fast path below needs no stack frame. */
__attribute__((noinline)) static int acquire_more(conc_lock_t *l, double timeout) {
    uint32_t *w = &l->_priv.word;
    if (!(l->_priv.flags & CONC_PSHARED)) {
        /* the word may be non-zero only because waiters are counted in it: try before the clock */
        if (conc__lock_try(w)) return 0;
        if (timeout == 0) return -ETIMEDOUT;
        return conc__lock_wait(w, conc_deadline(timeout), true);
    }
    uint32_t me = lock_me(l), c = 0;
    if (conc__cas(w, &c, me)) return 0; /* shared: the pid is known only here */
    if (timeout == 0) return conc__mutex_poll_slow(w, me, lock_how(l, true));
    return conc__mutex_lock_slow(w, me, conc_deadline(timeout), lock_how(l, true));
}

/* A private lock: one CAS from free to held. */
static inline bool take_private(conc_lock_t *l) {
#ifdef CONC__ST_LOCK
    if (__libc_single_threaded) {
        if (conc__load(&l->_priv.word) != 0) return false;
        __atomic_store_n(&l->_priv.word, 1u, __ATOMIC_RELAXED);
        return true;
    }
#endif
    uint32_t c = 0;
    return conc__cas(&l->_priv.word, &c, 1u);
}

int conc_lock_acquire(conc_lock_t *l, double timeout) {
    if (conc__likely(!(l->_priv.flags & CONC_PSHARED) && take_private(l))) return 0;
    return acquire_more(l, timeout);
}

/* A private lock: clear the lock byte with a plain store (lock_wait.c says why that is safe), then
 * wake a waiter if any is counted and none is already on its way. Reading the word first costs
 * nothing (the line is ours) and gives -EPERM for a free lock. Two threads releasing one
 * acquisition at the same moment may then both succeed: a race in the caller, which the exchange
 * used before would have reported to one of them. */
static inline int release_private(uint32_t *w) {
    uint32_t c = conc__load_rlx(w);
    if (conc__unlikely(!(c & CONC__LK_HELD))) return -EPERM;
    if (conc__likely(__atomic_load_n(&conc__lock_byte_store, __ATOMIC_RELAXED))) {
        __atomic_store_n(conc__lock_byte(w), 0, __ATOMIC_RELEASE);
        c = conc__load_rlx(w);
    } else {
        __atomic_exchange_n(conc__lock_byte(w), 0, __ATOMIC_SEQ_CST);
        c = __atomic_load_n(w, __ATOMIC_SEQ_CST);
    }
    if (conc__unlikely(c >= CONC__LK_ONE && !(c & CONC__LK_WAKING))) conc__lock_wake(w);
    return 0;
}

int conc_lock_release(conc_lock_t *l) {
    if (conc__likely(!(l->_priv.flags & CONC_PSHARED))) return release_private(&l->_priv.word);
    return conc__mutex_unlock(&l->_priv.word, true) ? 0 : -EPERM;
}

bool conc_lock_locked(conc_lock_t *l) {
    uint32_t c = conc__load(&l->_priv.word);
    return (l->_priv.flags & CONC_PSHARED) ? c != 0 : (c & CONC__LK_HELD) != 0;
}
