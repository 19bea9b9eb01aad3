/* Request dispatch: decode a frame, find "kind.method" in the table, find or create the named
 * object, run the method. Everything a client can name is in the table below: no name ever reaches
 * a lookup of code or a decoder of anything but bytes, ints and floats (CPython's managers unpickle
 * requests, so there a leaked key is code execution; here it is access to the objects).
 *
 * A frame that is not a request at all (not msgpack, not a 4-array with a msgid) closes the
 * connection: there is no msgid to answer, and the stream is not to be trusted further. A request
 * with a bad method is -ENOSYS, with bad arguments -EINVAL; the connection stays. */
#define _GNU_SOURCE
#include <string.h>
#include "srv.h"

/* clang-format off */
#define M(k, m) int conc__##k##_##m(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
M(dict, set) M(dict, get) M(dict, del) M(dict, len) M(dict, update) M(dict, items)
M(list, append) M(list, get) M(list, set) M(list, pop) M(list, len)
M(value, get) M(value, set) M(value, add)
M(queue, open) M(queue, put) M(queue, get)
M(lock, acquire) M(lock, release)
M(event, set) M(event, clear) M(event, wait)
#undef M
    /* clang-format on */

    /* open on any kind but queue: create the object, nothing else */
    static int open_plain(sconn_t *c, mobj_t *o, const conc__mreq_t *r) {
    (void)o;
    conc__reply(c, r->msgid, r->nargs ? -EINVAL : 0, NULL, NULL);
    return 0;
}

static const char *const kinds[K_COUNT] = {"dict", "list", "value", "queue", "lock", "event"};

static const struct {
    int kind;
    const char *name;
    method_fn fn;
} methods[] = {
/* clang-format off */
#define E(K, k, m) {K, #m, conc__##k##_##m},
    E(K_DICT, dict, set) E(K_DICT, dict, get) E(K_DICT, dict, del) E(K_DICT, dict, len)
    E(K_DICT, dict, update) E(K_DICT, dict, items)
    E(K_LIST, list, append) E(K_LIST, list, get) E(K_LIST, list, set) E(K_LIST, list, pop)
    E(K_LIST, list, len)
    E(K_VALUE, value, get) E(K_VALUE, value, set) E(K_VALUE, value, add)
    E(K_QUEUE, queue, open) E(K_QUEUE, queue, put) E(K_QUEUE, queue, get)
    E(K_LOCK, lock, acquire) E(K_LOCK, lock, release)
    E(K_EVENT, event, set) E(K_EVENT, event, clear) E(K_EVENT, event, wait)
#undef E
    /* clang-format on */
};

method_fn conc__method(int kind, const char *name, size_t len) {
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (methods[i].kind == kind && strlen(methods[i].name) == len &&
            !memcmp(methods[i].name, name, len))
            return methods[i].fn;
    if (len == 4 && !memcmp(name, "open", 4)) return open_plain;
    return NULL;
}

void conc__dispatch(sconn_t *c, const void *frame, size_t len) {
    conc__mreq_t r;
    int err = conc__mreq_decode(frame, len, &r);
    if (err == CONC_EPROTO) {
        c->closing = true; /* the event loop closes it (after any replies already queued) */
        return;
    }
    if (err) {
        conc__reply(c, r.msgid, err, NULL, NULL);
        return;
    }
    const char *dot = memchr(r.method, '.', r.method_len);
    size_t klen = dot ? (size_t)(dot - r.method) : 0;
    if (klen == 7 && !memcmp(r.method, "manager", 7) && r.method_len == 16 &&
        !memcmp(dot, ".shutdown", 9)) {
        conc__reply(c, r.msgid, r.nargs ? -EINVAL : 0, NULL, NULL);
        if (!r.nargs) c->s->stop = true;
        return;
    }
    if (klen == 7 && !memcmp(r.method, "manager", 7) && r.method_len == 12 &&
        !memcmp(dot, ".fast", 5)) {
        if (r.nargs)
            conc__reply(c, r.msgid, -EINVAL, NULL, NULL);
        else
            conc__fast_grant(c, r.msgid);
        return;
    }
    int kind = -1;
    for (int k = 0; dot && k < K_COUNT; k++)
        if (strlen(kinds[k]) == klen && !memcmp(kinds[k], r.method, klen)) kind = k;
    method_fn fn = kind < 0 ? NULL : conc__method(kind, dot + 1, r.method_len - klen - 1);
    if (!fn) {
        conc__reply(c, r.msgid, -ENOSYS, NULL, NULL);
        return;
    }
    mobj_t *o = conc__obj_get(c->s, kind, r.name, r.name_len, &c->s->made);
    if (!o) {
        conc__reply(c, r.msgid, -ENOMEM, NULL, NULL);
        return;
    }
    fn(c, o, &r);
}
