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

/* Start fn(arg) in a new thread; *t receives a handle to release with conc_thread_release.
 * opts NULL (or opts->name NULL or ""): generated name "Thread-N", N counting from 1 for the whole
 * process (as in Python). opts NULL: the daemon flag is inherited from the creating thread (the
 * main thread is non-daemon); opts given: opts->daemon. The name is also given to the OS (its first
 * 15 characters), so top -H, ps -L and gdb show it. -EINVAL, -ENOMEM, -EAGAIN (no more threads). */
CONC_API int conc_thread_start(conc_thread_t **t, conc_thread_fn fn, void *arg,
                               const conc_thread_opts_t *opts);
/* Wait until the thread's function has returned (or it called pthread_exit); *result (if not NULL)
 * receives fn's return value. -ETIMEDOUT, -EDEADLK (joining yourself), -EINTR (SIGINT in the main
 * thread after conc_init), -EINVAL (a dummy thread cannot be joined, as in Python). */
CONC_API int conc_thread_join(conc_thread_t *t, double timeout, void **result);
/* True from conc_thread_start until the function returns. */
CONC_API bool conc_thread_is_alive(conc_thread_t *t);
CONC_API bool conc_thread_is_daemon(conc_thread_t *t);
CONC_API const char *conc_thread_name(conc_thread_t *t);
/* threading.get_ident(): the pthread_t, as an integer. May be reused once the thread is gone. */
CONC_API uint64_t conc_thread_ident(conc_thread_t *t);
/* threading.get_native_id(): the kernel's thread id (gettid(), /proc/self/task/<id>). */
CONC_API pid_t conc_thread_native_id(conc_thread_t *t);
/* The calling thread's object; never NULL (short of memory). Works in the main thread and in
 * threads conc did not start, which get a "Dummy-N" object (daemon, as Python's _DummyThread) that
 * leaves the registry when that thread exits. The pointer is borrowed: do not release it. */
CONC_API conc_thread_t *conc_thread_current(void);
/* The main thread, named "MainThread" (borrowed). In a fork child, the thread that forked. */
CONC_API conc_thread_t *conc_thread_main(void);
/* Live threads, as threading.active_count(): the main thread, started threads that have not
 * finished, and dummies of foreign threads that called conc_thread_current(). */
CONC_API size_t conc_thread_active_count(void);
/* Returns the total number of live threads; fills out[] with up to cap of them. The pointers are
 * borrowed: valid while that thread is alive (or while you hold its handle from start). */
CONC_API size_t conc_thread_enumerate(conc_thread_t **out, size_t cap);
/* Drop the handle from conc_thread_start; the thread runs on. Does nothing for borrowed pointers
 * to the main thread or to dummies. */
CONC_API void conc_thread_release(conc_thread_t *t);

/* threading.Timer: fn(arg) runs after delay seconds (<= 0: at once) in a thread of its own, named
 * "Thread-N" and non-daemon unless the creating thread is a daemon, unless cancelled first. */
CONC_API int conc_timer_start(conc_timer_t **t, double delay, void (*fn)(void *), void *arg);
/* Returns 0. If the timer had not fired yet, fn never runs; later, it does nothing. Does not wait
 * for a running fn: conc_timer_join does. */
/* 0: fn will never run; -EALREADY: it had already started (or finished). */
CONC_API int conc_timer_cancel(conc_timer_t *t);
/* Wait for the timer's thread to end (after fn ran, or soon after a cancel). -ETIMEDOUT, -EINTR. */
CONC_API int conc_timer_join(conc_timer_t *t, double timeout);
/* Free the handle; a timer that was not cancelled still fires. */
CONC_API void conc_timer_release(conc_timer_t *t);

/* Join every non-daemon thread (repeatedly, as threads may start threads), except the caller and
 * the main thread. Also runs at exit(), registered by conc_init or the first conc_thread_start.
 * 0, or -EINTR if a SIGINT interrupts it in the main thread (call it again to carry on). */
CONC_API int conc_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
