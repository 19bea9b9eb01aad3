/* conc/executor.h - concurrent.futures: thread pools, process pools, and an MPI pool beyond one
 * machine, behind one executor interface, with the one future type of conc/future.h.
 *
 * Work is a function from bytes to bytes, so the same submit/map/as_completed code runs on
 * threads, on processes (arguments and results travel over a Pipe) or on MPI ranks. A process or
 * MPI pool finds the function by the name CONC_WORK registered it under, as a spawned child finds
 * a CONC_TARGET; a thread pool runs any function.
 *
 * Arguments are copied at submit: the caller may reuse its buffer at once. A future's result is a
 * conc_bytes_t * that the future owns (freed with its last reference); its error is the work's
 * negative return code, CONC_EBROKEN if the worker running it died (a process pool replaces the
 * worker and keeps serving everything else: CPython's Pool hangs there and ProcessPoolExecutor
 * breaks the whole pool), or -ECANCELED. As in concurrent.futures, a future whose work has started
 * cannot be cancelled (conc_future_cancel returns false). */
#ifndef CONC_EXECUTOR_H
#define CONC_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include "conc/bytes.h"
#include "conc/error.h"
#include "conc/future.h"
#include "conc/loop.h"
#include "conc/process.h"

typedef struct conc_executor conc_executor_t;
/* Work takes bytes and produces bytes; out->data is malloc'd by the work (or NULL). Returns 0 or a
 * negative code. out starts as {NULL, 0}. */
typedef int (*conc_work_fn)(const void *arg, size_t len, conc_bytes_t *out);

/* CONC_WORK(fn) at file scope registers fn under the name "fn" before main runs (a constructor, as
 * CONC_TARGET), so process and MPI workers - the same binary - find it by name. */
#define CONC_WORK(fn)                                                                              \
    __attribute__((constructor)) static void conc__register_work_##fn(void) {                      \
        conc_work_register(#fn, fn);                                                               \
    }

typedef struct {
    conc_start_method_t method;   /* CONC_START_DEFAULT: the process-wide default */
    unsigned max_tasks_per_child; /* 0: workers live as long as the pool */
    const char *initializer;      /* a CONC_WORK name run once in each new worker, or NULL */
} conc_pool_opts_t;

