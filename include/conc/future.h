/* conc/future.h - one future for threads, executors and the event loop.
 *
 * Python needs two (concurrent.futures.Future and asyncio.Future, bridged by wrap_future); here one
 * thread-safe type serves all: a plain thread blocks in conc_future_wait, a task suspends in
 * conc_await (conc/task.h), and a future completed from any thread wakes whoever waits for it.
 * Futures are reference counted: conc_future_new returns one reference. */
#ifndef CONC_FUTURE_H
#define CONC_FUTURE_H

#include <stdbool.h>
#include "conc/error.h"
#include "conc/time.h"

typedef struct conc_future conc_future_t;

#ifdef __cplusplus
extern "C" {
#endif

CONC_API conc_future_t *conc_future_new(void);
CONC_API int conc_future_set_result(conc_future_t *f, void *value); /* -EINVAL if already done */
CONC_API int conc_future_set_error(conc_future_t *f, int err);      /* err < 0; -EINVAL if done */
CONC_API bool conc_future_cancel(conc_future_t *f);                 /* false if already done */
CONC_API bool conc_future_done(conc_future_t *f);
CONC_API bool conc_future_cancelled(conc_future_t *f);
/* 0 and *value, the stored error, -ECANCELED, or -EAGAIN if not done */
CONC_API int conc_future_result(conc_future_t *f, void **value);
/* Block a plain thread until done: 0, -ETIMEDOUT, -EINTR (SIGINT in the main thread). */
CONC_API int conc_future_wait(conc_future_t *f, double timeout);
CONC_API int conc_future_add_done_callback(conc_future_t *f, void (*cb)(conc_future_t *, void *),
                                           void *arg);
CONC_API void conc_future_retain(conc_future_t *f);
CONC_API void conc_future_release(conc_future_t *f); /* reference counted */

#ifdef __cplusplus
}
#endif
#endif
