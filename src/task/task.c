/* A task's life: spawn, its steps on the loop, its end, and the handle.
 *
 * A step is a loop callback that switches from the loop's stack to the task's and back when the
 * task parks or ends, as asyncio's Task.__step is a callback that runs the coroutine to its next
 * await. Ending is finished on the loop's stack, not the task's: the stack goes back to the cache
 * (it cannot be freed while in use) and only then is the future completed, so done-callbacks run in
 * plain loop context, as asyncio schedules them, and never inside the dying task.
 *
 * References: the handle and the runtime (until the end) hold one each, so a task runs to its end
 * whether or not anyone keeps the handle (gh-88831); done-callbacks in flight on another thread hold
 * one more. The last one frees the struct and releases the future. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../internal/loop.h"
#include "../internal/task.h"

__thread conc_task_t *conc__task_running;
static uint64_t next_id;
static char error_sentinel;

conc_task_t *conc_task_current(void) {
    return conc__task_running;
}

void conc__task_retain(conc_task_t *t) {
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

void conc__task_unref(conc_task_t *t) {
    if (conc__sub(&t->refs, 1) != 0) return;
    conc_future_release(t->fut);
    free(t->name);
    free(t);
}

void conc_task_release(conc_task_t *t) {
    if (t) conc__task_unref(t);
}

conc_future_t *conc_task_future(conc_task_t *t) {
    return t ? t->fut : NULL;
}

bool conc_task_done(conc_task_t *t) {
    return t && __atomic_load_n(&t->finished, __ATOMIC_ACQUIRE);
}

const char *conc_task_name(conc_task_t *t) {
    if (!t) return NULL;
    if (t->name) return t->name;
    if (!t->gen_name[0])
        snprintf(t->gen_name, sizeof t->gen_name, "Task-%llu", (unsigned long long)t->id);
    return t->gen_name;
}

void *conc_task_error(int err) {
    conc_task_t *t = conc__task_running;
    if (t) t->error = err < 0 ? err : -EINVAL;
    return &error_sentinel;
}

/* The task's own stack: run fn unless cancelled before it started, then leave for good. */
static void task_main(void *arg) {
    conc_task_t *t = arg;
    if (t->must_cancel) {
        t->must_cancel = false;
        t->cancel_seen = true;
    } else {
        t->ret = t->fn(t->arg);
    }
    t->state = CONC__T_DONE;
    conc__fiber_exit(&t->fiber, conc__fiber_thread());
}

CONC_HIDDEN bool conc__sched_closing(conc_loop_t *loop);
CONC_HIDDEN void conc__sched_empty(conc_loop_t *loop);

static void unlink_task(conc_task_t *t) {
    struct conc__sched *s = conc__sched_of(t->loop);
    if (t->prev)
        t->prev->next = t->next;
    else if (s)
        s->head = t->next;
    if (t->next) t->next->prev = t->prev;
    t->prev = t->next = NULL;
    if (s && --s->ntasks == 0) conc__sched_empty(t->loop);
}

/* On the loop's stack, after the task's last switch. */
void conc__task_finish(conc_task_t *t) {
    conc__timeouts_task_done(t);
    conc__fiber_destroy(&t->fiber);
    __atomic_store_n(&t->finished, 1, __ATOMIC_RELEASE);
    if (t->cancel_seen || t->must_cancel) {
        conc_future_cancel(t->fut);
    } else if (t->ret == &error_sentinel) {
        if (t->error == -ECANCELED)
            conc_future_cancel(t->fut);
        else
            conc_future_set_error(t->fut, t->error ? t->error : -EINVAL);
    } else {
        conc_future_set_result(t->fut, t->ret);
    }
    /* after completing: until then a cancel of the future must still find the task */
    conc__registry_remove(t);
    unlink_task(t);
    conc__task_unref(t); /* the runtime's reference */
}

/* Spawning from another thread: the task joins the loop's list on the loop's thread. */
static void remote_start(void *arg) {
    conc_task_t *t = arg;
    struct conc__sched *s = conc__sched_of(t->loop);
    if (conc__sched_closing(t->loop)) t->must_cancel = true;
    if (s) {
        t->next = s->head;
        if (s->head) s->head->prev = t;
        s->head = t;
        s->ntasks++;
    }
    conc__task_run(t);
}

conc_task_t *conc_task_spawn(conc_loop_t *loop, conc_task_fn fn, void *arg,
                             const conc_task_opts_t *opts) {
    if (!loop) loop = conc_loop_current();
    if (!loop || !fn) {
        errno = EINVAL;
        return NULL;
    }
    /* the loop's own thread, or nobody runs it yet: set up directly; else hop (remote_start) */
    bool here = conc_loop_current() == loop || !__atomic_load_n(&loop->running, __ATOMIC_ACQUIRE);
    struct conc__sched *s = here ? conc__sched_of(loop) : NULL;
    if (here && !s) {
        errno = ENOMEM;
        return NULL;
    }
    conc_task_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->loop = loop;
    t->fn = fn;
    t->arg = arg;
    t->refs = 2;
    t->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    t->fut = conc_future_new();
    if (opts && opts->name) t->name = strdup(opts->name);
    if (!t->fut || (opts && opts->name && !t->name)) goto nomem;
    t->fiber.id = t->id;
    if (conc__fiber_init(&t->fiber, opts ? opts->stack_size : 0, t->name, task_main, t) < 0)
        goto nomem;
    if (conc__registry_add(t) < 0) {
        conc__fiber_destroy(&t->fiber);
        goto nomem;
    }
    t->state = CONC__T_NEW;
    if (here) {
        if (conc__sched_closing(loop)) t->must_cancel = true; /* the loop is shutting down */
        t->next = s->head;
        if (s->head) s->head->prev = t;
        s->head = t;
        s->ntasks++;
        t->timer = conc_call_soon(loop, conc__task_step, t);
        t->timer_is_step = true;
        if (!t->timer) {
            unlink_task(t);
            conc__registry_remove(t);
            conc__fiber_destroy(&t->fiber);
            goto nomem;
        }
    } else if (!conc_call_soon_threadsafe(loop, remote_start, t)) {
        conc__registry_remove(t);
        conc__fiber_destroy(&t->fiber);
        goto nomem;
    }
    return t;
nomem:
    conc_future_release(t->fut);
    free(t->name);
    free(t);
    errno = ENOMEM;
    return NULL;
}
