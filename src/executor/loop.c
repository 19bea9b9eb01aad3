/* The loop's executor: asyncio's run_in_executor, to_thread and the default executor.
 *
 * The default executor is a thread pool of min(32, cores + 4) threads, created the first time a
 * loop needs it and shut down (waiting for its threads) when the loop is freed, after the loop's
 * tasks have been cancelled - asyncio.run's order.
 *
 * What a task awaits is not the pool's future but a second one chained to it, as asyncio's
 * wrap_future does: a cancelled await must end at once, while a pool future whose work started
 * refuses cancellation (concurrent.futures). The outcome is copied across when the pool future
 * completes; cancelling the chained one tries to cancel the pool's (which only succeeds if the
 * work has not started). The chained future holds the pool future, so a bytes result stays valid
 * as long as either is held. */
#include <errno.h>
#include <stdlib.h>
#include "conc/task.h"
#include "../internal/future.h"
#include "../internal/loop.h"
#include "executor.h"

struct loop_exec {
    conc_executor_t *ex;
    bool owned;
};

/* in src/task/sched.c */
CONC_HIDDEN void conc__sched_cancel_all(conc_loop_t *loop);

static void on_loop_free(conc_loop_t *loop, void *arg) {
    struct loop_exec *le = arg;
    conc__sched_cancel_all(loop);
    if (le->owned) conc_executor_free(le->ex);
    *conc__loop_slot(loop, CONC__LOOP_SLOT_EXEC) = NULL;
    free(le);
}

static struct loop_exec *state_of(conc_loop_t *loop) {
    void **slot = conc__loop_slot(loop, CONC__LOOP_SLOT_EXEC);
    if (*slot) return *slot;
    struct loop_exec *le = calloc(1, sizeof *le);
    if (!le) return NULL;
    if (conc__loop_on_free(loop, on_loop_free, le) < 0) {
        free(le);
        return NULL;
    }
    *slot = le;
    return le;
}

static int default_executor(conc_loop_t *loop, conc_executor_t **ex) {
    struct loop_exec *le = state_of(loop);
    if (!le) return -ENOMEM;
    if (!le->ex) {
        int r = conc_thread_pool_new(&le->ex, 0);
        if (r < 0) return r;
        le->owned = true;
    }
    *ex = le->ex;
    return 0;
}

int conc_loop_set_default_executor(conc_loop_t *loop, conc_executor_t *ex) {
    if (!loop || !ex) return -EINVAL;
    struct loop_exec *le = state_of(loop);
    if (!le) return -ENOMEM;
    if (le->owned) conc_executor_free(le->ex);
    le->ex = ex;
    le->owned = false;
    return 0;
}

static void release_src(void *value, void *ctx) {
    (void)value;
    conc_future_release(ctx);
}

static void copy_outcome(conc_future_t *src, void *arg) {
    conc_future_t *dst = arg;
    void *v;
    int r = conc_future_result(src, &v);
    if (r == 0)
        conc_future_set_result(dst, v);
    else if (r == -ECANCELED)
        conc_future_cancel(dst);
    else
        conc_future_set_error(dst, r);
    conc_future_release(dst);
}

static void cancel_src(conc_future_t *dst, void *arg) {
    if (conc_future_cancelled(dst)) conc_future_cancel(arg);
}

/* Takes over the caller's reference to src. */
static int chain(conc_future_t *src, conc_future_t **out) {
    conc_future_t *dst = conc_future_new();
    if (!dst) {
        conc_future_release(src);
        return -ENOMEM;
    }
    conc__future_set_dtor(dst, release_src, src);
    int r = conc_future_add_done_callback(dst, cancel_src, src);
    if (r == 0) {
        conc_future_retain(dst);
        r = conc_future_add_done_callback(src, copy_outcome, dst);
        if (r < 0) conc_future_release(dst);
    }
    if (r < 0) {
        conc_future_cancel(src);
        conc_future_release(dst);
        return r;
    }
    *out = dst;
    return 0;
}

int conc_loop_run_in_executor(conc_loop_t *loop, conc_executor_t *ex, conc_work_fn fn,
                              const void *arg, size_t len, conc_future_t **f) {
    if (!loop || !fn || !f) return -EINVAL;
    *f = NULL;
    int r = ex ? 0 : default_executor(loop, &ex);
    if (r < 0) return r;
    conc_future_t *src;
    r = conc_executor_submit(ex, fn, arg, len, &src);
    if (r < 0) return r;
    return chain(src, f);
}

int conc_to_thread(void *(*fn)(void *), void *arg, void **result) {
    if (result) *result = NULL;
    conc_loop_t *loop = conc_loop_current();
    if (!loop || !conc_task_current()) return -EPERM;
    if (!fn) return -EINVAL;
    conc_executor_t *ex;
    int r = default_executor(loop, &ex);
    if (r < 0) return r;
    conc_future_t *src, *f;
    if ((r = conc__thread_pool_call(ex, fn, arg, &src)) < 0) return r;
    if ((r = chain(src, &f)) < 0) return r;
    r = conc_await(f, result);
    conc_future_release(f);
    return r;
}
