/* conc_run: asyncio.run. A new loop, main as its first task, run until main is done; then freeing
 * the loop cancels the tasks still running and runs the loop until they have finished (the
 * scheduler's hook on loop free, sched.c), so nothing is left half-way on a stack.
 *
 * A SIGINT (KeyboardInterrupt: the loop returns -EINTR in the main thread after conc_init) is
 * handled as asyncio.Runner does: main is cancelled and the loop runs until main has finished its
 * cleanup, then the other tasks are cancelled and finish theirs, and the result is -EINTR. Main
 * goes first, alone, so its cleanup may still await tasks it started. A further SIGINT during
 * main's cleanup stops waiting for main on its own: everything left is cancelled together. */
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
    if (r == -EINTR) {
        conc_task_cancel(t);
        (void)conc_loop_run_until_complete(loop, conc_task_future(t));
        conc_loop_free(loop);
    } else if (r == -EAGAIN) {
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
