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
 * Single-threaded processes: glibc's pthread_mutex drops the x86 `lock` prefix while the process
 * has one thread (__libc_single_threaded), which halves an uncontended lock+unlock (7 ns vs 15 ns
 * here). A private Lock does the same: an unprefixed cmpxchg is still atomic with respect to signal
 * handlers on the one CPU running the only thread, and pthread_create (which clears the flag) is a
 * full barrier, so a thread started later sees every earlier store. Shared locks never take this
 * path (other processes), nor do sanitizer builds (TSan must see every synchronising access). */
#include <math.h>
#include "conc/time.h"
#include "../internal/sync.h"

#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define CONC__ST_LOCK 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#undef CONC__ST_LOCK
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#undef CONC__ST_LOCK
#endif
#endif

#ifdef CONC__ST_LOCK
/* cmpxchg without `lock`: atomic on this CPU only, which is all one thread needs. */
static inline uint32_t st_cmpxchg(uint32_t *w, uint32_t expected, uint32_t desired) {
    uint32_t prev;
    __asm__ __volatile__("cmpxchgl %2, %1"
                         : "=a"(prev), "+m"(*w)
                         : "r"(desired), "0"(expected)
                         : "memory", "cc");
    return prev;
}
#define single_threaded(l) (__libc_single_threaded && !((l)->_priv.flags & CONC_PSHARED))
#else
#define single_threaded(l) false
#endif

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

int conc_lock_acquire(conc_lock_t *l, double timeout) {
#ifdef CONC__ST_LOCK
    if (single_threaded(l) && st_cmpxchg(&l->_priv.word, 0, 1) == 0) return 0;
#endif
    uint32_t me = lock_me(l), c = 0;
    if (conc__likely(conc__cas(&l->_priv.word, &c, me))) return 0;
    if (timeout == 0) return conc__mutex_poll_slow(&l->_priv.word, me, lock_how(l, true));
    return conc__mutex_lock_slow(&l->_priv.word, me, conc_deadline(timeout), lock_how(l, true));
}

int conc_lock_release(conc_lock_t *l) {
#ifdef CONC__ST_LOCK
    if (single_threaded(l)) {
        uint32_t c = conc__load_rlx(&l->_priv.word), prev;
        while ((prev = st_cmpxchg(&l->_priv.word, c, 0)) != c) c = prev;
        if (c == 0) return -EPERM;
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
