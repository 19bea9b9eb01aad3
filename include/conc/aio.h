/* conc/aio.h - async primitives for tasks (asyncio.Lock, Event, Condition, Semaphore,
 * BoundedSemaphore, Queue, LifoQueue, PriorityQueue).
 *
 * They suspend the calling task (conc/task.h), never the thread, and belong to one loop's thread:
 * use them from tasks of one loop (to reach them from another thread, conc_call_soon_threadsafe a
 * callback or spawn a task there). Blocking calls take a timeout in seconds like every blocking call
 * in conc (negative: forever, 0: poll once) and return 0, -ETIMEDOUT, -ECANCELED when the task is
 * cancelled while waiting, or -EPERM outside a task.
 *
 * Cancellation-safe: a task cancelled (or timed out) while waiting holds nothing and loses nothing -
 * it is unlinked, the lock is not acquired, the item stays in the queue. What is handed over is
 * handed over directly (a released lock, a put item, a notification go to the first waiter), and a
 * waiter that was handed something keeps it even if a cancellation arrives before it runs again:
 * the call returns 0 and the cancellation is delivered at the task's next suspension point.
 * Waiters are served first come, first served.
 *
 * Structs are caller-allocated with a static initializer or an _init; the queue is opaque. */
#ifndef CONC_AIO_H
#define CONC_AIO_H

#include <stdbool.h>
#include <stddef.h>
#include "conc/error.h"
#include "conc/sync.h" /* CONC_BOUNDED */
#include "conc/task.h"

/* The list of tasks waiting on a primitive. */
typedef struct {
    void *head, *tail;
} conc_awaiters_t;
#define CONC_AWAITERS_INIT                                                                         \
    { NULL, NULL }

#ifdef __cplusplus
extern "C" {
#endif

/* asyncio.Lock: not reentrant; any task may release it. */
typedef struct {
    struct {
        bool locked;
        conc_awaiters_t waiters;
    } _priv;
} conc_alock_t;
#define CONC_ALOCK_INIT                                                                            \
    {                                                                                              \
        { false, CONC_AWAITERS_INIT }                                                              \
    }
CONC_API int conc_alock_init(conc_alock_t *l);
CONC_API int conc_alock_acquire(conc_alock_t *l, double timeout);
CONC_API int conc_alock_release(conc_alock_t *l); /* -EPERM if not locked */
CONC_API bool conc_alock_locked(conc_alock_t *l);

/* asyncio.Event */
typedef struct {
    struct {
        bool set;
        conc_awaiters_t waiters;
    } _priv;
} conc_aevent_t;
#define CONC_AEVENT_INIT                                                                           \
    {                                                                                              \
        { false, CONC_AWAITERS_INIT }                                                              \
    }
CONC_API int conc_aevent_init(conc_aevent_t *e);
CONC_API void conc_aevent_set(conc_aevent_t *e); /* wakes every waiter */
CONC_API void conc_aevent_clear(conc_aevent_t *e);
CONC_API bool conc_aevent_is_set(conc_aevent_t *e);
CONC_API int conc_aevent_wait(conc_aevent_t *e, double timeout);

/* asyncio.Condition: its own lock, or a shared one (conc_acond_init_with). */
typedef struct {
    struct {
        conc_alock_t own;
        conc_alock_t *lock;
        conc_awaiters_t waiters;
    } _priv;
} conc_acond_t;
CONC_API int conc_acond_init(conc_acond_t *c);
CONC_API int conc_acond_init_with(conc_acond_t *c, conc_alock_t *lock);
CONC_API int conc_acond_acquire(conc_acond_t *c, double timeout);
CONC_API int conc_acond_release(conc_acond_t *c);
/* Release the lock, wait for a notify, re-acquire the lock - also after a timeout or a
 * cancellation, before returning (as asyncio). 0 when notified; -EPERM if the lock is not held. */
CONC_API int conc_acond_wait(conc_acond_t *c, double timeout);
/* Wait until pred(arg) is true: 0, or -ETIMEDOUT / -ECANCELED with pred still false. */
CONC_API int conc_acond_wait_for(conc_acond_t *c, bool (*pred)(void *), void *arg, double timeout);
CONC_API int conc_acond_notify(conc_acond_t *c, unsigned n); /* -EPERM if the lock is not held */
CONC_API int conc_acond_notify_all(conc_acond_t *c);

/* asyncio.Semaphore; flag CONC_BOUNDED: BoundedSemaphore. */
typedef struct {
    struct {
        unsigned value, initial;
        bool bounded;
        conc_awaiters_t waiters;
    } _priv;
} conc_asem_t;
#define CONC_ASEM_INIT(n)                                                                          \
    {                                                                                              \
        { (n), (n), false, CONC_AWAITERS_INIT }                                                    \
    }
CONC_API int conc_asem_init(conc_asem_t *s, unsigned value, unsigned flags);
CONC_API int conc_asem_acquire(conc_asem_t *s, double timeout);
/* Bounded: -EOVERFLOW past the initial value (asyncio's ValueError), and nothing is released. */
CONC_API int conc_asem_release(conc_asem_t *s);
CONC_API unsigned conc_asem_value(conc_asem_t *s);
CONC_API bool conc_asem_locked(conc_asem_t *s); /* no permit left */

/* asyncio.Queue / LifoQueue / PriorityQueue of pointers. The queue owns no item: what is put is
 * what get returns. PRIORITY: smallest first by cmp (equal ones in put order); cmp is required. */
typedef struct conc_aqueue conc_aqueue_t;
typedef enum { CONC_AQUEUE_FIFO = 0, CONC_AQUEUE_LIFO, CONC_AQUEUE_PRIORITY } conc_aqueue_kind_t;
typedef struct {
    size_t maxsize; /* 0: unbounded */
    conc_aqueue_kind_t kind;
    int (*cmp)(const void *a, const void *b);
} conc_aqueue_opts_t;
/* NULL opts: an unbounded FIFO. -EINVAL (PRIORITY without cmp), -ENOMEM. */
CONC_API int conc_aqueue_new(conc_aqueue_t **q, const conc_aqueue_opts_t *opts);
/* Wait while full: -ETIMEDOUT (QueueFull with timeout 0). On any error the item was not put. */
CONC_API int conc_aqueue_put(conc_aqueue_t *q, void *item, double timeout);
/* Wait while empty: -ETIMEDOUT (QueueEmpty with timeout 0); *item is set only on 0. */
CONC_API int conc_aqueue_get(conc_aqueue_t *q, void **item, double timeout);
CONC_API size_t conc_aqueue_qsize(conc_aqueue_t *q);
CONC_API bool conc_aqueue_empty(conc_aqueue_t *q);
CONC_API bool conc_aqueue_full(conc_aqueue_t *q);
/* One item put earlier is fully processed. -EOVERFLOW if called more often than items were put. */
CONC_API int conc_aqueue_task_done(conc_aqueue_t *q);
/* Wait until every item put has been task_done. */
CONC_API int conc_aqueue_join(conc_aqueue_t *q, double timeout);
/* Free the queue (no task may be waiting on it); the items still in it are the caller's. */
CONC_API void conc_aqueue_free(conc_aqueue_t *q);

#ifdef __cplusplus
}
#endif
#endif
