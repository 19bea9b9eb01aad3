/* conc/thread.h - threading.Thread, Timer, and exit-time joining.
 *
 * Exit semantics, as in Python: when main returns or exit() is called (after conc_init, or once
 * conc has started a thread), every non-daemon thread is joined first; daemon threads are abandoned
 * and die with the process. Threads that conc starts block SIGINT, SIGTERM, SIGTSTP and SIGQUIT so
 * that asynchronous signals reach the main thread. */
#ifndef CONC_THREAD_H
#define CONC_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "conc/error.h"
#include "conc/time.h"

typedef struct conc_thread conc_thread_t;
typedef struct conc_timer conc_timer_t;
typedef void *(*conc_thread_fn)(void *arg);

typedef struct {
    const char *name;  /* NULL: "Thread-N" */
    bool daemon;       /* daemon threads do not keep the process alive */
    size_t stack_size; /* 0: the system default */
} conc_thread_opts_t;

#ifdef __cplusplus
extern "C" {
#endif

/* opts NULL: generated name "Thread-N", daemon flag inherited from the creating thread. */
CONC_API int conc_thread_start(conc_thread_t **t, conc_thread_fn fn, void *arg,
                               const conc_thread_opts_t *opts);
/* -ETIMEDOUT, -EDEADLK (joining yourself), -EINTR (SIGINT in the main thread) */
CONC_API int conc_thread_join(conc_thread_t *t, double timeout, void **result);
CONC_API bool conc_thread_is_alive(conc_thread_t *t);
CONC_API bool conc_thread_is_daemon(conc_thread_t *t);
CONC_API const char *conc_thread_name(conc_thread_t *t);
CONC_API uint64_t conc_thread_ident(conc_thread_t *t);
CONC_API pid_t conc_thread_native_id(conc_thread_t *t);
/* Works in the main thread and in threads conc did not start ("Dummy-N", daemon). */
CONC_API conc_thread_t *conc_thread_current(void);
CONC_API conc_thread_t *conc_thread_main(void); /* named "MainThread" */
CONC_API size_t conc_thread_active_count(void);
/* Returns the total number of live threads; fills out[] with up to cap of them (borrowed). */
CONC_API size_t conc_thread_enumerate(conc_thread_t **out, size_t cap);
CONC_API void conc_thread_release(conc_thread_t *t); /* drop this handle; the thread runs on */

/* threading.Timer: fn(arg) runs after delay seconds in a thread of its own unless cancelled. */
CONC_API int conc_timer_start(conc_timer_t **t, double delay, void (*fn)(void *), void *arg);
CONC_API int conc_timer_cancel(conc_timer_t *t);
CONC_API void conc_timer_release(conc_timer_t *t);

/* Join every non-daemon thread (repeatedly, as threads may start threads). Also runs at exit(). */
CONC_API int conc_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
