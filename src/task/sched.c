/* Per-loop task state: the live tasks, so that freeing a loop (conc_run's last step, or a plain
 * conc_loop_free) first cancels the tasks still running and lets them finish, as asyncio.run
 * does, instead of dropping stacks whose frames other objects still point to.
 *
 * It lives in the loop's task slot, created with the first task; a hook on the loop's free does
 * the cancelling. Tasks spawned while that runs are born cancelled (they end without running), so
 * a task that spawns a replacement whenever it is cancelled cannot keep the loop alive. */
#include <errno.h>
#include <stdlib.h>
#include "../internal/loop.h"
#include "../internal/task.h"

struct sched_priv {
    struct conc__sched pub;
    conc_future_t *all_done; /* set while cancel_all waits */
    bool closing;
};

static void on_loop_free(conc_loop_t *loop, void *arg) {
    struct sched_priv *s = arg;
    conc__sched_cancel_all(loop);
    *conc__loop_slot(loop, CONC__LOOP_SLOT_TASK) = NULL;
    free(s);
}

struct conc__sched *conc__sched_of(conc_loop_t *loop) {
    void **slot = conc__loop_slot(loop, CONC__LOOP_SLOT_TASK);
    if (conc__likely(*slot != NULL)) return *slot;
    struct sched_priv *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (conc__loop_on_free(loop, on_loop_free, s) < 0) {
        free(s);
        return NULL;
    }
    *slot = s;
    return &s->pub;
}

bool conc__sched_closing(conc_loop_t *loop);
bool conc__sched_closing(conc_loop_t *loop) {
    struct sched_priv *s = *conc__loop_slot(loop, CONC__LOOP_SLOT_TASK);
    return s && s->closing;
}

/* Called by unlink (task.c) when the last task of a loop is gone. */
void conc__sched_empty(conc_loop_t *loop);
void conc__sched_empty(conc_loop_t *loop) {
    struct sched_priv *s = *conc__loop_slot(loop, CONC__LOOP_SLOT_TASK);
    if (s && s->all_done) conc_future_set_result(s->all_done, NULL);
}

void conc__sched_cancel_all(conc_loop_t *loop) {
    struct sched_priv *s = *conc__loop_slot(loop, CONC__LOOP_SLOT_TASK);
    if (!s) return;
    s->closing = true;
    while (s->pub.ntasks > 0) {
        for (conc_task_t *t = s->pub.head; t; t = t->next) conc_task_cancel(t);
        s->all_done = conc_future_new();
        if (!s->all_done) return;
        int r = conc_loop_run_until_complete(loop, s->all_done);
        conc_future_release(s->all_done);
        s->all_done = NULL;
        if (r == -EBUSY) return; /* this thread runs another loop: the tasks are left as they are */
    }
    s->closing = false;
}
