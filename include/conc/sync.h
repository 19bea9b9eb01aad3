/* conc/sync.h - threading.Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier.
 *
 * Caller-allocated structs with a static initializer (process-private) or an _init(ptr, flags).
 * With CONC_PSHARED, and placed in memory shared between processes (MAP_SHARED, conc_shm), each one
 * is the multiprocessing equivalent. Everything lives in the struct itself: no pointers, so a
 * primitive works wherever the shared mapping lands in each process. Fields under _priv are not API.
 *
 * Blocking calls take a timeout in seconds (negative: forever; 0: poll) and return -ETIMEDOUT when
 * it runs out; in the main thread they return -EINTR on SIGINT (see conc/signal.h). */
#ifndef CONC_SYNC_H
#define CONC_SYNC_H

#include <stdbool.h>
#include <stdint.h>
#include "conc/error.h"
#include "conc/time.h"

#define CONC_PSHARED 0x1u /* usable between processes when placed in shared memory */
#define CONC_BOUNDED 0x2u /* conc_sem_init: a BoundedSemaphore */

/* Lock: no owner, any thread (or process) may release it, as threading.Lock. */
typedef struct {
    struct {
        uint32_t word; /* futex word: 0 free, else 1 (pshared: owner pid) | waiters bit */
        uint32_t flags;
    } _priv;
} conc_lock_t;
#define CONC_LOCK_INIT                                                                             \
    {                                                                                              \
        { 0, 0 }                                                                                   \
    }

/* RLock: owned by one thread, re-entrant. */
typedef struct {
    struct {
        uint32_t word;  /* futex word: owner tid | waiters bit */
        uint32_t count; /* recursion depth, touched only by the owner */
        uint32_t flags;
    } _priv;
} conc_rlock_t;
#define CONC_RLOCK_INIT                                                                            \
    {                                                                                              \
        { 0, 0, 0 }                                                                                \
    }

typedef struct {
    struct {
        uint32_t value;   /* futex word */
        uint32_t waiters; /* threads sleeping in acquire */
        uint32_t initial; /* the bound of a BoundedSemaphore */
        uint32_t flags;
    } _priv;
} conc_sem_t;
/* clang-format off */
#define CONC_SEM_INIT(n)         {{(n), 0, (n), 0}}
#define CONC_BOUNDED_SEM_INIT(n) {{(n), 0, (n), CONC_BOUNDED}} /* threading.BoundedSemaphore(n) */
/* clang-format on */

/* Condition: owns an RLock unless conc_cond_init_with gave it a Lock. The external lock is found by
 * its offset from the condition, so both must live in the same mapping when shared. */
typedef struct {
    struct {
        conc_rlock_t own;
        int64_t lock_off; /* 0: use own; else (char *)lock - (char *)cond */
        uint32_t seq;     /* futex word: bumped by every notify that grants wake-ups */
        uint32_t nwait;   /* waiters registered (under the lock) */
        uint32_t tokens;  /* wake-ups granted, not yet consumed (under the lock) */
        uint32_t flags;
        uint32_t sleepers; /* waiters inside the futex sleep, so notify can skip the syscall */
    } _priv;
} conc_cond_t;
#define CONC_COND_INIT                                                                             \
    {                                                                                              \
        { CONC_RLOCK_INIT, 0, 0, 0, 0, 0, 0 }                                                      \
    }

typedef struct {
    struct {
        uint32_t word;    /* futex word: generation << 1 | flag (set() starts a new generation) */
        uint32_t waiters; /* threads sleeping in wait */
        uint32_t flags;
    } _priv;
} conc_event_t;
#define CONC_EVENT_INIT                                                                            \
    {                                                                                              \
        { 0, 0, 0 }                                                                                \
    }

/* Barrier: threading.Barrier. With CONC_PSHARED the action runs in whichever process arrives last,
 * so it must be a function at the same address there (fork), or NULL. */
