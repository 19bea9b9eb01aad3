/* conc/loop.h - the event loop (asyncio's BaseEventLoop): epoll, a timer heap, callbacks.
 * One loop per thread; conc_loop_current() is the loop running in the calling thread.
 *
 * Threads. A loop belongs to the thread running it. conc_call_soon, conc_call_later, conc_call_at
 * and conc_handle_cancel are for that thread (from callbacks and tasks), or for whoever sets the
 * loop up while no thread runs it. From any other thread use conc_call_soon_threadsafe (cheap: no
 * lock, and a wake-up only if the loop sleeps) or conc_loop_stop, which is thread-safe too. (As a
 * safety net, conc_call_soon/_later/_at called from another thread while the loop runs take the
 * thread-safe path.) conc_loop_free waits for other threads still inside a thread-safe call on the
 * loop, but none may start one once it is called.
 *
 * Order. Each iteration runs the callbacks that were ready when it began - ready ones in the order
 * they were scheduled, then timers that came due, oldest deadline first, in call order for equal
 * deadlines - and what those schedule waits for the next iteration, so callbacks that re-schedule
 * themselves never starve timers or I/O (asyncio's _run_once). Thread-safe calls from one thread
 * keep their order. Timers never fire early: a callback scheduled at `when` runs only once
 * conc_loop_time() >= when.
 *
 * Handles. The loop owns every handle and frees it, so fire-and-forget callers need do nothing.
 * A handle is valid until its callback returns, or until it is cancelled; after that the pointer
 * must not be used (the loop recycles it). conc_handle_cancel on a valid handle stops a pending
 * callback from running; called from inside the handle's own callback it does nothing. Cancelling
 * twice, or after the callback returned, is undefined: to cancel a timer that may have fired, have
 * its callback clear the pointer you keep. conc_handle_cancel is for the loop's thread only (a
 * handle from conc_call_soon_threadsafe may already be running or freed by the time the call
 * returns in another thread); to cancel from elsewhere, conc_call_soon_threadsafe a callback that
 * does it. The call functions return NULL on failure with errno set: EINVAL (NULL loop or cb, NaN
 * time), ENOMEM. */
#ifndef CONC_LOOP_H
#define CONC_LOOP_H

#include <stdbool.h>
#include "conc/error.h"
#include "conc/future.h"

typedef struct conc_loop conc_loop_t;
typedef struct conc_handle conc_handle_t;

#ifdef __cplusplus
extern "C" {
#endif

CONC_API conc_loop_t *conc_loop_new(void); /* NULL with errno set on failure */
/* Frees the loop and drops pending callbacks and timers without running them. The loop must not
 * be running (a running loop is left alone). */
CONC_API void conc_loop_free(conc_loop_t *loop);
/* run_forever until conc_loop_stop: 0; -EBUSY if this thread already runs a loop (this one from a
 * callback, or another) or another thread runs this one. In the main thread after conc_init, a
 * SIGINT ends the run with -EINTR (KeyboardInterrupt; consumed) and what was ready stays queued;
 * loops in other threads are never interrupted. */
CONC_API int conc_loop_run(conc_loop_t *loop);
/* Run until f is done and return its result code: 0, its error, -ECANCELED; -EAGAIN if the loop
 * was stopped before f completed; -EBUSY and -EINTR as conc_loop_run. f may complete in any
 * thread. */
CONC_API int conc_loop_run_until_complete(conc_loop_t *loop, conc_future_t *f);
/* Stop after the current iteration (before it runs: after one iteration). Any thread. */
CONC_API void conc_loop_stop(conc_loop_t *loop);
CONC_API double conc_loop_time(conc_loop_t *loop); /* the clock of conc_monotonic() */
CONC_API conc_loop_t *conc_loop_current(void);     /* NULL outside a running loop */
CONC_API conc_handle_t *conc_call_soon(conc_loop_t *loop, void (*cb)(void *), void *arg);
CONC_API conc_handle_t *conc_call_soon_threadsafe(conc_loop_t *loop, void (*cb)(void *), void *arg);
/* delay and when in seconds on conc_loop_time()'s clock; a past time runs in the next iteration. */
CONC_API conc_handle_t *conc_call_later(conc_loop_t *loop, double delay, void (*cb)(void *),
                                        void *arg);
CONC_API conc_handle_t *conc_call_at(conc_loop_t *loop, double when, void (*cb)(void *), void *arg);
CONC_API void conc_handle_cancel(conc_handle_t *h);

#ifdef __cplusplus
}
#endif
#endif
