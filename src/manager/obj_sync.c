/* lock.* and event.*: a lock is owned by a connection (the proxies of all threads of one client
 * process share it, as CPython's manager Lock belongs to the server thread serving that
 * connection); acquire parks behind the holder and the earlier waiters. When the holder's
 * connection goes away - the client exited, crashed, or was killed - the lock is released for it
 * and the next taker gets CONC_EOWNERDEAD: it has the lock, and learns that what the lock protects
 * may be half-updated (the robust-mutex rule). An event wakes every parked waiter when set. */
#define _GNU_SOURCE
#include "srv.h"

int conc__lock_acquire(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__lock_release(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__event_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__event_clear(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__event_wait(sconn_t *c, mobj_t *o, const conc__mreq_t *r);

/* The one timeout argument of acquire and wait; -EINVAL if absent or not a number. */
static int timeout_arg(const conc__mreq_t *r, double *t) {
    const char *a = r->args;
    return r->nargs == 1 ? conc__mp_timeout(&a, t) : -EINVAL;
}

static int park_or_fail(sconn_t *c, mobj_t *o, const conc__mreq_t *r, int op, double t) {
    if (t != 0 && conc__park(c, o, r->msgid, op, t)) return 1;
    conc__reply(c, r->msgid, t == 0 ? -ETIMEDOUT : -ENOMEM, NULL, NULL);
    return 0;
}

int conc__lock_acquire(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    double t;
    if (timeout_arg(r, &t) < 0) {
        conc__reply(c, r->msgid, -EINVAL, NULL, NULL);
        return 0;
    }
    if (o->u.lock.owner || o->wait_first) return park_or_fail(c, o, r, P_ACQUIRE, t);
    o->u.lock.owner = c->id;
    int err = o->u.lock.dead ? CONC_EOWNERDEAD : 0;
    o->u.lock.dead = false;
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

int conc__lock_release(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    int err = r->nargs ? -EINVAL : o->u.lock.owner != c->id ? -EPERM : 0;
    if (!err) o->u.lock.owner = 0;
    conc__reply(c, r->msgid, err, NULL, NULL);
    if (!err) conc__obj_pump(o);
    return 0;
}

int conc__event_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    if (!r->nargs) o->u.event = true;
    conc__reply(c, r->msgid, r->nargs ? -EINVAL : 0, NULL, NULL);
    conc__obj_pump(o);
    return 0;
}

int conc__event_clear(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    if (!r->nargs) o->u.event = false;
    conc__reply(c, r->msgid, r->nargs ? -EINVAL : 0, NULL, NULL);
    return 0;
}

int conc__event_wait(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    double t;
    if (timeout_arg(r, &t) < 0) {
        conc__reply(c, r->msgid, -EINVAL, NULL, NULL);
        return 0;
    }
    if (!o->u.event) return park_or_fail(c, o, r, P_WAIT, t);
    conc__reply(c, r->msgid, 0, NULL, NULL);
    return 0;
}