typedef struct {
    struct {
        conc_lock_t lock;
        conc_cond_t cond; /* uses lock */
        int (*action)(void *);
        void *arg;
        uint32_t parties;
        uint32_t count; /* threads in wait() */
        int32_t state;  /* 0 filling, 1 draining, -1 resetting, -2 broken */
        uint32_t flags;
    } _priv;
} conc_barrier_t;

#ifdef __cplusplus
extern "C" {
#endif

CONC_API int conc_lock_init(conc_lock_t *l, unsigned flags);
/* 0 | -ETIMEDOUT | -EINTR | CONC_EOWNERDEAD (pshared: acquired, and the previous owner died) */
CONC_API int conc_lock_acquire(conc_lock_t *l, double timeout);
CONC_API int conc_lock_release(conc_lock_t *l); /* -EPERM if not locked */
CONC_API bool conc_lock_locked(conc_lock_t *l);

CONC_API int conc_rlock_init(conc_rlock_t *r, unsigned flags);
CONC_API int conc_rlock_acquire(conc_rlock_t *r, double timeout);
CONC_API int conc_rlock_release(conc_rlock_t *r); /* -EPERM if the caller is not the owner */

CONC_API int conc_sem_init(conc_sem_t *s, unsigned value, unsigned flags);
CONC_API int conc_sem_acquire(conc_sem_t *s, double timeout);
/* bounded: -EOVERFLOW past the initial value, and nothing is released */
CONC_API int conc_sem_release(conc_sem_t *s, unsigned n);
CONC_API unsigned conc_sem_value(conc_sem_t *s);

CONC_API int conc_cond_init(conc_cond_t *c, unsigned flags);
CONC_API int conc_cond_init_with(conc_cond_t *c, conc_lock_t *lock);
CONC_API int conc_cond_acquire(conc_cond_t *c, double timeout);
CONC_API int conc_cond_release(conc_cond_t *c);
/* -EPERM if the lock is not held; re-acquires before returning, also on timeout and -EINTR */
CONC_API int conc_cond_wait(conc_cond_t *c, double timeout);
/* 0 once pred(arg) is true, -ETIMEDOUT otherwise */
CONC_API int conc_cond_wait_for(conc_cond_t *c, bool (*pred)(void *), void *arg, double timeout);
CONC_API int conc_cond_notify(conc_cond_t *c, unsigned n); /* -EPERM if the lock is not held */
CONC_API int conc_cond_notify_all(conc_cond_t *c);         /* -EPERM if the lock is not held */

CONC_API int conc_event_init(conc_event_t *e, unsigned flags);
CONC_API void conc_event_set(conc_event_t *e);
CONC_API void conc_event_clear(conc_event_t *e);
CONC_API bool conc_event_is_set(conc_event_t *e);
CONC_API int conc_event_wait(conc_event_t *e, double timeout); /* 0 once set, -ETIMEDOUT */

/* parties == 0 is -EINVAL; an action returning non-zero breaks the barrier (the last arriver runs it) */
CONC_API int conc_barrier_init(conc_barrier_t *b, unsigned parties, int (*action)(void *),
                               void *arg, unsigned flags);
/* >= 0: arrival index 0..parties-1; CONC_EBROKEN. A timeout breaks the barrier for everyone: the
 * thread whose timeout expired gets -ETIMEDOUT, the others CONC_EBROKEN. */
CONC_API int conc_barrier_wait(conc_barrier_t *b, double timeout);
CONC_API int conc_barrier_reset(conc_barrier_t *b); /* waiters get CONC_EBROKEN; usable again */
CONC_API void conc_barrier_abort(conc_barrier_t *b);
CONC_API unsigned conc_barrier_parties(conc_barrier_t *b);
CONC_API unsigned conc_barrier_n_waiting(conc_barrier_t *b);
CONC_API bool conc_barrier_broken(conc_barrier_t *b);

#ifdef __cplusplus
}
#endif
#endif
