/* conc_shield: asyncio.shield. The outer future copies f's outcome when f completes; cancelling
 * the outer (directly, or by cancelling a task that awaits it) leaves f alone. The shield keeps a
 * reference to f until f completes, so the shielded work is not lost when its awaiter gives up. */
#include <errno.h>
#include "../internal/task.h"

static void copy_outcome(conc_future_t *f, void *arg) {
    conc_future_t *outer = arg;
    void *v;
    int r = conc_future_result(f, &v);
    if (r == 0)
        conc_future_set_result(outer, v);
    else if (r == -ECANCELED)
        conc_future_cancel(outer);
    else
        conc_future_set_error(outer, r);
    conc_future_release(outer);
    conc_future_release(f);
}

conc_future_t *conc_shield(conc_future_t *f) {
    if (!f) {
        errno = EINVAL;
        return NULL;
    }
    conc_future_t *outer = conc_future_new();
    if (!outer) return NULL;
    conc_future_retain(outer);
    conc_future_retain(f);
    if (conc_future_add_done_callback(f, copy_outcome, outer) < 0) {
        conc_future_release(f);
        conc_future_release(outer);
        conc_future_release(outer);
        errno = ENOMEM;
        return NULL;
    }
    return outer;
}
