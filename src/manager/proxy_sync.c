/* conc_mvalue_*, conc_mqueue_*, conc_mlock_*, conc_mevent_*: the small proxies. Timeouts travel as
 * msgpack floats and are enforced by the server (a parked request): the call waits for the server's
 * answer, -ETIMEDOUT included, so a timeout never leaves a request behind that could still take a
 * queue item or a lock later. */
#define _GNU_SOURCE
#include <stdlib.h>
#include "mgr.h"

#define P(x) ((conc__mproxy_t *)(x))

typedef struct {
    int64_t i;
    double t;
    const void *v;
    size_t len;
} arg_t;

static int put_i(conc__mbuf_t *b, const void *ctx) {
    return conc__mp_put_int(b, ((const arg_t *)ctx)->i);
}

static int put_t(conc__mbuf_t *b, const void *ctx) {
    double t = ((const arg_t *)ctx)->t;
    return conc__mp_put_double(b, t < 0 ? -1.0 : t);
}

static int put_vt(conc__mbuf_t *b, const void *ctx) {
    const arg_t *a = ctx;
    int r = conc__mp_put_bin(b, a->v, a->len);
    return r ? r : put_t(b, ctx);
}

static int call(void *p, const char *method, uint32_t nargs, conc__margs_fn put, const arg_t *a,
                int64_t *iout, void **v, size_t *len) {
    void *frame;
    const char *res;
    int r = conc__mproxy_call(P(p), method, nargs, put, a, &frame, &res);
    if (r < 0) return r;
    if (iout) r = conc__mres_int(res, iout);
    if (v) r = conc__mres_bytes(res, v, len);
    free(frame);
    return r;
}

int conc_mvalue_open(conc_manager_t *m, const char *name, conc_mvalue_t **v) {
    return conc__mproxy_open(m, "value", name, NULL, (conc__mproxy_t **)v);
}

int conc_mvalue_get(conc_mvalue_t *v, int64_t *out) {
    if (!out) return -EINVAL;
    return call(v, "get", 0, NULL, NULL, out, NULL, NULL);
}

int conc_mvalue_set(conc_mvalue_t *v, int64_t x) {
    arg_t a = {.i = x};
    return call(v, "set", 1, put_i, &a, NULL, NULL, NULL);
}

int conc_mvalue_add(conc_mvalue_t *v, int64_t delta, int64_t *result) {
    arg_t a = {.i = delta};
    int64_t r64;
    int r = call(v, "add", 1, put_i, &a, &r64, NULL, NULL);
    if (r == 0 && result) *result = r64;
    return r;
}

int conc_mqueue_open(conc_manager_t *m, const char *name, size_t maxsize, conc_mqueue_t **q) {
    if (maxsize > INT64_MAX) return -EINVAL;
    int64_t max = (int64_t)maxsize;
    return conc__mproxy_open(m, "queue", name, &max, (conc__mproxy_t **)q);
}

int conc_mqueue_put(conc_mqueue_t *q, const void *v, size_t len, double timeout) {
    if (!v && len) return -EINVAL;
    arg_t a = {.t = timeout, .v = v, .len = len};
    return call(q, "put", 2, put_vt, &a, NULL, NULL, NULL);
}

int conc_mqueue_get(conc_mqueue_t *q, void **v, size_t *len, double timeout) {
    if (!v || !len) return -EINVAL;
    arg_t a = {.t = timeout};
    return call(q, "get", 1, put_t, &a, NULL, v, len);
}

int conc_mlock_open(conc_manager_t *m, const char *name, conc_mlock_t **l) {
    return conc__mproxy_open(m, "lock", name, NULL, (conc__mproxy_t **)l);
}

int conc_mlock_acquire(conc_mlock_t *l, double timeout) {
    arg_t a = {.t = timeout};
    return call(l, "acquire", 1, put_t, &a, NULL, NULL, NULL);
}

int conc_mlock_release(conc_mlock_t *l) {
    return call(l, "release", 0, NULL, NULL, NULL, NULL, NULL);
}

int conc_mevent_open(conc_manager_t *m, const char *name, conc_mevent_t **e) {
    return conc__mproxy_open(m, "event", name, NULL, (conc__mproxy_t **)e);
}

int conc_mevent_set(conc_mevent_t *e) {
    return call(e, "set", 0, NULL, NULL, NULL, NULL, NULL);
}

int conc_mevent_clear(conc_mevent_t *e) {
    return call(e, "clear", 0, NULL, NULL, NULL, NULL, NULL);
}

int conc_mevent_wait(conc_mevent_t *e, double timeout) {
    arg_t a = {.t = timeout};
    return call(e, "wait", 1, put_t, &a, NULL, NULL, NULL);
}
