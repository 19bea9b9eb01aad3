/* value.*: one int64. add is the point of a managed value - read-modify-write in one message, so
 * two processes adding concurrently never lose an update (x.value += 1 on a CPython Value proxy is
 * two round trips and loses them). Overflow is -ERANGE and leaves the value unchanged: C has no
 * big integers, and wrapping silently would be a lost update of another kind. */
#define _GNU_SOURCE
#include "srv.h"

int conc__value_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__value_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
int conc__value_add(sconn_t *c, mobj_t *o, const conc__mreq_t *r);

int conc__value_get(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    conc__reply(c, r->msgid, r->nargs ? -EINVAL : 0, r->nargs ? NULL : conc__put_int, &o->u.value);
    return 0;
}

int conc__value_set(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args;
    int64_t x;
    int err = r->nargs == 1 ? conc__mp_int(&a, &x) : -EINVAL;
    if (!err) o->u.value = x;
    conc__reply(c, r->msgid, err, NULL, NULL);
    return 0;
}

int conc__value_add(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    const char *a = r->args;
    int64_t d, sum = 0;
    int err = r->nargs == 1 ? conc__mp_int(&a, &d) : -EINVAL;
    if (!err && __builtin_add_overflow(o->u.value, d, &sum)) err = -ERANGE;
    if (!err) o->u.value = sum;
    conc__reply(c, r->msgid, err, err ? NULL : conc__put_int, &sum);
    return 0;
}
