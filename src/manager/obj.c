/* The object registry and what all kinds share: lookup by (kind, name) with creation on first use,
 * freeing, the "pump" that grants parked requests whatever an object can now give, and the rule
 * for a lock whose holder's connection died.
 *
 * Objects are created by any first use, not only by open, so a Python client can just call
 * dict.set; they live until the server stops (Python's managers refcount proxies across processes,
 * which costs a round trip per proxy copy and leaks on a crash anyway). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "srv.h"

blob_t *conc__blob(const void *p, size_t len) {
    blob_t *b = malloc(sizeof *b + len);
    if (!b) return NULL;
    b->len = len;
    if (len) memcpy(b->data, p, len);
    return b;
}

mobj_t *conc__obj_get(srv_t *s, int kind, const char *name, size_t nlen, bool *made) {
    char stack[256], *key = nlen < sizeof stack ? stack : malloc(nlen + 1);
    if (!key) return NULL;
    key[0] = (char)('a' + kind);
    memcpy(key + 1, name, nlen);
    *made = false;
    hent_t *e = conc__htab_put(&s->objs, key, nlen + 1);
    if (key != stack) free(key);
    if (!e) return NULL;
    if (!e->val) {
        mobj_t *o = calloc(1, sizeof *o);
        if (!o) {
            conc__htab_del(&s->objs, e);
            return NULL;
        }
        o->kind = kind;
        if (kind == K_DICT) o->u.dict.seed = s->seed;
        e->val = o;
        *made = true;
    }
    return e->val;
}

void conc__obj_free(mobj_t *o) {
    switch (o->kind) {
    case K_DICT:
        for (hent_t *e = o->u.dict.first; e; e = e->next) free(e->val);
        conc__htab_free(&o->u.dict);
        break;
    case K_LIST:
        for (size_t i = 0; i < o->u.list.n; i++) free(o->u.list.v[i]);
        free(o->u.list.v);
        break;
    case K_QUEUE:
        for (size_t i = 0; i < o->u.queue.n; i++)
            free(o->u.queue.ring[(o->u.queue.head + i) % o->u.queue.cap]);
        free(o->u.queue.ring);
        break;
    default: break;
    }
    free(o);
}

/* queue helpers shared with obj_queue.c */
CONC_HIDDEN int conc__queue_push(mobj_t *o, blob_t *b);
CONC_HIDDEN blob_t *conc__queue_pop(mobj_t *o);

static bool queue_room(const mobj_t *o) {
    return o->u.queue.maxsize == 0 || o->u.queue.n < o->u.queue.maxsize;
}

void conc__obj_pump(mobj_t *o) {
    bool progress = true;
    while (progress && o->wait_first) {
        progress = false;
        for (park_t *p = o->wait_first, *n; p; p = n) {
            n = p->onext;
            sconn_t *c = p->c;
            uint64_t id = p->msgid;
            if (o->kind == K_QUEUE && p->op == P_GET && o->u.queue.n) {
                blob_t *b = conc__queue_pop(o);
                conc__unpark(p);
                conc__reply(c, id, 0, conc__put_blob, b);
                free(b);
            } else if (o->kind == K_QUEUE && p->op == P_PUT && queue_room(o)) {
                if (conc__queue_push(o, p->item) < 0) continue; /* ENOMEM: try again later */
                conc__unpark(p);
                conc__reply(c, id, 0, NULL, NULL);
            } else if (o->kind == K_LOCK && p->op == P_ACQUIRE && !o->u.lock.owner) {
                o->u.lock.owner = c->id;
                int err = o->u.lock.dead ? CONC_EOWNERDEAD : 0;
                o->u.lock.dead = false;
                conc__unpark(p);
                conc__reply(c, id, err, NULL, NULL);
            } else if (o->kind == K_EVENT && p->op == P_WAIT && o->u.event) {
                conc__unpark(p);
                conc__reply(c, id, 0, NULL, NULL);
            } else {
                continue;
            }
            progress = true;
            break; /* the list changed under n: start again from the front */
        }
    }
}

void conc__lock_conn_died(srv_t *s, uint64_t id) {
    for (hent_t *e = s->objs.first; e; e = e->next) {
        mobj_t *o = e->val;
        if (o->kind != K_LOCK || o->u.lock.owner != id) continue;
        o->u.lock.owner = 0;
        o->u.lock.dead = true;
        conc__obj_pump(o);
    }
}
