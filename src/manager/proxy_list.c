/* conc_mlist_*: the list proxy. Indexes travel as int64 (long on LP64). */
#define _GNU_SOURCE
#include <stdlib.h>
#include "mgr.h"

#define P(l) ((conc__mproxy_t *)(l))

typedef struct {
    int64_t i;
    const void *v;
    size_t len;
} arg_t;

static int put_v(conc__mbuf_t *b, const void *ctx) {
    const arg_t *a = ctx;
    return conc__mp_put_bin(b, a->v, a->len);
}

static int put_i(conc__mbuf_t *b, const void *ctx) {
    return conc__mp_put_int(b, ((const arg_t *)ctx)->i);
}

static int put_iv(conc__mbuf_t *b, const void *ctx) {
    int r = put_i(b, ctx);
    return r ? r : put_v(b, ctx);
}

int conc_mlist_open(conc_manager_t *m, const char *name, conc_mlist_t **l) {
    return conc__mproxy_open(m, "list", name, NULL, (conc__mproxy_t **)l);
}

static int nil_call(conc_mlist_t *l, const char *method, uint32_t nargs, conc__margs_fn put,
                    const arg_t *a) {
    void *frame;
    const char *res;
    int r = conc__mproxy_call(P(l), method, nargs, put, a, &frame, &res);
    if (r == 0) free(frame);
    return r;
}

static int bytes_call(conc_mlist_t *l, const char *method, long i, void **v, size_t *len) {
    if (!v || !len) return -EINVAL;
    arg_t a = {i, NULL, 0};
    void *frame;
    const char *res;
    int r = conc__mproxy_call(P(l), method, 1, put_i, &a, &frame, &res);
    if (r < 0) return r;
    r = conc__mres_bytes(res, v, len);
    free(frame);
    return r;
}

int conc_mlist_append(conc_mlist_t *l, const void *v, size_t len) {
    if (!v && len) return -EINVAL;
    arg_t a = {0, v, len};
    return nil_call(l, "append", 1, put_v, &a);
}

int conc_mlist_get(conc_mlist_t *l, long i, void **v, size_t *len) {
    return bytes_call(l, "get", i, v, len);
}

int conc_mlist_set(conc_mlist_t *l, long i, const void *v, size_t len) {
    if (!v && len) return -EINVAL;
    arg_t a = {i, v, len};
    return nil_call(l, "set", 2, put_iv, &a);
}

int conc_mlist_pop(conc_mlist_t *l, long i, void **v, size_t *len) {
    return bytes_call(l, "pop", i, v, len);
}

int conc_mlist_len(conc_mlist_t *l, size_t *n) {
    if (!n) return -EINVAL;
    void *frame;
    const char *res;
    int64_t v = 0;
    int r = conc__mproxy_call(P(l), "len", 0, NULL, NULL, &frame, &res);
    if (r < 0) return r;
    r = conc__mres_int(res, &v);
    free(frame);
    if (r == 0) *n = (size_t)v;
    return r;
}
