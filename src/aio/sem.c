/* asyncio.Semaphore / BoundedSemaphore for tasks. A release with waiters hands its permit to the
 * first one directly (the value stays 0), so permits go first come, first served and a waiter
 * cancelled after the hand-over keeps the permit it was given. */
#include <errno.h>
#include "../internal/aio.h"

int conc_asem_init(conc_asem_t *s, unsigned value, unsigned flags) {
    if (!s || (flags & ~CONC_BOUNDED)) return -EINVAL;
    *s = (conc_asem_t)CONC_ASEM_INIT(value);
    s->_priv.bounded = (flags & CONC_BOUNDED) != 0;
    return 0;
}

int conc_asem_acquire(conc_asem_t *s, double timeout) {
    if (!s) return -EINVAL;
    if (!conc__task_running) return -EPERM;
    if (s->_priv.value > 0) {
        s->_priv.value--;
        return 0;
    }
    if (timeout == 0) return -ETIMEDOUT;
    struct conc__aw w;
    conc__aw_push(&s->_priv.waiters, &w);
    return conc__aw_wait(&w, timeout);
}

int conc_asem_release(conc_asem_t *s) {
    if (!s) return -EINVAL;
    if (conc__aw_grant(&s->_priv.waiters, NULL)) return 0;
    if (s->_priv.bounded && s->_priv.value >= s->_priv.initial) return -EOVERFLOW;
    s->_priv.value++;
    return 0;
}

unsigned conc_asem_value(conc_asem_t *s) {
    return s ? s->_priv.value : 0;
}

bool conc_asem_locked(conc_asem_t *s) {
    return s && s->_priv.value == 0;
}
