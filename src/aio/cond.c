/* asyncio.Condition for tasks. wait releases the lock, parks, and re-acquires the lock before
 * returning whatever happened - a timeout or a cancellation included, as asyncio does - so the
 * caller always holds the lock afterwards. The re-acquisition itself cannot be cancelled (the
 * cancellation is kept for the next suspension point): returning without the lock would break
 * every caller's invariant. A notify hands "notified" to the waiter before it runs, so a waiter
 * cancelled after being notified still reports the notification, and none is lost. */
#include <errno.h>
#include "../internal/aio.h"

int conc_acond_init(conc_acond_t *c) {
    if (!c) return -EINVAL;
    conc_alock_init(&c->_priv.own);
    c->_priv.lock = &c->_priv.own;
    c->_priv.waiters = (conc_awaiters_t)CONC_AWAITERS_INIT;
    return 0;
}

int conc_acond_init_with(conc_acond_t *c, conc_alock_t *lock) {
    if (!c || !lock) return -EINVAL;
    conc_acond_init(c);
    c->_priv.lock = lock;
    return 0;
}

int conc_acond_acquire(conc_acond_t *c, double timeout) {
    return c ? conc_alock_acquire(c->_priv.lock, timeout) : -EINVAL;
}

int conc_acond_release(conc_acond_t *c) {
    return c ? conc_alock_release(c->_priv.lock) : -EINVAL;
}

/* Take the lock back, however long it takes, whatever cancellations arrive meanwhile. */
static void reacquire(conc_alock_t *l) {
    if (!l->_priv.locked) {
        l->_priv.locked = true;
        return;
    }
    struct conc__aw w;
    conc__aw_push(&l->_priv.waiters, &w);
    conc__aw_wait_uncancellable(&w);
}

int conc_acond_wait(conc_acond_t *c, double timeout) {
    if (!c) return -EINVAL;
    if (!conc__task_running) return -EPERM;
    if (!c->_priv.lock->_priv.locked) return -EPERM;
    if (timeout == 0) return -ETIMEDOUT; /* nothing can notify us without a wait */
    struct conc__aw w;
    conc__aw_push(&c->_priv.waiters, &w);
    conc_alock_release(c->_priv.lock);
    int r = conc__aw_wait(&w, timeout);
    reacquire(c->_priv.lock);
    return r;
}

int conc_acond_wait_for(conc_acond_t *c, bool (*pred)(void *), void *arg, double timeout) {
    if (!c || !pred) return -EINVAL;
    double deadline = conc__aw_deadline(timeout);
    while (!pred(arg)) {
        double left = -1;
        if (timeout >= 0) {
            left = deadline - conc_monotonic();
            if (left <= 0) return -ETIMEDOUT;
        }
        int r = conc_acond_wait(c, left);
        if (r < 0) return pred(arg) ? 0 : r;
    }
    return 0;
}

int conc_acond_notify(conc_acond_t *c, unsigned n) {
    if (!c) return -EINVAL;
    if (!c->_priv.lock->_priv.locked) return -EPERM;
    while (n-- > 0 && conc__aw_grant(&c->_priv.waiters, NULL)) {
    }
    return 0;
}

int conc_acond_notify_all(conc_acond_t *c) {
    return conc_acond_notify(c, ~0u);
}
