/* Timeout scopes (asyncio.timeout, 3.11 timeouts.py): states entered -> expiring -> expired, or
 * exited. Expiry is a loop timer that cancels the task; exit takes back that one cancellation
 * (cancelling() drops by one) and, if no other request is left above the count seen at entry,
 * absorbs it and reports -ETIMEDOUT; otherwise the task is being cancelled from elsewhere and
 * that goes on. Open scopes are linked from the task so that its end can cancel their timers even
 * if a scope was never exited. */
#include <errno.h>
#include <math.h>
#include "conc/time.h"
#include "../internal/task.h"

enum { TO_UNUSED, TO_ENTERED, TO_EXPIRING, TO_EXPIRED, TO_EXITED };

#define P(to) (&(to)->_priv)

static void expire(void *arg) {
    conc_timeout_t *to = arg;
    P(to)->handle = NULL;
    if (P(to)->state != TO_ENTERED) return;
    P(to)->state = TO_EXPIRING;
    conc_task_cancel(P(to)->task);
}

static int arm(conc_timeout_t *to, double when) {
    conc_task_t *t = P(to)->task;
    P(to)->when = when;
    P(to)->handle = NULL;
    if (when >= INFINITY) return 0;
    P(to)->handle = conc_call_at(t->loop, when, expire, to);
    return P(to)->handle ? 0 : -ENOMEM;
}

int conc_timeout_enter_at(conc_timeout_t *to, double when) {
    conc_task_t *t = conc__task_running;
    if (!to) return -EINVAL;
    if (!t) return -EPERM;
    if (isnan(when)) return -EINVAL;
    P(to)->task = t;
    P(to)->cancelling = t->cancelling;
    P(to)->state = TO_ENTERED;
    int r = arm(to, when);
    if (r < 0) {
        P(to)->state = TO_EXITED;
        return r;
    }
    P(to)->next = t->timeouts;
    t->timeouts = (struct conc__timeout_link *)to;
    return 0;
}

int conc_timeout_enter(conc_timeout_t *to, double delay) {
    if (isnan(delay)) return -EINVAL;
    return conc_timeout_enter_at(to, delay < 0 ? INFINITY : conc_monotonic() + delay);
}

int conc_timeout_reschedule(conc_timeout_t *to, double when) {
    if (!to || P(to)->state != TO_ENTERED || isnan(when)) return -EINVAL;
    if (P(to)->handle) conc_handle_cancel(P(to)->handle);
    return arm(to, when);
}

double conc_timeout_when(const conc_timeout_t *to) {
    return to ? P(to)->when : INFINITY;
}

bool conc_timeout_expired(const conc_timeout_t *to) {
    return to && (P(to)->state == TO_EXPIRING || P(to)->state == TO_EXPIRED);
}

static void unlink_scope(conc_task_t *t, conc_timeout_t *to) {
    conc_timeout_t **p = (conc_timeout_t **)&t->timeouts;
    while (*p && *p != to) p = (conc_timeout_t **)&P(*p)->next;
    if (*p) *p = P(to)->next;
}

int conc_timeout_exit(conc_timeout_t *to) {
    if (!to) return -EINVAL;
    conc_task_t *t = P(to)->task;
    if (!t || t != conc__task_running) return -EPERM;
    if (P(to)->state != TO_ENTERED && P(to)->state != TO_EXPIRING) return -EINVAL;
    if (P(to)->handle) conc_handle_cancel(P(to)->handle);
    P(to)->handle = NULL;
    unlink_scope(t, to);
    if (P(to)->state == TO_EXPIRING) {
        P(to)->state = TO_EXPIRED;
        if (t->cancelling > 0) t->cancelling--;
        if (t->cancelling <= P(to)->cancelling) {
            t->cancel_seen = false;
            t->must_cancel = false;
            return -ETIMEDOUT;
        }
        return -ECANCELED;
    }
    P(to)->state = TO_EXITED;
    return t->cancel_seen ? -ECANCELED : 0;
}

void conc__timeouts_task_done(conc_task_t *t) {
    for (conc_timeout_t *to = (conc_timeout_t *)t->timeouts; to; to = P(to)->next) {
        if (P(to)->handle) conc_handle_cancel(P(to)->handle);
        P(to)->handle = NULL;
        P(to)->state = TO_EXITED;
    }
    t->timeouts = NULL;
}

int conc_timeout_call(double delay, int (*fn)(void *arg), void *arg) {
    conc_timeout_t to;
    int r = conc_timeout_enter(&to, delay);
    if (r < 0) return r;
    r = fn(arg);
    int e = conc_timeout_exit(&to);
    return e ? e : r;
}
