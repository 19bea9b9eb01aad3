/* conc/loop.h - the event loop (asyncio's BaseEventLoop): epoll, a timer heap, callbacks.
 * One loop per thread; conc_loop_current() is the loop running in the calling thread. */
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

CONC_API conc_loop_t *conc_loop_new(void);
CONC_API void conc_loop_free(conc_loop_t *loop);
CONC_API int conc_loop_run(conc_loop_t *loop); /* run_forever until conc_loop_stop */
CONC_API int conc_loop_run_until_complete(conc_loop_t *loop, conc_future_t *f);
CONC_API void conc_loop_stop(conc_loop_t *loop);
CONC_API double conc_loop_time(conc_loop_t *loop); /* the clock of conc_monotonic() */
CONC_API conc_loop_t *conc_loop_current(void);     /* NULL outside a running loop */
CONC_API conc_handle_t *conc_call_soon(conc_loop_t *loop, void (*cb)(void *), void *arg);
CONC_API conc_handle_t *conc_call_soon_threadsafe(conc_loop_t *loop, void (*cb)(void *), void *arg);
CONC_API conc_handle_t *conc_call_later(conc_loop_t *loop, double delay, void (*cb)(void *),
                                        void *arg);
CONC_API conc_handle_t *conc_call_at(conc_loop_t *loop, double when, void (*cb)(void *), void *arg);
CONC_API void conc_handle_cancel(conc_handle_t *h);

#ifdef __cplusplus
}
#endif
#endif
