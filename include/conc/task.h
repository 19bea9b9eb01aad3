/* conc/task.h - tasks (asyncio.Task) as stackful coroutines, and awaiting.
 *
 * A task runs a plain C function on its own stack, in the thread running its loop. Any function it
 * calls, however deep, may suspend it with conc_await / conc_sleep / the async primitives of
 * conc/aio.h: there is no `async` colouring. Suspending saves a few registers and switches to the
 * loop (a few nanoseconds); the loop resumes the task when what it waits for is done.
 *
 * Stacks. Each task gets an mmap'd stack of CONC_TASK_STACK_DEFAULT (256 KiB) usable bytes unless
 * conc_task_opts_t.stack_size says otherwise (rounded up to whole pages, at least 16 KiB). Memory is
 * committed only as the stack is touched: a task sleeping in a shallow frame costs about one page.
 * Below each stack is an inaccessible guard region; running into it stops the process with
 * "conc: task 'NAME' overflowed its N-byte stack" on stderr (SIGABRT) instead of corrupting memory.
 * Freed stacks are kept in a small per-thread cache.
 *
 * Lifetime. conc_task_spawn returns a handle; the runtime keeps the task itself alive until its
 * function returns, whether or not the handle is still held (a task is never collected mid-flight,
 * unlike asyncio's weakly referenced ones, CPython gh-88831). conc_task_release drops the handle.
 *
 * Threads. Task functions (spawn, cancel, uncancel, await, ...) are for the loop's own thread.
 * conc_task_spawn and conc_task_cancel also work from other threads (they hop to the loop with
 * conc_call_soon_threadsafe); the task's future may be waited for from any thread
 * (conc_future_wait), and conc_task_release may be called anywhere.
 *
 * Cancellation in C. conc_task_cancel asks a task to stop: the suspension point it is parked in
 * (or its next one) returns -ECANCELED. When a suspension returned -ECANCELED, the task ends
 * *cancelled* whatever its function returns, unless it called conc_task_uncancel(): C has no
 * exception to propagate, so an ignored return code must never swallow a cancellation (TaskGroup,
 * wait_for and timeout scopes depend on seeing it). A task cancelled before it first ran ends
 * cancelled without running. Cancel a task with conc_task_cancel, not conc_future_cancel on its
 * future: that only marks the future (the task runs on, its result is then dropped). */
#ifndef CONC_TASK_H
#define CONC_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include "conc/error.h"
#include "conc/future.h"
#include "conc/loop.h"

typedef struct conc_task conc_task_t;
typedef void *(*conc_task_fn)(void *arg);

#define CONC_TASK_STACK_DEFAULT (256u * 1024u)

typedef struct {
    const char *name;  /* copied; NULL: "Task-N" as asyncio */
    size_t stack_size; /* usable bytes; 0: CONC_TASK_STACK_DEFAULT */
} conc_task_opts_t;

