/* The waiter hook of an executor backend (conc_work_set_waiter): conc_future_wait and
 * conc_future_add_done_callback hand a pending future to the backend that runs it.
 *
 * The backend context may be freed once every future it was given is done, so the hook is entered
 * under the future's lock while the future is still pending, after marking the future (CBS) so
 * that its completer takes the same lock: the completion and so the backend's end both come after
 * the enter, and the backend waits for the use to end before it frees itself. A future nobody
 * waits on completes without the lock (most of a map's); one whose lock-free completer has
 * already won is simply not helped. */
#include <errno.h>
#include "conc/executor.h"
#include "../internal/future.h"

void conc_work_set_waiter(conc_future_t *f, const conc_work_waiter_t *w, void *ctx) {
    if (!f) return;
    f->waiter = w;
    f->waiter_ctx = ctx;
}

int conc__future_help(conc_future_t *f, double deadline, bool watch) {
    conc__flock(&f->lock);
    const conc_work_waiter_t *w = NULL;
    void *ctx = f->waiter_ctx;
    if (conc__future_mark_locked(f)) w = f->waiter;
    if (w) w->enter(ctx);
    conc__funlock(&f->lock);
    if (!w) return conc_future_done(f) ? 0 : -EAGAIN;
    if (watch) {
        w->watch(ctx, f);
        return -EAGAIN;
    }
    return w->wait(ctx, f, deadline);
}
