/* conc_mdict_*: the dict proxy. update and items move any number of pairs in one round trip. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "mgr.h"

#define P(d) ((conc__mproxy_t *)(d))

int conc_mdict_open(conc_manager_t *m, const char *name, conc_mdict_t **d) {
    return conc__mproxy_open(m, "dict", name, NULL, (conc__mproxy_t **)d);
}

typedef struct {
    const void *a;
    size_t alen;
    const void *b;
    size_t blen;
} two_t;

static int put_one(conc__mbuf_t *b, const void *ctx) {
    const two_t *t = ctx;
    return conc__mp_put_bin(b, t->a, t->alen);
}

static int put_two(conc__mbuf_t *b, const void *ctx) {
    const two_t *t = ctx;
    int r = conc__mp_put_bin(b, t->a, t->alen);
    return r ? r : conc__mp_put_bin(b, t->b, t->blen);
}

/* Call method on d and drop the (nil) result. */
static int call(conc_mdict_t *d, const char *method, uint32_t nargs, conc__margs_fn put,
                const void *ctx) {
    void *frame;
    const char *res;
    int r = conc__mproxy_call(P(d), method, nargs, put, ctx, &frame, &res);
    if (r == 0) free(frame);
    return r;
}

int conc_mdict_set(conc_mdict_t *d, const void *k, size_t klen, const void *v, size_t vlen) {
    if ((!k && klen) || (!v && vlen)) return -EINVAL;
    two_t t = {k, klen, v, vlen};
    return call(d, "set", 2, put_two, &t);
}

int conc_mdict_get(conc_mdict_t *d, const void *k, size_t klen, void **v, size_t *vlen) {
    if ((!k && klen) || !v || !vlen) return -EINVAL;
    two_t t = {k, klen, NULL, 0};
    void *frame;
    const char *res;
    int r = conc__mproxy_call(P(d), "get", 1, put_one, &t, &frame, &res);
    if (r < 0) return r;
    r = conc__mres_bytes(res, v, vlen);
    free(frame);
    return r;
}

int conc_mdict_del(conc_mdict_t *d, const void *k, size_t klen) {
    if (!k && klen) return -EINVAL;
    two_t t = {k, klen, NULL, 0};
    return call(d, "del", 1, put_one, &t);
}

int conc_mdict_len(conc_mdict_t *d, size_t *n) {
    if (!n) return -EINVAL;
    void *frame;
    const char *res;
    int64_t v = 0;
    int r = conc__mproxy_call(P(d), "len", 0, NULL, NULL, &frame, &res);
    if (r < 0) return r;
    r = conc__mres_int(res, &v);
    free(frame);
    if (r == 0) *n = (size_t)v;
    return r;
}

typedef struct {
    const conc_bytes_t *kv;
    size_t n;
} batch_t;

static int put_pairs(conc__mbuf_t *b, const void *ctx) {
    const batch_t *t = ctx;
    if (t->n > UINT32_MAX) return -EMSGSIZE;
    int r = conc__mp_put_array(b, (uint32_t)t->n);
    for (size_t i = 0; i < t->n && !r; i++) {
        const conc_bytes_t *k = &t->kv[2 * i], *v = k + 1;
        if ((!k->data && k->len) || (!v->data && v->len)) return -EINVAL;
        if (!(r = conc__mp_put_array(b, 2)) && !(r = conc__mp_put_bin(b, k->data, k->len)))
            r = conc__mp_put_bin(b, v->data, v->len);
    }
    return r;
}

int conc_mdict_update(conc_mdict_t *d, const conc_bytes_t *kv, size_t npairs) {
    if (!kv && npairs) return -EINVAL;
    batch_t t = {kv, npairs};
    return call(d, "update", 1, put_pairs, &t);
}

int conc_mdict_items(conc_mdict_t *d, conc_bytes_t **kv, size_t *npairs) {
    if (!kv || !npairs) return -EINVAL;
    void *frame;
    const char *res, *p;
    int r = conc__mproxy_call(P(d), "items", 0, NULL, NULL, &frame, &res);
    if (r < 0) return r;
    /* Two passes over the walked reply: sizes, then one block holding the array and the bytes. */
    uint32_t n, two, len;
    const char *data;
    size_t total = 0;
    r = CONC_EPROTO;
    p = res;
    if (conc__mp_array(&p, &n) < 0) goto out;
    for (uint32_t i = 0; i < n; i++) {
        if (conc__mp_array(&p, &two) < 0 || two != 2) goto out;
        for (int j = 0; j < 2; j++) {
            if (conc__mp_bytes(&p, &data, &len) < 0) goto out;
            total += len;
        }
    }
    conc_bytes_t *out = malloc(2 * (size_t)n * sizeof *out + total + 1);
    r = -ENOMEM;
    if (!out) goto out;
    char *bytes = (char *)(out + 2 * (size_t)n);
    p = res;
    conc__mp_array(&p, &n);
    for (uint32_t i = 0; i < 2 * n; i++) {
        if (i % 2 == 0) conc__mp_array(&p, &two);
        conc__mp_bytes(&p, &data, &len);
        memcpy(bytes, data, len);
        out[i].data = bytes;
        out[i].len = len;
        bytes += len;
    }
    *kv = out;
    *npairs = n;
    r = 0;
out:
    free(frame);
    return r;
}
