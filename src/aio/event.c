/* asyncio.Event for tasks: set wakes every waiter (each is handed "set" before it runs, so a clear
 * in between, or a cancellation, does not take it back). */
#include <errno.h>
#include "../internal/aio.h"

int conc_aevent_init(conc_aevent_t *e) {
    if (!e) return -EINVAL;
    *e = (conc_aevent_t)CONC_AEVENT_INIT;
    return 0;
}

void conc_aevent_set(conc_aevent_t *e) {
    if (!e || e->_priv.set) return;
    e->_priv.set = true;
    while (conc__aw_grant(&e->_priv.waiters, NULL)) {
    }
}

void conc_aevent_clear(conc_aevent_t *e) {
    if (e) e->_priv.set = false;
}

bool conc_aevent_is_set(conc_aevent_t *e) {
    return e && e->_priv.set;
}

int conc_aevent_wait(conc_aevent_t *e, double timeout) {
    if (!e) return -EINVAL;
    if (!conc__task_running) return -EPERM;
    if (e->_priv.set) return 0;
    if (timeout == 0) return -ETIMEDOUT;
    struct conc__aw w;
    conc__aw_push(&e->_priv.waiters, &w);
    return conc__aw_wait(&w, timeout);
}
