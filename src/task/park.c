/* Suspending and waking tasks, and cancellation requests (see internal/task.h).
 *
 * A wake schedules the task's next step with call_soon, as asyncio's __wakeup does, so a task
 * woken from inside another task or a callback runs after them, in order. The two wake-ups that
 * are loop callbacks of their own - a park deadline and a wake handed over from another thread -
 * resume the task directly from that callback, saving a trip through the ready queue.
 *
 * cancel follows Task.cancel: a parked task's wait is detached (or the cancellation forwarded to
 * what it awaits); a task that is not parked gets must_cancel, taken at its next suspension. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "conc/time.h"
#include "../internal/loop.h"
#include "../internal/task.h"

/* ---- running tasks, and switching straight from one to the next ----
 *
 * A task that parks would switch back to the loop's stack, whose next callback - often another
 * task's step - switches to that task: two switches per hand-over, and a trip through the loop's
 * iteration between batches. Instead, while the loop's stack waits inside a callback of its batch,
 * the parking task takes the next callback itself when it is a task step (conc__loop_peek, which
 * also starts the next iteration when the loop would just do that) and switches to that task
 * directly: the same callbacks run in the same order, from a different stack, for one switch. A
 * task that finds its own step next (it yielded and nothing else is ready) does not switch at all.
 * Anything else - another kind of callback, a stop, a poll or a sleep due - is the loop's. */
static void deadline_cb(void *arg);

void conc__task_run(conc_task_t *t) {
    struct conc__fiber *me = conc__fiber_thread();
    t->state = CONC__T_RUNNING;
    conc__task_running = t;
    conc__fiber_switch(me, &t->fiber);
    conc_task_t *back = conc__task_running; /* t, or a task t handed over to */
    conc__task_running = NULL;
    if (back->state == CONC__T_DONE) conc__task_finish(back);
}

void conc__task_step(void *arg) {
    conc_task_t *t = arg;
    t->timer = NULL;
    conc__task_run(t);
}

/* The task the next callback of the loop would resume, made ready to run here. */
static conc_task_t *take_next(conc_loop_t *loop) {
    if (!loop->in_batch) return NULL;
    conc_handle_t *n = conc__loop_peek(loop);
    if (!n) return NULL;
    conc_task_t *u = n->arg;
    if (n->cb == deadline_cb) {
        if (u->state != CONC__T_PARKED) return NULL;
        if (u->detach) u->detach(u, u->detach_arg, -ETIMEDOUT);
        u->wake_code = -ETIMEDOUT;
    } else if (n->cb != conc__task_step) {
        return NULL;
    }
    conc__loop_take(loop, n);
    u->timer = NULL;
    u->state = CONC__T_RUNNING;
    return u;
}

/* Leave the running task t (parked): for the next task, or for the loop. */
static void switch_away(conc_task_t *t) {
    conc_task_t *next = take_next(t->loop);
    if (next == t) return;
    if (next) {
        conc__task_running = next;
        conc__fiber_switch(&t->fiber, &next->fiber);
    } else {
        conc__fiber_switch(&t->fiber, conc__fiber_thread());
    }
}

static void schedule_step(conc_task_t *t) {
    t->timer = conc_call_soon(t->loop, conc__task_step, t);
    t->timer_is_step = true;
    /* Out of memory for a 56-byte handle inside the scheduler: the task could never run again. */
    if (!t->timer) abort();
}

bool conc__task_wake(conc_task_t *t, int code) {
    if (t->state != CONC__T_PARKED) return false;
    if (t->timer) conc_handle_cancel(t->timer); /* the deadline: it has not fired */
    t->wake_code = code;
    t->state = CONC__T_READY;
    schedule_step(t);
    return true;
}

/* The park deadline came (or, for a deadline already past, the next iteration). */
static void deadline_cb(void *arg) {
    conc_task_t *t = arg;
    t->timer = NULL;
    if (t->state != CONC__T_PARKED) return;
    if (t->detach) t->detach(t, t->detach_arg, -ETIMEDOUT);
    t->wake_code = -ETIMEDOUT;
    t->state = CONC__T_READY;
    conc__task_run(t);
}

int conc__task_park(double deadline, conc__detach_fn detach, void *arg, void *token) {
    conc_task_t *t = conc__task_running;
    if (!t) return -EPERM;
    t->detach = detach;
    t->detach_arg = arg;
    t->token = token;
    t->wake_code = 0;
    t->timer = NULL;
    if (t->must_cancel) {
        t->must_cancel = false;
        conc__detach_t d = detach ? detach(t, arg, -ECANCELED) : CONC__DETACHED;
        if (d == CONC__DETACHED) {
            t->detach = NULL;
            t->token = NULL;
            return -ECANCELED;
        }
        if (d == CONC__MISSED) t->must_cancel = true;
    }
    if (deadline < INFINITY) {
        if (deadline == -INFINITY || deadline <= conc_monotonic()) /* sleep(0): no clock read */
            t->timer = conc_call_soon(t->loop, deadline_cb, t);
        else
            t->timer = conc_call_at(t->loop, deadline, deadline_cb, t);
        t->timer_is_step = false;
        if (!t->timer) {
            if (detach) detach(t, arg, -ETIMEDOUT);
            t->detach = NULL;
            t->token = NULL;
            return -ENOMEM;
        }
    }
    t->state = CONC__T_PARKED;
    switch_away(t);
    t->detach = NULL;
    t->token = NULL;
    return t->wake_code;
}

int conc__task_saw(conc_task_t *t, int r, bool take_pending) {
    if (take_pending && t->must_cancel) {
        t->must_cancel = false;
        r = -ECANCELED;
    }
    if (r == -ECANCELED) t->cancel_seen = true;
    return r;
}

static bool cancel_here(conc_task_t *t) {
    if (t->state == CONC__T_DONE) return false;
    t->cancelling++;
    if (t->state == CONC__T_PARKED) {
        conc__detach_t d = t->detach ? t->detach(t, t->detach_arg, -ECANCELED) : CONC__DETACHED;
        if (d == CONC__DETACHED) {
            conc__task_wake(t, -ECANCELED);
            return true;
        }
        if (d == CONC__FORWARDED) return true;
    }
    t->must_cancel = true;
    return true;
}

static void remote_cancel(void *arg) {
    conc_task_t *t = arg;
    cancel_here(t);
    conc__task_unref(t);
}

bool conc_task_cancel(conc_task_t *t) {
    if (!t || conc_task_done(t)) return false;
    conc_loop_t *loop = t->loop;
    if (conc_loop_current() != loop && __atomic_load_n(&loop->running, __ATOMIC_ACQUIRE)) {
        conc__task_retain(t);
        if (!conc_call_soon_threadsafe(loop, remote_cancel, t)) {
            conc__task_unref(t);
            return false;
        }
        return true;
    }
    return cancel_here(t);
}

unsigned conc_task_cancelling(conc_task_t *t) {
    return t ? t->cancelling : 0;
}

void conc_task_uncancel(void) {
    conc_task_t *t = conc__task_running;
    if (!t) return;
    if (t->cancelling > 0) t->cancelling--;
    t->cancel_seen = false;
    if (t->cancelling == 0) t->must_cancel = false;
}
