/* Internal pieces of the sync module: the futex mutex word that Lock and RLock share, and the
 * hooks the Condition uses to fully release an RLock and restore it (Python's _release_save and
 * _acquire_restore) or to re-take a Lock without being interrupted.
 *
 * The mutex word: 0 free; else the holder's id (1 for a private Lock, the pid for a shared Lock, the
 * tid for an RLock) | CONC__MUTEX_WAITERS once a thread may be asleep on it. Ids fit in 22 bits
 * (pid_max <= 2^22), so the top bit is free for the waiters flag. */
#ifndef CONC_INTERNAL_SYNC_H
#define CONC_INTERNAL_SYNC_H

#include "conc/sync.h"
#include "base.h"

/* CONC__ST_LOCK: private locks may use plain loads and stores while the process has one thread
 * (see lock.c). Never under TSan, which must see the atomics. */
#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define CONC__ST_LOCK 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#undef CONC__ST_LOCK
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#undef CONC__ST_LOCK
#endif
#endif

#define CONC__MUTEX_WAITERS 0x80000000u

/* How a mutex waits: shared futex, interruptible by SIGINT, owner death judged per process (Lock)
 * or per thread (RLock). */
#define CONC__M_SHARED  0x1u
#define CONC__M_INTR    0x2u
#define CONC__M_PROCESS 0x4u

static inline void conc__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Before sleeping on a word another thread is about to change, spin for a few microseconds.
 * Sleeping and being woken costs tens of microseconds on these VMs (a cross-CPU wake-up), while a
 * partner running on another CPU answers an Event or a notify within one; this is what makes
 * ping-pong hand-offs far cheaper than the pthread condvar equivalent. Never on a single CPU, where
 * the partner cannot run while we spin. About 100 x 40 ns on the EPYC machines here. */
#define CONC__WAIT_SPINS 100
CONC_HIDDEN extern int conc__spin_ok;
static inline bool conc__spin_until_changed(uint32_t *word, uint32_t val) {
    if (!conc__spin_ok) return false;
    for (int i = 0; i < CONC__WAIT_SPINS; i++) {
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) return true;
        conc__cpu_relax();
    }
    return false;
}

/* The contended path: spin, then sleep until the deadline. 0 when acquired, CONC_EOWNERDEAD when
 * taken from a dead owner (shared only), -ETIMEDOUT, or -EINTR (with CONC__M_INTR). */
CONC_HIDDEN int conc__mutex_lock_slow(uint32_t *word, uint32_t me, double deadline, unsigned how);
/* One more try for a poll (timeout 0) that found the word held: 0 if it had become free,
 * CONC_EOWNERDEAD if the holder is dead (shared only), else -ETIMEDOUT. */
CONC_HIDDEN int conc__mutex_poll_slow(uint32_t *word, uint32_t me, unsigned how);

/* Release: returns the previous word (0 means it was not held, and nothing changed). */
static inline uint32_t conc__mutex_unlock(uint32_t *word, bool shared) {
    uint32_t old = __atomic_exchange_n(word, 0, __ATOMIC_ACQ_REL);
    if (conc__unlikely(old & CONC__MUTEX_WAITERS)) conc__futex_wake(word, 1, shared);
    return old;
}

/* Lock: acquire with an absolute deadline; intr false never returns -EINTR. */
CONC_HIDDEN int conc__lock_acquire_until(conc_lock_t *l, double deadline, bool intr);
/* Just the uncontended path of conc__lock_acquire_until for a process-shared Lock (one CAS): for
 * callers that read the clock for a deadline only once they must wait (src/queue). */
static inline bool conc__lock_try_shared(conc_lock_t *l) {
    uint32_t c = 0;
    return conc__cas(&l->_priv.word, &c, (uint32_t)conc__self_pid());
}

/* RLock, for the Condition: is the caller the owner; release every level, returning the depth;
 * re-acquire (never interrupted, no deadline) and restore the depth: 0 or CONC_EOWNERDEAD. */
CONC_HIDDEN bool conc__rlock_is_owned(conc_rlock_t *r);
CONC_HIDDEN uint32_t conc__rlock_release_save(conc_rlock_t *r);
CONC_HIDDEN int conc__rlock_acquire_restore(conc_rlock_t *r, uint32_t count);

/* Condition wait with an absolute deadline (Barrier and wait_for share one deadline). */
CONC_HIDDEN int conc__cond_wait_until(conc_cond_t *c, double deadline);

#endif
