/* conc/future.h - one future for threads, executors and the event loop.
 *
 * Python needs two (concurrent.futures.Future and asyncio.Future, bridged by wrap_future); here one
 * thread-safe type serves all: a plain thread blocks in conc_future_wait, a task suspends in
 * conc_await (conc/task.h), and a future completed from any thread wakes whoever waits for it.
 * Futures are reference counted: conc_future_new returns one reference. Every call needs a live
 * reference for its duration (the caller's own, or one it knows another holder keeps).
 *
 * A future completes exactly once: the first of set_result, set_error or cancel wins, later ones
 * fail (-EINVAL, or false for cancel), as asyncio's InvalidStateError.
 *
 * Done-callbacks: a plain callback runs where the future completes - in the thread that calls
 * set_result/set_error/cancel, after the outcome is visible and with no lock held - or at once, in
 * the caller of conc_future_add_done_callback, if the future is already done. Each runs exactly
 * once, in registration order for those registered before completion. A callback may add further
 * callbacks (they run at once), complete other futures, and release references, including the last
 * one of this future. (Unlike asyncio, a callback is not scheduled on a loop: a task awaiting a
 * future registers a callback that hands the wake-up to its own loop with
 * conc_call_soon_threadsafe when it is called from another thread.) */
#ifndef CONC_FUTURE_H
#define CONC_FUTURE_H

#include <stdbool.h>
#include "conc/error.h"
#include "conc/time.h"

typedef struct conc_future conc_future_t;

#ifdef __cplusplus
extern "C" {
#endif

CONC_API conc_future_t *conc_future_new(void);                      /* NULL on ENOMEM */
CONC_API int conc_future_set_result(conc_future_t *f, void *value); /* -EINVAL if already done */
CONC_API int conc_future_set_error(conc_future_t *f, int err);      /* err < 0; -EINVAL if done */
CONC_API bool conc_future_cancel(conc_future_t *f);                 /* false if already done */
CONC_API bool conc_future_done(conc_future_t *f);
CONC_API bool conc_future_cancelled(conc_future_t *f);
/* 0 and *value, the stored error, -ECANCELED, or -EAGAIN if not done (*value is then NULL).
 * value may be NULL. */
CONC_API int conc_future_result(conc_future_t *f, void **value);
/* Block a plain thread until done: 0, -ETIMEDOUT (also for a poll with timeout 0 of a pending
 * future), -EINTR (SIGINT in the main thread after conc_init). Not for tasks: they conc_await. */
CONC_API int conc_future_wait(conc_future_t *f, double timeout);
/* 0, or -ENOMEM (the callback is then not registered), -EINVAL for a NULL cb. */
CONC_API int conc_future_add_done_callback(conc_future_t *f, void (*cb)(conc_future_t *, void *),
                                           void *arg);
/* asyncio's remove_done_callback: unregister every (cb, arg) pair not yet run and return how many
 * were removed. 0 means none was registered, or the future completed and the callback has run or
 * is running now in the completing thread. */
CONC_API int conc_future_remove_done_callback(conc_future_t *f, void (*cb)(conc_future_t *, void *),
                                              void *arg);
CONC_API void conc_future_retain(conc_future_t *f);
/* Drop a reference; the last one frees the future, and callbacks never run are dropped. */
CONC_API void conc_future_release(conc_future_t *f);

#ifdef __cplusplus
}
#endif
#endif
