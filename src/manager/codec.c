/* The request/reply codec: [msgid, "kind.method", name, [args...]] and [msgid, err, result].
 *
 * Decoding starts with the bounded walker (walk.c); msgpuck reads the frame only after it, and each
 * read here checks the type first, so a well-formed message of the wrong shape is -EINVAL, never an
 * assertion. This file also instantiates msgpuck (MP_SOURCE): its functions are inline in the header
 * and need one out-of-line copy, hidden in libconc like everything not conc_*. */
#define _GNU_SOURCE
#define MP_SOURCE 1
#include <msgpuck.h>
#include <string.h>
#include "mgr.h"

/* A request nests [.., [[k, v], ...]]: 3 levels; a little room for Python's encoders. */
#define REQ_DEPTH 4

int conc__mp_bytes(const char **p, const char **data, uint32_t *len) {
    enum mp_type t = mp_typeof(**p);
    if (t != MP_BIN && t != MP_STR) return -EINVAL;
    *data = mp_decode_strbin(p, len);
    return 0;
}

int conc__mp_int(const char **p, int64_t *v) {
    enum mp_type t = mp_typeof(**p);
    if (t == MP_INT) {
        *v = mp_decode_int(p);
        return 0;
    }
    if (t != MP_UINT) return -EINVAL;
    const char *q = *p;
    uint64_t u = mp_decode_uint(&q);
    if (u > INT64_MAX) return -EINVAL;
    *p = q;
    *v = (int64_t)u;
    return 0;
}

int conc__mp_timeout(const char **p, double *t) {
    int64_t i;
    switch (mp_typeof(**p)) {
    case MP_NIL:
        mp_decode_nil(p);
        *t = -1;
        return 0;
    case MP_FLOAT: *t = mp_decode_float(p); break;
    case MP_DOUBLE: *t = mp_decode_double(p); break;
    case MP_INT:
    case MP_UINT:
        if (conc__mp_int(p, &i) < 0) return -EINVAL;
        *t = (double)i;
        break;
    default: return -EINVAL;
    }
    return *t != *t ? -EINVAL : 0; /* NaN */
}

int conc__mp_array(const char **p, uint32_t *n) {
    if (mp_typeof(**p) != MP_ARRAY) return -EINVAL;
    *n = mp_decode_array(p);
    return 0;
}

void conc__mp_skip(const char **p) {
    mp_next(p);
}

int conc__mreq_decode(const void *frame, size_t len, conc__mreq_t *r) {
    if (conc__mp_walk(frame, len, REQ_DEPTH) < 0) return CONC_EPROTO;
    const char *p = frame;
    uint32_t n;
    if (conc__mp_array(&p, &n) < 0 || n != 4 || mp_typeof(*p) != MP_UINT) return CONC_EPROTO;
    r->msgid = mp_decode_uint(&p);
    if (mp_typeof(*p) != MP_STR) return -EINVAL;
    r->method = mp_decode_str(&p, &r->method_len);
    if (conc__mp_bytes(&p, &r->name, &r->name_len) < 0) return -EINVAL;
    if (conc__mp_array(&p, &r->nargs) < 0) return -EINVAL;
    r->args = p;
    return 0;
}

int conc__mrep_decode(const void *frame, size_t len, uint64_t *msgid, int *err,
                      const char **result) {
    if (conc__mp_walk(frame, len, REQ_DEPTH) < 0) return CONC_EPROTO;
    const char *p = frame;
    uint32_t n;
    int64_t e;
    if (conc__mp_array(&p, &n) < 0 || n != 3 || mp_typeof(*p) != MP_UINT) return CONC_EPROTO;
    *msgid = mp_decode_uint(&p);
    if (conc__mp_int(&p, &e) < 0 || e > 0 || e < INT32_MIN) return CONC_EPROTO;
    *err = (int)e;
    *result = p;
    return 0;
}

int conc__mp_put_bin(conc__mbuf_t *b, const void *v, size_t len) {
    if (len > UINT32_MAX) return -EMSGSIZE;
    char *p = conc__mbuf_room(b, mp_sizeof_bin((uint32_t)len));
    if (!p) return -ENOMEM;
    b->len = (size_t)(mp_encode_bin(p, v, (uint32_t)len) - b->p);
    return 0;
}

int conc__mp_put_int(conc__mbuf_t *b, int64_t v) {
    char *p = conc__mbuf_room(b, 9);
    if (!p) return -ENOMEM;
    b->len = (size_t)((v < 0 ? mp_encode_int(p, v) : mp_encode_uint(p, (uint64_t)v)) - b->p);
    return 0;
}

int conc__mp_put_uint(conc__mbuf_t *b, uint64_t v) {
    char *p = conc__mbuf_room(b, 9);
    if (!p) return -ENOMEM;
    b->len = (size_t)(mp_encode_uint(p, v) - b->p);
    return 0;
}

int conc__mp_put_double(conc__mbuf_t *b, double v) {
    char *p = conc__mbuf_room(b, 9);
    if (!p) return -ENOMEM;
    b->len = (size_t)(mp_encode_double(p, v) - b->p);
    return 0;
}

int conc__mp_put_array(conc__mbuf_t *b, uint32_t n) {
    char *p = conc__mbuf_room(b, 5);
    if (!p) return -ENOMEM;
    b->len = (size_t)(mp_encode_array(p, n) - b->p);
    return 0;
}

int conc__mp_put_nil(conc__mbuf_t *b) {
    char *p = conc__mbuf_room(b, 1);
    if (!p) return -ENOMEM;
    b->len = (size_t)(mp_encode_nil(p) - b->p);
    return 0;
}

int conc__mreq_begin(conc__mbuf_t *b, uint64_t msgid, const char *method, const char *name,
                     size_t nlen, uint32_t nargs) {
    size_t mlen = strlen(method);
    if (nlen > UINT32_MAX) return -EINVAL;
    char *p = conc__mbuf_room(b, 1 + 9 + mp_sizeof_str((uint32_t)mlen) +
                                     mp_sizeof_str((uint32_t)nlen) + 5);
    if (!p) return -ENOMEM;
    p = mp_encode_array(p, 4);
    p = mp_encode_uint(p, msgid);
    p = mp_encode_str(p, method, (uint32_t)mlen);
    p = mp_encode_str(p, name, (uint32_t)nlen);
    p = mp_encode_array(p, nargs);
    b->len = (size_t)(p - b->p);
    return 0;
}