#ifdef __cplusplus
extern "C" {
#endif

/* The work registry: -EEXIST for a name already taken (by another function), -EINVAL. */
CONC_API int conc_work_register(const char *name, conc_work_fn fn);
CONC_API conc_work_fn conc_work_find(const char *name); /* NULL if unknown */
CONC_API const char *conc_work_name(conc_work_fn fn);   /* NULL if fn is not registered */

/* workers 0: min(32, cores + 4). Threads start on demand, up to workers. */
CONC_API int conc_thread_pool_new(conc_executor_t **ex, unsigned workers);
/* workers 0: the number of cores. opts NULL: defaults. Workers are daemon processes started with
 * opts->method; a worker whose initializer fails breaks the pool (CONC_EBROKEN for what is
 * pending and for later submits, as BrokenProcessPool). */
CONC_API int conc_process_pool_new(conc_executor_t **ex, unsigned workers,
                                   const conc_pool_opts_t *opts);
/* -ENOENT if a process/MPI pool gets an unregistered fn; CONC_ECLOSED after shutdown. */
CONC_API int conc_executor_submit(conc_executor_t *ex, conc_work_fn fn, const void *arg, size_t len,
                                  conc_future_t **f);
/* fs[i] for args[i]; chunksize 0 or 1: one task per argument, else (process and MPI pools) that
 * many arguments travel and run together, each with its own future. All or nothing: on an error no
 * future is returned. */
CONC_API int conc_executor_map(conc_executor_t *ex, conc_work_fn fn, const conc_bytes_t *args,
                               size_t n, size_t chunksize, conc_future_t **fs);
/* The next future of fs to be done, each once, in the order they finish (those already done
 * first): 0 and *index; -ETIMEDOUT; CONC_ECLOSED once all were reported (that iteration then ends,
 * and the next call starts a new one). An iteration is (fs, n) in the calling thread; a thread may
 * interleave up to 4 of them, the least recently used is dropped past that. -EINTR as usual. */
CONC_API int conc_as_completed(conc_future_t *const *fs, size_t n, double timeout, size_t *index);
/* Stop accepting work (CONC_ECLOSED from then on); cancel_futures: cancel what has not started;
 * wait: return once every started work is done and the workers are gone. Calling it again may
 * wait for what an earlier call did not. */
CONC_API int conc_executor_shutdown(conc_executor_t *ex, bool wait, bool cancel_futures);
/* shutdown(wait = true) if not done yet, then free. Futures stay valid (they are counted). */
CONC_API void conc_executor_free(conc_executor_t *ex);

/* asyncio's loop.run_in_executor: ex NULL is the loop's default thread pool, created on first use
 * with min(32, cores + 4) workers and shut down when the loop is freed. The future it returns can
 * be awaited by a task of any loop; cancelling it (or the awaiting task) gives -ECANCELED at once,
 * while work that already started runs on in its thread, as in asyncio. */
CONC_API int conc_loop_run_in_executor(conc_loop_t *loop, conc_executor_t *ex, conc_work_fn fn,
                                       const void *arg, size_t len, conc_future_t **f);
/* asyncio.to_thread, from a task: run fn(arg) on the running loop's default thread pool and await
 * it; *result gets what fn returned. -ECANCELED if the task is cancelled meanwhile (fn runs on),
 * -EPERM outside a task. */
CONC_API int conc_to_thread(void *(*fn)(void *), void *arg, void **result);
/* The loop's default executor (loop.set_default_executor): the loop does not own ex. */
CONC_API int conc_loop_set_default_executor(conc_loop_t *loop, conc_executor_t *ex);

/* ---- for executor backends (conc-mpi, or your own pool) ----
 * A backend runs tasks; the library does the rest (closing, arguments, futures, map chunks). The
 * futures it gets are fresh, pending, and owned by the library and the caller; the backend calls
 * conc_work_start before running one (false: it was cancelled, skip it) and conc_work_finish once
 * it has the outcome. */
typedef struct {
    /* Run fn (name: its CONC_WORK name, NULL for a thread-style backend) on args[0..n-1], which
     * are copied and stay valid until each future completes. 0 or a negative code (then no future
     * was touched). */
    int (*submit)(void *impl, conc_work_fn fn, const char *name, const conc_bytes_t *args, size_t n,
                  conc_future_t *const *fs);
    /* After the library stopped accepting: cancel pending futures if cancel_futures, stop the
     * workers, and if wait, return once they are gone. */
    int (*shutdown)(void *impl, bool wait, bool cancel_futures);
    void (*free)(void *impl); /* after a waiting shutdown */
    bool by_name;             /* work must be registered (-ENOENT otherwise) */
} conc_executor_ops_t;
CONC_API int conc_executor_new(conc_executor_t **ex, const conc_executor_ops_t *ops, void *impl);
CONC_API bool conc_work_start(conc_future_t *f);
/* Complete with rc < 0 (data is freed) or with the result data/len (taken over: malloc'd or NULL;
 * freed if the future was cancelled meanwhile). */
CONC_API void conc_work_finish(conc_future_t *f, int rc, void *data, size_t len);
/* A backend whose results arrive faster when the waiting thread fetches them itself (conc-mpi: a
 * thread polling MPI answers in about a microsecond, handing the result over from a progress
 * thread costs a wake-up of tens). Set on a future in submit, before anyone else sees it:
 * - enter(ctx): called with the future's lock held while it is pending, before wait or watch;
 *   must not block (count a user, so that the backend is not freed under it).
 * - wait(ctx, f, deadline): conc_future_wait calls it on a pending f; it may complete futures
 *   and returns 0 once f is done, -EINTR if conc_check_interrupt() said so meanwhile (a stream of
 *   results must not hold off a KeyboardInterrupt; conc_future_wait returns it), or anything else
 *   to fall back to the ordinary sleep (the backend then sees to it that someone else completes
 *   f).
 * - watch(ctx, f): a done-callback was added to the pending f (as_completed, a loop awaiting it):
 *   nobody may come to wait, so f must progress without help.
 * wait and watch end the use that enter began. */
typedef struct conc_work_waiter {
    void (*enter)(void *ctx);
    int (*wait)(void *ctx, conc_future_t *f, double deadline);
    void (*watch)(void *ctx, conc_future_t *f);
} conc_work_waiter_t;
CONC_API void conc_work_set_waiter(conc_future_t *f, const conc_work_waiter_t *w, void *ctx);

/* MPI pool, in the optional library conc-mpi (pkg-config conc-mpi), built when Open MPI is found.
 * Static mode, as mpi4py.futures' MPICommExecutor: the program runs under `mpirun -n N`; rank 0
 * returns from conc_mpi_init and drives the pool of ranks 1..N-1, which serve work inside
 * conc_mpi_init and exit when rank 0 shuts the pool down. Spawn mode (opts.spawn > 0) starts
 * workers with MPI_Comm_spawn from a plain (singleton) run. */
CONC_API int conc_mpi_init(int *argc, char ***argv); /* call right after conc_init */
typedef struct {
    unsigned spawn;
} conc_mpi_opts_t;
/* opts NULL or spawn 0: the static pool of ranks 1..N-1 (once per run: CONC_ECLOSED after its
 * shutdown, -ECHILD in a run without worker ranks); -EPERM before conc_mpi_init. A worker rank
 * that dies fails its task with CONC_EBROKEN (detected for ranks on the driver's host) and the
 * pool goes on with the others; run mpirun with --enable-recovery so the job survives it
 * (docs/executors.md). */
CONC_API int conc_mpi_pool_new(conc_executor_t **ex, const conc_mpi_opts_t *opts);

#ifdef __cplusplus
}
#endif
#endif
