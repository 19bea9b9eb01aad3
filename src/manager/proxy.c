/* What every proxy shares: opening (which creates the object on the server and checks the
 * connection in one round trip), calling "kind.method" on its object, reading results, closing.
 * A proxy is just the manager and the object's kind and name: all state lives in the server, so a
 * proxy is as cheap to open as a round trip and closing it tells the server nothing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mgr.h"

int conc__mproxy_call(conc__mproxy_t *p, const char *method, uint32_t nargs, conc__margs_fn put,
                      const void *ctx, void **frame, const char **result) {
    if (!p) return -EINVAL;
    char full[32];
    snprintf(full, sizeof full, "%s.%s", p->kind, method);
    conc__mbuf_t b = {0};
    uint64_t id = conc__mnext_id(p->m);
    int r = conc__mreq_begin(&b, id, full, p->name, p->name_len, nargs);
    if (r == 0 && put) r = put(&b, ctx);
    if (r == 0 && b.len > p->m->max) r = -EMSGSIZE;
    if (r == 0) r = conc__mcall(p->m, id, &b, frame, result);
    conc__mbuf_free(&b);
    return r;
}

static int put_maxsize(conc__mbuf_t *b, const void *ctx) {
    return conc__mp_put_int(b, *(const int64_t *)ctx);
}

int conc__mproxy_open(conc_manager_t *m, const char *kind, const char *name, const int64_t *maxsize,
                      conc__mproxy_t **out) {
    if (!m || !name || !out) return -EINVAL;
    size_t n = strlen(name);
    conc__mproxy_t *p = malloc(sizeof *p + n + 1);
    if (!p) return -ENOMEM;
    p->m = m;
    p->kind = kind;
    p->name_len = n;
    memcpy(p->name, name, n + 1);
    void *frame;
    const char *res;
    int r = conc__mproxy_call(p, "open", maxsize ? 1 : 0, maxsize ? put_maxsize : NULL, maxsize,
                              &frame, &res);
    if (r < 0) {
        free(p);
        return r;
    }
    free(frame);
    *out = p;
    return 0;
}

void conc_mproxy_close(void *proxy) {
    free(proxy);
}

int conc__mres_bytes(const char *result, void **v, size_t *len) {
    const char *data;
    uint32_t n;
    if (conc__mp_bytes(&result, &data, &n) < 0) return CONC_EPROTO;
    void *copy = malloc(n ? n : 1);
    if (!copy) return -ENOMEM;
    memcpy(copy, data, n);
    *v = copy;
    *len = n;
    return 0;
}

int conc__mres_int(const char *result, int64_t *v) {
    return conc__mp_int(&result, v) < 0 ? CONC_EPROTO : 0;
}
