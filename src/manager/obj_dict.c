/* dict.*: a bytes -> bytes table in insertion order. update and items carry any number of pairs in
 * one message - CPython's DictProxy pays a round trip per element, its users' first complaint. An
 * update is checked whole before any pair is applied, so a malformed batch changes nothing. */
#define _GNU_SOURCE
#include <stdlib.h>
#include "srv.h"

int conc__dict_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__dict_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__dict_del(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__dict_len(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__dict_update(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__dict_items(sconn_t *c, mobj_t *o, const conc__mreq_t *r);

static int set(mobj_t *o, const char *k, uint32_t kl, const char *v, uint32_t vl) {
    blob_t *b = conc__blob(v, vl);
    if (!b) return -ENOMEM;
    hent_t *e = conc__htab_put(&o->u.dict, k, kl);
    if (!e) {
        free(b);
        return -ENOMEM;
    }
    free(e->val);
    e->val = b;
    return 0;
}

int conc__dict_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args, *k, *v;
    uint32_t kl, vl;
    int err = -EINVAL;
    if (r->nargs == 2 && !conc__mp_bytes(&a, &k, &kl) && !conc__mp_bytes(&a, &v, &vl))
        err = set(o, k, kl, v, vl);
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

/* The entry named by the one key argument: 0 (*e NULL if absent) or -EINVAL. */
static int find(mobj_t *o, const conc__mreq_t *r, hent_t **e) {
    const char *a = r->args, *k;
    uint32_t kl;
    if (r->nargs != 1 || conc__mp_bytes(&a, &k, &kl) < 0) return -EINVAL;
    *e = conc__htab_find(&o->u.dict, k, kl);
    return 0;
}

int conc__dict_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    hent_t *e = NULL;
    int err = find(o, r, &e);
    if (!err && !e) err = -ENOENT;
    conc__reply(c, r->msgid, err, err ? NULL : conc__put_blob, err ? NULL : e->val);
    return 0;
}

int conc__dict_del(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    hent_t *e = NULL;
    int err = find(o, r, &e);
    if (!err && !e) err = -ENOENT;
    if (!err) {
        free(e->val);
        conc__htab_del(&o->u.dict, e);
    }
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

int conc__dict_len(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    int64_t n = (int64_t)o->u.dict.n;
    conc__reply(c, r->msgid, r->nargs ? -EINVAL : 0, r->nargs ? NULL : conc__put_int, &n);
    return 0;
}

/* The pairs of an update, checked (check = true) or applied. */
static int pairs(mobj_t *o, const conc__mreq_t *r, bool check) {
    const char *a = r->args, *k, *v;
    uint32_t n, two, kl, vl;
    if (r->nargs != 1 || conc__mp_array(&a, &n) < 0) return -EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        if (conc__mp_array(&a, &two) < 0 || two != 2 || conc__mp_bytes(&a, &k, &kl) < 0 ||
            conc__mp_bytes(&a, &v, &vl) < 0)
            return -EINVAL;
        if (!check) {
            int err = set(o, k, kl, v, vl);
            if (err < 0) return err;
        }
    }
    return 0;
}

int conc__dict_update(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    int err = pairs(o, r, true);
    if (!err) err = pairs(o, r, false);
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

static int put_items(conc__mbuf_t *b, const void *ctx) {
    const htab_t *t = ctx;
    if (t->n > UINT32_MAX) return -EMSGSIZE;
    int err = conc__mp_put_array(b, (uint32_t)t->n);
    for (hent_t *e = t->first; e && !err; e = e->next) {
        const blob_t *v = e->val;
        if (!(err = conc__mp_put_array(b, 2)) && !(err = conc__mp_put_bin(b, e->key, e->klen)))
            err = conc__mp_put_bin(b, v->data, v->len);
    }
    return err;
}

int conc__dict_items(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    conc__reply(c, r->msgid, r->nargs ? -EINVAL : 0, r->nargs ? NULL : put_items, &o->u.dict);
    return 0;
}
