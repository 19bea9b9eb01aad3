/* list.*: an array of byte strings. Indexes are int64 on the wire; a negative one counts from the
 * end, as in Python, and anything outside the list is -ERANGE (IndexError). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "srv.h"

int conc__list_append(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__list_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__list_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__list_pop(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__list_len(sconn_t *c, mobj_t *o, const conc__mreq_t *r);

int conc__list_append(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args, *v;
    uint32_t vl;
    int err = -EINVAL;
    if (r->nargs == 1 && !conc__mp_bytes(&a, &v, &vl)) {
        err = -ENOMEM;
        if (o->u.list.n == o->u.list.cap) {
            size_t cap = o->u.list.cap ? o->u.list.cap * 2 : 8;
            blob_t **nv = realloc(o->u.list.v, cap * sizeof *nv);
            if (nv) {
                o->u.list.v = nv;
                o->u.list.cap = cap;
            }
        }
        blob_t *b = o->u.list.n < o->u.list.cap ? conc__blob(v, vl) : NULL;
        if (b) {
            o->u.list.v[o->u.list.n++] = b;
            err = 0;
        }
    }
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

/* The index argument, resolved: 0 and *at, -EINVAL or -ERANGE. */
static int index_arg(const mobj_t *o, const char **a, size_t *at) {
    int64_t i;
    if (conc__mp_int(a, &i) < 0) return -EINVAL;
    int64_t n = (int64_t)o->u.list.n;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return -ERANGE;
    *at = (size_t)i;
    return 0;
}

int conc__list_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args;
    size_t i;
    int err = r->nargs == 1 ? index_arg(o, &a, &i) : -EINVAL;
    conc__reply(c, r->msgid, err, err ? NULL : conc__put_blob, err ? NULL : o->u.list.v[i]);
    return 0;
}

int conc__list_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args, *v;
    uint32_t vl;
    size_t i;
    int err = r->nargs == 2 ? index_arg(o, &a, &i) : -EINVAL;
    if (!err) err = conc__mp_bytes(&a, &v, &vl);
    if (!err) {
        blob_t *b = conc__blob(v, vl);
        if (b) {
            free(o->u.list.v[i]);
            o->u.list.v[i] = b;
        } else {
            err = -ENOMEM;
        }
    }
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

int conc__list_pop(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args;
    size_t i;
    int err = r->nargs == 1 ? index_arg(o, &a, &i) : -EINVAL;
    if (err) {
        conc__reply(c, r->msgid, err, NULL, NULL);
        return 0;
    }
    blob_t *b = o->u.list.v[i];
    memmove(o->u.list.v + i, o->u.list.v + i + 1, (o->u.list.n - i - 1) * sizeof *o->u.list.v);
    o->u.list.n--;
    conc__reply(c, r->msgid, 0, conc__put_blob, b);
    free(b);
    return 0;
}

int conc__list_len(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    int64_t n = (int64_t)o->u.list.n;
    conc__reply(c, r->msgid, r->nargs ? -EINVAL : 0, r->nargs ? NULL : conc__put_int, &n);
    return 0;
}
