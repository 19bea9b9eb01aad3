/* TaskGroup (asyncio.TaskGroup, 3.11-3.12 taskgroups.py) for C.
 *
 * Children run on the parent's loop and report through a done-callback (which runs on that loop:
 * a task completes its future on its own loop's stack). The first child error aborts the group:
 * every unfinished child is asked to cancel, and so is the parent, once, if it is still in the
 * body of the group (so whatever it awaits there stops) - a cancellation the group takes back in
 * wait (parent_cancel_requested, then uncancel), so the parent does not end cancelled because of
 * it. wait is the end of `async with`: if the body saw a cancellation it aborts the children too;
 * it then waits until no child is left, whatever happens to the parent meanwhile (a cancellation
 * of the parent during wait aborts the children and is remembered, not returned early): nothing
 * is orphaned. Errors win over a propagating cancellation in the return value, as in asyncio; the
 * parent's cancellation state is kept either way. */
#include <errno.h>
#include <stdlib.h>
#include "../internal/task.h"

struct conc_taskgroup {
    conc_task_t *parent;
    conc_loop_t *loop;
    conc_task_t **children;
    size_t nchildren, capchildren;
    size_t running;
    int *errs;
    size_t nerrs, caperrs;
    int result;
    bool aborting, exiting, waited, parent_cancel_requested;
};

int conc_taskgroup_new(conc_taskgroup_t **gp) {
    if (!gp) return -EINVAL;
    *gp = NULL;
    conc_task_t *t = conc__task_running;
    if (!t) return -EPERM;
    conc_taskgroup_t *g = calloc(1, sizeof *g);
    if (!g) return -ENOMEM;
    g->parent = t;
    g->loop = t->loop;
    conc__task_retain(t);
    *gp = g;
    return 0;
}

static void abort_group(conc_taskgroup_t *g) {
    g->aborting = true;
    for (size_t i = 0; i < g->nchildren; i++)
        if (!conc_task_done(g->children[i])) conc_task_cancel(g->children[i]);
}

static void child_done(conc_future_t *f, void *arg) {
    conc_taskgroup_t *g = arg;
    g->running--;
    int r = conc_future_result(f, NULL);
    if (r != 0 && r != -ECANCELED) {
        if (g->nerrs == g->caperrs) {
            size_t cap = g->caperrs ? g->caperrs * 2 : 4;
            int *e = realloc(g->errs, cap * sizeof *e);
            if (e) {
                g->errs = e;
                g->caperrs = cap;
            }
        }
        if (g->nerrs < g->caperrs) g->errs[g->nerrs++] = r;
        if (!g->aborting) {
            abort_group(g);
            if (!g->exiting && !g->parent_cancel_requested && !conc_task_done(g->parent)) {
                g->parent_cancel_requested = true;
                conc_task_cancel(g->parent);
            }
        }
    }
    if (g->running == 0 && g->exiting && g->parent->token == g) conc__task_wake(g->parent, 0);
}

int conc_taskgroup_spawn(conc_taskgroup_t *g, conc_task_fn fn, void *arg,
                         const conc_task_opts_t *opts, conc_task_t **out) {
    if (out) *out = NULL;
    if (!g || !fn) return -EINVAL;
    if (g->aborting || g->waited || (g->exiting && g->running == 0)) return CONC_ECLOSED;
    if (g->nchildren == g->capchildren) {
        size_t cap = g->capchildren ? g->capchildren * 2 : 8;
        conc_task_t **c = realloc(g->children, cap * sizeof *c);
        if (!c) return -ENOMEM;
        g->children = c;
        g->capchildren = cap;
    }
    conc_task_t *t = conc_task_spawn(g->loop, fn, arg, opts);
    if (!t) return -errno;
    if (conc_future_add_done_callback(t->fut, child_done, g) < 0) {
        conc_task_cancel(t); /* cannot track it: it must not run unsupervised */
        conc_task_release(t);
        return -ENOMEM;
    }
    g->children[g->nchildren++] = t;
    g->running++;
    if (out) *out = t;
    return 0;
}

static conc__detach_t wait_detach(conc_task_t *t, void *arg, int why) {
    (void)t;
    (void)arg;
    (void)why;
    return CONC__DETACHED;
}

int conc_taskgroup_wait(conc_taskgroup_t *g) {
    if (!g) return -EINVAL;
    conc_task_t *t = conc__task_running;
    if (t != g->parent) return -EPERM;
    if (g->waited) return g->result;
    g->exiting = true;
    bool propagate = t->cancel_seen;
    if (propagate && !g->aborting) abort_group(g);
    while (g->running > 0) {
        int r = conc__task_park(INFINITY, wait_detach, g, g);
        if (r == -ECANCELED) {
            conc__task_saw(t, r, false);
            propagate = true;
            if (!g->aborting) abort_group(g);
        }
    }
    if (g->parent_cancel_requested) {
        if (t->cancelling > 0) t->cancelling--;
        if (t->cancelling == 0) {
            /* the only cancellation was the group's own: taken back */
            propagate = false;
            t->cancel_seen = false;
            t->must_cancel = false;
        }
    }
    g->waited = true;
    g->result = g->nerrs ? g->errs[0] : propagate ? -ECANCELED : 0;
    return g->result;
}

size_t conc_taskgroup_errors(conc_taskgroup_t *g, int *errs, size_t cap) {
    if (!g) return 0;
    for (size_t i = 0; i < g->nerrs && i < cap; i++) errs[i] = g->errs[i];
    return g->nerrs;
}

void conc_taskgroup_free(conc_taskgroup_t *g) {
    if (!g) return;
    if (!g->waited) {
        if (conc__task_running == g->parent) {
            conc_taskgroup_wait(g);
        } else {
            /* not in the parent: the children cannot be waited for here; stop them and let the
             * runtime finish them (their done-callbacks must not reach a freed group) */
            abort_group(g);
            for (size_t i = 0; i < g->nchildren; i++)
                conc_future_remove_done_callback(g->children[i]->fut, child_done, g);
        }
    }
    for (size_t i = 0; i < g->nchildren; i++) conc_task_release(g->children[i]);
    conc__task_unref(g->parent);
    free(g->children);
    free(g->errs);
    free(g);
}
