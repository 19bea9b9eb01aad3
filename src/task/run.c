/* conc_run: asyncio.run. A new loop, main as its first task, run until main is done; then freeing
 * the loop cancels the tasks still running and runs the loop until they have finished (the
 * scheduler's hook on loop free, sched.c), so nothing is left half-way on a stack. */
#include <errno.h>
#include "../internal/task.h"

int conc_run(conc_task_fn main, void *arg, void **result) {
    if (result) *result = NULL;
    if (!main) return -EINVAL;
    if (conc_loop_current()) return -EBUSY;
    conc_loop_t *loop = conc_loop_new();
    if (!loop) return -ENOMEM;
    conc_task_opts_t opts = {.name = "main", .stack_size = 0};
    conc_task_t *t = conc_task_spawn(loop, main, arg, &opts);
    if (!t) {
        conc_loop_free(loop);
        return -ENOMEM;
    }
    int r = conc_loop_run_until_complete(loop, conc_task_future(t));
    if (r == -EAGAIN) {
        /* the loop was stopped before main finished: main is cancelled with the others */
        conc_loop_free(loop);
        r = conc_future_result(conc_task_future(t), result);
    } else {
        conc_future_result(conc_task_future(t), result);
        conc_loop_free(loop);
    }
    conc_task_release(t);
    return r;
}
