/* Parked requests: a blocking call that cannot complete yet waits as a record, not as a thread.
 *
 * Each record is on two lists: its object's (FIFO, so waiters are served in arrival order, like
 * the threads queued on a Python lock) and the server's (to find the next deadline and to drop a
 * dead connection's records). The server list is scanned linearly: parked calls are few next to
 * the cost of a wake-up, and the scan needs no heap to keep in step with unparking. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include "srv.h"

park_t *conc__park(sconn_t *c, mobj_t *o, uint64_t msgid, int op, double timeout) {
    park_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    srv_t *s = c->s;
    p->c = c;
    p->o = o;
    p->msgid = msgid;
    p->op = op;
    p->deadline = conc_deadline(timeout);
    p->gnext = s->parks;
    if (s->parks) s->parks->gprev = p;
    s->parks = p;
    p->oprev = o->wait_last;
    if (o->wait_last)
        o->wait_last->onext = p;
    else
        o->wait_first = p;
    o->wait_last = p;
    return p;
}

void conc__unpark(park_t *p) {
    srv_t *s = p->c->s;
    if (p->gprev)
        p->gprev->gnext = p->gnext;
    else
        s->parks = p->gnext;
    if (p->gnext) p->gnext->gprev = p->gprev;
    mobj_t *o = p->o;
    if (p->oprev)
        p->oprev->onext = p->onext;
    else
        o->wait_first = p->onext;
    if (p->onext)
        p->onext->oprev = p->oprev;
    else
        o->wait_last = p->oprev;
    free(p);
}

double conc__park_next_deadline(srv_t *s) {
    double d = INFINITY;
    for (park_t *p = s->parks; p; p = p->gnext)
        if (p->deadline < d) d = p->deadline;
    return d;
}

void conc__park_expire(srv_t *s, double now) {
    for (park_t *p = s->parks, *n; p; p = n) {
        n = p->gnext;
        if (p->deadline > now) continue;
        conc__reply(p->c, p->msgid, -ETIMEDOUT, NULL, NULL);
        free(p->item);
        mobj_t *o = p->o;
        conc__unpark(p);
        /* A putter leaving a full queue changes nothing for others; still, keep one rule:
         * after any change to an object's waiters, see what can be granted. */
        conc__obj_pump(o);
        n = s->parks; /* the pump may have unparked others: restart the scan */
    }
}

void conc__park_drop_conn(sconn_t *c) {
    srv_t *s = c->s;
    for (park_t *p = s->parks, *n; p; p = n) {
        n = p->gnext;
        if (p->c != c) continue;
        free(p->item);
        conc__unpark(p);
    }
}
