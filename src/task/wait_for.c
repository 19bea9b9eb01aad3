/* conc_wait_for: a timeout scope around one await, as Python 3.12 rebuilt wait_for on
 * asyncio.timeout. On expiry the scope cancels this task; the await forwards that to f (a task is
 * asked to cancel and waited for, bpo-32751) and returns -ECANCELED; the scope's exit turns it
 * into -ETIMEDOUT. A cancellation from outside is not the scope's: exit reports it and it goes
 * on, even when f finished in the same instant (gh-86296). */
#include <errno.h>
#include "../internal/task.h"

int conc_wait_for(conc_future_t *f, double timeout, void **result) {
    if (result) *result = NULL;
    if (!conc__task_running) return -EPERM;
    if (!f) return -EINVAL;
    if (timeout < 0 || conc_future_done(f)) return conc_await(f, result);
    conc_timeout_t to;
    int r = conc_timeout_enter(&to, timeout);
    if (r < 0) return r;
    r = conc_await(f, result);
    int e = conc_timeout_exit(&to);
    if (e == 0) return r;
    if (result) *result = NULL;
    return e;
}
