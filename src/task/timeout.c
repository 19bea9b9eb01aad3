/* Timeout scopes (asyncio.timeout, 3.11 timeouts.py): states entered -> expiring -> expired, or
 * exited. Expiry is a loop timer that cancels the task; exit takes back that one cancellation
 * (cancelling() drops by one) and, if no other request is left above the count seen at entry,
 * absorbs it and reports -ETIMEDOUT; otherwise the task is being cancelled from elsewhere and that
 * goes on.
 *
 * The timer's state lives in a small heap node, not in the caller's conc_timeout_t: the timer must
 * never write into a stack frame that may be gone (a scope entered in a helper that returned
 * without exiting it). Open scopes are linked from the task, so its end cancels their timers and
 * frees the nodes whatever the program did. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "conc/time.h"
#include "../internal/task.h"

enum { TO_UNUSED, TO_ENTERED, TO_EXPIRING, TO_EXPIRED, TO_EXITED };

struct conc__timeout_link {
    struct conc__timeout_link *next; /* the task's open scopes, innermost first */
    conc_task_t *task;
    conc_handle_t *handle; /* the expiry timer, NULL once fired or cancelled */
    double when;
    unsigned cancelling; /* the task's cancelling() at entry */
    int state;
};

#define P(to) (&(to)->_priv)

static void expire(void *arg) {
    struct conc__timeout_link *n = arg;
    n->handle = NULL;
    if (n->state != TO_ENTERED) return;
    n->state = TO_EXPIRING;
    conc_task_cancel(n->task);
}

static int arm(struct conc__timeout_link *n, double when) {
    n->when = when;
    n->handle = NULL;
    if (when >= INFINITY) return 0;
    n->handle = conc_call_at(n->task->loop, when, expire, n);
    return n->handle ? 0 : -ENOMEM;
}

int conc_timeout_enter_at(conc_timeout_t *to, double when) {
    conc_task_t *t = conc__task_running;
    if (!to || isnan(when)) return -EINVAL;
    P(to)->node = NULL;
    P(to)->state = TO_EXITED;
    P(to)->when = when;
    if (!t) return -EPERM;
    struct conc__timeout_link *n = calloc(1, sizeof *n);
    if (!n) return -ENOMEM;
    n->task = t;
    n->cancelling = t->cancelling;
    n->state = TO_ENTERED;
    if (arm(n, when) < 0) {
        free(n);
        return -ENOMEM;
    }
    n->next = t->timeouts;
    t->timeouts = n;
    P(to)->node = n;
    P(to)->state = TO_ENTERED;
    return 0;
}

int conc_timeout_enter(conc_timeout_t *to, double delay) {
    if (isnan(delay)) return -EINVAL;
    return conc_timeout_enter_at(to, delay < 0 ? INFINITY : conc_monotonic() + delay);
}

int conc_timeout_reschedule(conc_timeout_t *to, double when) {
    struct conc__timeout_link *n = to ? P(to)->node : NULL;
    if (!n || n->state != TO_ENTERED || isnan(when)) return -EINVAL;
    if (n->handle) conc_handle_cancel(n->handle);
    P(to)->when = when;
    return arm(n, when);
}

double conc_timeout_when(const conc_timeout_t *to) {
    if (!to) return INFINITY;
    const struct conc__timeout_link *n = P(to)->node;
    return n ? n->when : P(to)->when;
}

bool conc_timeout_expired(const conc_timeout_t *to) {
    if (!to) return false;
    const struct conc__timeout_link *n = P(to)->node;
    int s = n ? n->state : P(to)->state;
    return s == TO_EXPIRING || s == TO_EXPIRED;
}

int conc_timeout_exit(conc_timeout_t *to) {
    if (!to) return -EINVAL;
    struct conc__timeout_link *n = P(to)->node;
    if (!n) return -EINVAL;
    conc_task_t *t = n->task;
    if (t != conc__task_running) return -EPERM;
    if (n->handle) conc_handle_cancel(n->handle);
    for (struct conc__timeout_link **p = &t->timeouts; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            break;
        }
    bool expired = n->state == TO_EXPIRING;
    unsigned at_entry = n->cancelling;
    P(to)->when = n->when;
    P(to)->node = NULL;
    free(n);
    if (expired) {
        P(to)->state = TO_EXPIRED;
        if (t->cancelling > 0) t->cancelling--;
        if (t->cancelling <= at_entry) {
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
    struct conc__timeout_link *n = t->timeouts;
    while (n) {
        struct conc__timeout_link *next = n->next;
        if (n->handle) conc_handle_cancel(n->handle);
        free(n);
        n = next;
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
