/* Lock: threading.Lock, and with CONC_PSHARED multiprocessing.Lock.
 *
 * One futex word (see mutex.c): acquire is one CAS when free, release one exchange, and a syscall
 * happens only when somebody sleeps. The lock has no owner in Python's sense - any thread or
 * process may release it - but a shared lock records the holder's pid in the word anyway: it costs
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
    uint32_t me = lock_me(l), c = 0;
    if (conc__likely(conc__cas(&l->_priv.word, &c, me))) return 0;
    return conc__mutex_lock_slow(&l->_priv.word, me, deadline, lock_how(l, intr));
}

/* Out of line, so that the fast path below needs no stack frame. */
__attribute__((noinline)) static int acquire_more(conc_lock_t *l, double timeout) {
    uint32_t me = lock_me(l), c = 0;
    if (conc__cas(&l->_priv.word, &c, me)) return 0; /* shared: the pid is known only here */
    if (timeout == 0) return conc__mutex_poll_slow(&l->_priv.word, me, lock_how(l, true));
    return conc__mutex_lock_slow(&l->_priv.word, me, conc_deadline(timeout), lock_how(l, true));
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

int conc_lock_release(conc_lock_t *l) {
#ifdef CONC__ST_LOCK
    if (__libc_single_threaded && !(l->_priv.flags & CONC_PSHARED)) {
        uint32_t c = conc__load_rlx(&l->_priv.word);
        if (c == 0) return -EPERM;
        conc__store(&l->_priv.word, 0u);
        /* A thread can have slept on the word only before the process became single-threaded. */
        if (conc__unlikely(c & CONC__MUTEX_WAITERS)) conc__futex_wake(&l->_priv.word, 1, false);
        return 0;
    }
#endif
    bool shared = l->_priv.flags & CONC_PSHARED;
    return conc__mutex_unlock(&l->_priv.word, shared) ? 0 : -EPERM;
}

bool conc_lock_locked(conc_lock_t *l) {
    return conc__load(&l->_priv.word) != 0;
}
