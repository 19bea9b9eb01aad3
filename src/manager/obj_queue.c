/* queue.*: a FIFO of byte strings in a ring buffer, bounded by the maxsize its first open gave
 * (0: unbounded). A get on an empty queue or a put on a full one is parked (park.c) with its
 * timeout; obj.c's pump hands items to parked getters and admits parked putters, oldest first, as
 * soon as the queue can serve them. Timeout 0 never parks: it is -ETIMEDOUT at once if it cannot
 * complete (queue.Empty / queue.Full in Python). */
#define _GNU_SOURCE
#include <stdlib.h>
#include "srv.h"

/* Putters already waiting go first: a new put may not overtake them. */
static bool putters(const mobj_t *o) {
    for (const park_t *p = o->wait_first; p; p = p->onext)
        if (p->op == P_PUT) return true;
    return false;
}

int conc__queue_open(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__queue_put(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__queue_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__queue_push(mobj_t *o, blob_t *b);
blob_t *conc__queue_pop(mobj_t *o);

int conc__queue_push(mobj_t *o, blob_t *b) {
    if (o->u.queue.n == o->u.queue.cap) {
        size_t cap = o->u.queue.cap ? o->u.queue.cap * 2 : 8;
        blob_t **ring = malloc(cap * sizeof *ring);
        if (!ring) return -ENOMEM;
        for (size_t i = 0; i < o->u.queue.n; i++)
            ring[i] = o->u.queue.ring[(o->u.queue.head + i) % o->u.queue.cap];
        free(o->u.queue.ring);
        o->u.queue.ring = ring;
        o->u.queue.cap = cap;
        o->u.queue.head = 0;
    }
    o->u.queue.ring[(o->u.queue.head + o->u.queue.n++) % o->u.queue.cap] = b;
    return 0;
}

blob_t *conc__queue_pop(mobj_t *o) {
    blob_t *b = o->u.queue.ring[o->u.queue.head];
    o->u.queue.head = (o->u.queue.head + 1) % o->u.queue.cap;
    o->u.queue.n--;
    return b;
}

int conc__queue_open(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args;
    int64_t max = 0;
    int err = r->nargs > 1 ? -EINVAL : 0;
    if (r->nargs == 1 && (conc__mp_int(&a, &max) < 0 || max < 0)) err = -EINVAL;
    if (!err && c->s->made) o->u.queue.maxsize = (size_t)max;
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

int conc__queue_put(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args, *v;
    uint32_t vl;
    double t;
    if (r->nargs != 2 || conc__mp_bytes(&a, &v, &vl) < 0 || conc__mp_timeout(&a, &t) < 0) {
        conc__reply(c, r->msgid, -EINVAL, NULL, NULL);
        return 0;
    }
    blob_t *b = conc__blob(v, vl);
    int err = b ? 0 : -ENOMEM;
    bool room = o->u.queue.maxsize == 0 || o->u.queue.n < o->u.queue.maxsize;
    if (b && room && !putters(o)) {
        err = conc__queue_push(o, b);
        if (!err) {
            conc__reply(c, r->msgid, 0, NULL, NULL);
            conc__obj_pump(o);
            return 0;
        }
    } else if (b && t != 0) {
        park_t *p = conc__park(c, o, r->msgid, P_PUT, t);
        if (p) {
            p->item = b;
            conc__obj_pump(o); /* room, but older waiters first: they may take it now */
            return 1;
        }
        err = -ENOMEM;
    } else if (b) {
        err = -ETIMEDOUT;
    }
    free(b);
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

int conc__queue_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args;
    double t;
    if (r->nargs != 1 || conc__mp_timeout(&a, &t) < 0) {
        conc__reply(c, r->msgid, -EINVAL, NULL, NULL);
        return 0;
    }
    if (o->u.queue.n) {
        blob_t *b = conc__queue_pop(o);
        conc__reply(c, r->msgid, 0, conc__put_blob, b);
        free(b);
        conc__obj_pump(o); /* room for a parked putter */
        return 0;
    }
    if (t == 0) {
        conc__reply(c, r->msgid, -ETIMEDOUT, NULL, NULL);
        return 0;
    }
    if (!conc__park(c, o, r->msgid, P_GET, t)) {
        conc__reply(c, r->msgid, -ENOMEM, NULL, NULL);
        return 0;
    }
    return 1;
}
