/* asyncio.Lock for tasks. Release hands the lock straight to the first waiter (it stays locked),
 * so a task arriving between the release and the waiter's next step cannot barge in, and a waiter
 * cancelled after the hand-over still owns the lock and learns of the cancellation at its next
 * suspension - it never holds the lock unknowingly. */
#include <errno.h>
#include "../internal/aio.h"

int conc_alock_init(conc_alock_t *l) {
    if (!l) return -EINVAL;
    *l = (conc_alock_t)CONC_ALOCK_INIT;
    return 0;
}

int conc_alock_acquire(conc_alock_t *l, double timeout) {
    if (!l) return -EINVAL;
    if (!conc__task_running) return -EPERM;
    if (!l->_priv.locked) {
        l->_priv.locked = true;
        return 0;
    }
    if (timeout == 0) return -ETIMEDOUT;
    struct conc__aw w;
    conc__aw_push(&l->_priv.waiters, &w);
    return conc__aw_wait(&w, timeout); /* 0: released to us, still locked */
}

int conc_alock_release(conc_alock_t *l) {
    if (!l) return -EINVAL;
    if (!l->_priv.locked) return -EPERM;
    if (!conc__aw_grant(&l->_priv.waiters, NULL)) l->_priv.locked = false;
    return 0;
}

bool conc_alock_locked(conc_alock_t *l) {
    return l && l->_priv.locked;
}
