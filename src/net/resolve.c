/* loop.getaddrinfo: name resolution without blocking the loop.
 *
 * glibc's getaddrinfo blocks (DNS, /etc/hosts, NSS modules), so a name is looked up on a thread of
 * its own, which completes a future the task awaits (asyncio uses its default executor the same
 * way). Numeric addresses never need that: they are tried first with AI_NUMERICHOST, in place. A
 * cancelled task stops waiting at once; the thread finishes its lookup later and, finding the
 * future cancelled, frees the result. getaddrinfo_a was not used: it signals completion by a signal
 * or a thread of its own anyway, and cannot be cancelled once running either. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../internal/net.h"

struct lookup {
    char *host, *service;
    struct addrinfo hints;
    bool has_hints;
    conc_future_t *f; /* one reference for the thread */
};

static void lookup_free(struct lookup *l) {
    free(l->host);
    free(l->service);
    free(l);
}

static void *lookup_main(void *arg) {
    struct lookup *l = arg;
    struct addrinfo *res = NULL;
    int r = getaddrinfo(l->host, l->service, l->has_hints ? &l->hints : NULL, &res);
    if (r == EAI_SYSTEM) r = errno ? -errno : -EIO;
    if (r != 0) {
        conc_future_set_error(l->f, r);
    } else if (conc_future_set_result(l->f, res) < 0) {
        freeaddrinfo(res); /* nobody waits any more */
    }
    conc_future_release(l->f);
    lookup_free(l);
    return NULL;
}

/* getaddrinfo's EAI_* codes are negative already on glibc; errors travel through the future as
 * they are */
int conc_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res) {
    if (!res) return -EINVAL;
    *res = NULL;
    struct addrinfo h = hints ? *hints : (struct addrinfo){.ai_family = AF_UNSPEC};
    if (!conc__task_running || !host) {
        int r = getaddrinfo(host, service, hints, res);
        return r == EAI_SYSTEM ? -errno : r;
    }
    struct addrinfo numeric = h;
    numeric.ai_flags |= AI_NUMERICHOST;
    int r = getaddrinfo(host, service, &numeric, res);
    if (r != EAI_NONAME) return r == EAI_SYSTEM ? -errno : r;

    struct lookup *l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    l->host = strdup(host);
    l->service = service ? strdup(service) : NULL;
    l->hints = h;
    l->has_hints = true;
    l->hints.ai_next = NULL;
    l->hints.ai_addr = NULL;
    l->hints.ai_canonname = NULL;
    conc_future_t *f = conc_future_new();
    if (!l->host || (service && !l->service) || !f) {
        if (f) conc_future_release(f);
        lookup_free(l);
        return -ENOMEM;
    }
    conc_future_retain(f);
    l->f = f;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t th;
    int e = pthread_create(&th, &attr, lookup_main, l);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        conc_future_release(f);
        conc_future_release(f);
        lookup_free(l);
        return -e;
    }
    void *v = NULL;
    r = conc_await(f, &v);
    if (r == 0)
        *res = v;
    else if (conc_future_result(f, &v) == 0)
        freeaddrinfo(v); /* it came, but this task was cancelled meanwhile */
    conc_future_release(f);
    return r;
}