#ifdef __cplusplus
extern "C" {
#endif

/* asyncio.create_task: schedule fn(arg) to run in loop (NULL: the loop running in this thread).
 * NULL with errno set: EINVAL (no loop, no fn), ENOMEM. */
CONC_API conc_task_t *conc_task_spawn(conc_loop_t *loop, conc_task_fn fn, void *arg,
                                      const conc_task_opts_t *opts);
/* The task's outcome: its function's return value, its conc_task_error code, or cancelled.
 * Borrowed from the task: valid while the handle is held (conc_future_retain to keep it longer). */
CONC_API conc_future_t *conc_task_future(conc_task_t *t);
/* Drop the handle; a running task runs on to its end. */
CONC_API void conc_task_release(conc_task_t *t);
/* `return conc_task_error(-EIO);` ends the running task with that error (err < 0; other values
 * become -EINVAL). -ECANCELED ends it cancelled. */
CONC_API void *conc_task_error(int err);
/* The running task handled a cancellation and goes on: it will not end cancelled because of an
 * earlier -ECANCELED, and its cancelling() count drops by one. */
CONC_API void conc_task_uncancel(void);
/* Ask t to cancel. false if it is already done. Repeated requests count (cancelling()). */
CONC_API bool conc_task_cancel(conc_task_t *t);
/* Pending cancellation requests: cancel() calls minus uncancel() calls (asyncio's cancelling()). */
CONC_API unsigned conc_task_cancelling(conc_task_t *t);
CONC_API conc_task_t *conc_task_current(void); /* NULL outside a task */
CONC_API bool conc_task_done(conc_task_t *t);
CONC_API const char *conc_task_name(conc_task_t *t);

/* asyncio.run: a new loop, main(arg) as its first task, then cancel the tasks still running and let
 * them finish, free the loop. Returns main's result code (0, its error, -ECANCELED) and its return
 * value in *result (may be NULL); -EBUSY if this thread already runs a loop, -ENOMEM. On a SIGINT
 * (main thread, after conc_init): main is cancelled and finishes its cleanup, then the other
 * tasks are cancelled and finish theirs, and the result is -EINTR (*result NULL). */
CONC_API int conc_run(conc_task_fn main, void *arg, void **result);

/* Suspend the running task until f is done: 0 and its value, its error, or -ECANCELED (f was
 * cancelled, or this task was). Cancelling a task that awaits cancels what it awaits: a task's
 * future asks that task to cancel and keeps waiting until it has finished (as asyncio); the await
 * then returns -ECANCELED even if that task handled the cancellation and returned a value (read
 * it from its future). An already done future returns at once, without switching and without
 * looking at pending cancellations. -EPERM outside a task, -EDEADLK for the task's own future. */
CONC_API int conc_await(conc_future_t *f, void **result);
/* Sleep at least `seconds` (never wakes early); 0 (or less) yields once to the other ready
 * callbacks and tasks. 0 or -ECANCELED; -EPERM outside a task. */
CONC_API int conc_sleep(double seconds);
/* conc_await with a timeout: on expiry f is cancelled (a task: asked to cancel, and waited for to
 * finish) and -ETIMEDOUT is returned. A cancellation of the caller is never swallowed (CPython
 * gh-86296): it returns -ECANCELED even if f completed at the same moment. An already done f
 * returns its outcome at once, whatever the timeout. timeout < 0: forever. */
CONC_API int conc_wait_for(conc_future_t *f, double timeout, void **result);
/* asyncio.gather over n futures (task futures included). Results are read from the futures
 * themselves afterwards (conc_future_result(fs[i], &v)).
 * return_errors false: returns 0 once all succeeded, or the first error (or -ECANCELED for a
 * cancelled one) as soon as it happens - the others keep running, as in asyncio.
 * return_errors true: waits for all and returns 0; each future holds its own outcome.
 * If the caller is cancelled, every unfinished future is cancelled, gather waits for them all,
 * and returns -ECANCELED. */
CONC_API int conc_gather(conc_future_t **fs, size_t n, bool return_errors);
/* asyncio.shield: a new future (one reference, release it) that completes as f does, but whose
 * cancellation - by conc_future_cancel or by cancelling a task awaiting it - does not reach f.
 * NULL with errno set on ENOMEM. */
CONC_API conc_future_t *conc_shield(conc_future_t *f);

/* asyncio.wait: wait until return_when holds, without cancelling anything. Returns how many of the
 * futures are done (see which with conc_future_done), -ETIMEDOUT if the timeout expired first (the
 * futures run on), -ECANCELED, -EINVAL. Named so as not to collide with multiprocessing's
 * conc_wait (conc/conn.h). */
enum { CONC_FIRST_COMPLETED = 1, CONC_FIRST_EXCEPTION = 2, CONC_ALL_COMPLETED = 3 };
CONC_API int conc_wait_futures(conc_future_t **fs, size_t n, double timeout, int return_when);

/* TaskGroup (asyncio.TaskGroup): structured concurrency for the running task (the parent).
 *
 *   conc_taskgroup_t *g;
 *   conc_taskgroup_new(&g);
 *   conc_taskgroup_spawn(g, fetch, url1, NULL, NULL);
 *   conc_taskgroup_spawn(g, fetch, url2, NULL, NULL);
 *   int r = conc_taskgroup_wait(g);   // the end of `async with`
 *   conc_taskgroup_free(g);
 *
 * The first child to fail (an error, not a cancellation) cancels its siblings and the parent's
 * current suspension (so the body stops waiting for other things); conc_taskgroup_wait returns
 * only once every child has finished - nothing is orphaned - and then returns 0, the first
 * child's error (conc_taskgroup_errors lists them all), or -ECANCELED if the parent itself is
 * being cancelled from outside (which also cancels the children). The group's own cancellation of
 * the parent is absorbed by wait. */
typedef struct conc_taskgroup conc_taskgroup_t;
CONC_API int conc_taskgroup_new(conc_taskgroup_t **g); /* -EPERM outside a task, -ENOMEM */
/* Spawn a child; *t (may be NULL) gets a handle borrowed from the group, valid until free.
 * CONC_ECLOSED once the group is shutting down (a child failed) or waited. */
CONC_API int conc_taskgroup_spawn(conc_taskgroup_t *g, conc_task_fn fn, void *arg,
                                  const conc_task_opts_t *opts, conc_task_t **t);
CONC_API int conc_taskgroup_wait(conc_taskgroup_t *g);
/* The children's errors in the order they happened: fills up to cap, returns how many there are. */
CONC_API size_t conc_taskgroup_errors(conc_taskgroup_t *g, int *errs, size_t cap);
/* Free the group (waiting first if conc_taskgroup_wait was not called). */
CONC_API void conc_taskgroup_free(conc_taskgroup_t *g);

/* Timeout scopes (asyncio.timeout):
 *
 *   conc_timeout_t to;
 *   conc_timeout_enter(&to, 1.5);
 *   int r = work();                      // its awaits return -ECANCELED if the scope expires
 *   int e = conc_timeout_exit(&to);      // -ETIMEDOUT if it did: the cancellation is absorbed
 *   if (e) r = e;
 *
 * Expiry cancels the running task. Exit returns -ETIMEDOUT if the scope expired and no other
 * cancellation is pending (the scope's own cancellation is absorbed: the task will not end
 * cancelled because of it), -ECANCELED if the task is being cancelled from elsewhere (that
 * propagates), 0 otherwise. Scopes nest; exit them in reverse order, in the task that entered
 * them. The struct may live on the task's stack; a scope left open is closed when its task ends. */
typedef struct {
    struct {
        void *node; /* the scope's state while entered (its timer must not point into a stack) */
        double when;
        int state;
    } _priv;
} conc_timeout_t;
/* delay < 0: no deadline (reschedule may set one). -EPERM outside a task. */
CONC_API int conc_timeout_enter(conc_timeout_t *to, double delay);
/* when: absolute, on conc_loop_time()'s clock; INFINITY (or < 0 delay above) for none */
CONC_API int conc_timeout_enter_at(conc_timeout_t *to, double when);
/* New deadline (absolute; INFINITY: none). -EINVAL once expired or exited. */
CONC_API int conc_timeout_reschedule(conc_timeout_t *to, double when);
CONC_API double conc_timeout_when(const conc_timeout_t *to);
CONC_API bool conc_timeout_expired(const conc_timeout_t *to);
CONC_API int conc_timeout_exit(conc_timeout_t *to);
/* A scope around one call: fn(arg)'s return value, or -ETIMEDOUT if the scope expired. */
CONC_API int conc_timeout_call(double delay, int (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
