/* Tasks inside: the task struct, and the park/wake protocol the awaiting functions (src/task) and
 * the async primitives (src/aio) are built on.
 *
 * Threads: a task runs only in the thread running its loop, and everything below is touched only
 * there, except `refs` and `finished` (atomics), which other threads read or change through
 * conc_task_release, conc_task_cancel and done-callbacks hopping back to the loop.
 *
 * Parking. A task suspends with conc__task_park: it records how it can be detached, switches to
 * the loop, and returns the code its waker passed to conc__task_wake. A waker (a primitive handing
 * over a lock, a done-callback) calls conc__task_wake on the loop thread; it is ignored unless the
 * task is parked, so a late or duplicate wake-up is harmless. Cancellation (conc_task_cancel) and
 * the park deadline call the park's detach function, which unlinks the waiter from whatever holds
 * it and says what happened (conc__detach_t). */
#ifndef CONC_INTERNAL_TASK_H
#define CONC_INTERNAL_TASK_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include "conc/task.h"
#include "base.h"
#include "../task/fiber.h"

enum {
    CONC__T_NEW,     /* spawned, its first step scheduled */
    CONC__T_READY,   /* woken, its next step scheduled */
    CONC__T_RUNNING, /* on the CPU */
    CONC__T_PARKED,  /* suspended in conc__task_park */
    CONC__T_DONE,    /* fn returned; the stack is gone */
};

typedef enum {
    CONC__DETACHED,  /* unlinked: wake the task now with the reason (-ECANCELED, -ETIMEDOUT) */
    CONC__FORWARDED, /* the cancellation was passed on (to an awaited task, to gather's children):
                        the task stays parked and its waker will wake it */
    CONC__MISSED,    /* too late, a wake-up is on its way: the cancellation waits for the next
                        suspension point (must_cancel) */
} conc__detach_t;

/* why: -ECANCELED (the task is being cancelled) or -ETIMEDOUT (the park deadline passed: must
 * return CONC__DETACHED). Runs on the loop thread with the task parked. */
typedef conc__detach_t (*conc__detach_fn)(conc_task_t *t, void *arg, int why);

struct conc__timeout_link; /* a timeout scope (timeout.c) */

struct conc_task {
    struct conc__fiber fiber;
    conc_loop_t *loop;
    conc_future_t *fut; /* the task's outcome; one reference held by the task */
    conc_task_fn fn;
    void *arg;
    void *ret;           /* what fn returned */
    int error;           /* conc_task_error's code */
    uint32_t refs;       /* the handle, the runtime until done, in-flight callbacks */
    uint32_t finished;   /* atomic: set once DONE, for other threads */
    uint8_t state;       /* CONC__T_* */
    bool must_cancel;    /* cancel at the next suspension point */
    bool cancel_seen;    /* a suspension returned -ECANCELED and uncancel was not called */
    unsigned cancelling; /* cancel requests not uncancelled (asyncio's cancelling()) */
    uint64_t id;         /* "Task-<id>" when unnamed */
    char *name;          /* malloc'd; NULL: generated on demand into gen_name */
    char gen_name[24];
    /* parking */
    conc__detach_fn detach;
    void *detach_arg;
    void *token;          /* what it waits for: lets a late wake-up check it is still wanted */
    int wake_code;        /* what conc__task_park returns */
    conc_handle_t *timer; /* the park deadline, or the step already scheduled */
    bool timer_is_step;   /* timer is a scheduled step (a wake), not a deadline */
    struct conc__timeout_link *timeouts; /* open timeout scopes, innermost first */
    /* the loop's list of live tasks (conc_run cancels the leftovers) */
    struct conc_task *prev, *next;
};

/* This thread's running task, NULL on the loop's own stack. */
CONC_HIDDEN extern __thread conc_task_t *conc__task_running;

/* Suspend the running task until conc__task_wake, the deadline (absolute, conc_monotonic clock;
 * INFINITY: none; <= now: the next iteration, as call_soon), or a cancellation; detach may be NULL
 * (nothing to unlink, a cancellation always ends the park). Returns the wake code, -ETIMEDOUT or
 * -ECANCELED. A pending must_cancel is taken first: the park then ends at once with -ECANCELED
 * if detach says CONC__DETACHED. Does not touch cancel_seen: callers decide (conc__task_saw). */
CONC_HIDDEN int conc__task_park(double deadline, conc__detach_fn detach, void *arg, void *token);
/* Wake a parked task with code (loop thread only); its next step runs from the ready queue.
 * Returns false (and does nothing) if the task is not parked. */
CONC_HIDDEN bool conc__task_wake(conc_task_t *t, int code);
/* After a suspension returned r: a -ECANCELED marks the task (the C cancellation rule); a pending
 * must_cancel turns r into -ECANCELED when take_pending (awaits that can lose their result do so
 * as asyncio's; primitives that were granted something keep it and leave it for the next park). */
CONC_HIDDEN int conc__task_saw(conc_task_t *t, int r, bool take_pending);

/* Run t until it parks or ends (then finish it), from a loop callback on the loop's own stack.
 * When it returns, other tasks t handed over to may have run, and later iterations too. */
CONC_HIDDEN void conc__task_run(conc_task_t *t);
/* The loop callback of a scheduled step (t->timer is its handle). */
CONC_HIDDEN void conc__task_step(void *t);
/* After the last switch of a task that returned: complete its future, free its stack. */
CONC_HIDDEN void conc__task_finish(conc_task_t *t);

CONC_HIDDEN void conc__task_retain(conc_task_t *t);
CONC_HIDDEN void conc__task_unref(conc_task_t *t);

/* Cancel what a future stands for: the task behind it (a request, as Task.cancel) or the future
 * itself. Any thread. */
CONC_HIDDEN bool conc__cancel_future(conc_future_t *f);
/* The task whose future f is, with a reference the caller releases; NULL for other futures. */
CONC_HIDDEN conc_task_t *conc__task_of(conc_future_t *f);
CONC_HIDDEN int conc__registry_add(conc_task_t *t);
CONC_HIDDEN void conc__registry_remove(conc_task_t *t);

/* Per loop: live tasks, for cancelling the leftovers when it is freed. */
struct conc__sched {
    conc_task_t *head;
    size_t ntasks;
};
CONC_HIDDEN struct conc__sched *conc__sched_of(conc_loop_t *loop);
/* Cancel every live task of the loop and run it until they have all finished. */
CONC_HIDDEN void conc__sched_cancel_all(conc_loop_t *loop);

/* Timeout scopes still open when their task ends have their timers cancelled (timeout.c). */
CONC_HIDDEN void conc__timeouts_task_done(conc_task_t *t);

#endif
