/* The server's event loop: one thread, one epoll set holding the listening socket, every client
 * connection, and optionally the pidfd of the process that started the server (conc_manager_start),
 * so the server never outlives it - even a parent killed with SIGKILL.
 *
 * No thread per connection: every operation on the objects is short, so one thread serves them
 * all without locks, and a request that must wait is parked (park.c) rather than blocking the
 * loop. The loop sleeps until the next parked deadline or handshake deadline, rounded up to the
 * millisecond so a timeout never fires early. In the main thread of a conc_init'ed process (the
 * `conc manager serve` command) the sleep goes through conc__wait_fds so SIGINT ends serving
 * cleanly: the unix socket file is removed, connections closed, memory freed. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <unistd.h>
#include <poll.h>
#include "srv.h"

static double next_deadline(srv_t *s) {
    double d = conc__park_next_deadline(s);
    if (s->unauth)
        for (sconn_t *c = s->conns; c; c = c->next)
            if (c->state != S_READY && c->deadline < d) d = c->deadline;
    return d;
}

static void expire_handshakes(srv_t *s, double now) {
    if (!s->unauth) return;
    for (sconn_t *c = s->conns, *n; c; c = n) {
        n = c->next;
        if (c->state != S_READY && c->deadline <= now) conc__sconn_close(c);
    }
}

static int loop(srv_t *s) {
    struct epoll_event evs[64];
    while (!s->stop) {
        double deadline = next_deadline(s);
        /* A slot that got a request while we served others: no sleep, just a look at the fds. */
        bool sleep = !s->fast || conc__fast_sleep(s);
        int ms = sleep ? -1 : 0;
        if (!sleep && !s->no_intr && conc__intr_here()) { /* busy slots must not hide a SIGINT */
            conc__signals_flush();
            if (conc__intr_take()) return -EINTR;
        }
        if (sleep && !s->no_intr && conc__intr_here()) {
            struct pollfd p = {s->epfd, POLLIN, 0};
            int r = conc__wait_fds(&p, 1, deadline, true);
            if (r == -EINTR) {
                conc__fast_awake(s);
                return -EINTR;
            }
            ms = 0;
        } else if (sleep && !isinf(deadline)) {
            double left = ceil((deadline - conc_monotonic()) * 1e3);
            ms = left < 0 ? 0 : left > 1e9 ? 1000000000 : (int)left;
        }
        int n = epoll_wait(s->epfd, evs, 64, ms);
        if (sleep && s->fast) conc__fast_awake(s);
        if (n < 0 && errno != EINTR) return -errno;
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &s->lfd) {
                conc__sconn_accept(s);
            } else if (tag == &s->ctl_fd) {
                s->stop = true;           /* the process that started us has ended */
            } else if (tag != &s->bell) { /* the doorbell only wakes us: the slots are below */
                conc__sconn_event(tag, evs[i].events);
            }
        }
        conc__fast_spin(s);
        double now = conc_monotonic();
        conc__park_expire(s, now);
        expire_handshakes(s, now);
    }
    return 0;
}

static void cleanup(srv_t *s) {
    while (s->conns) {
        conc__sconn_flush(s->conns); /* the shutdown reply, if the socket takes it now */
        conc__sconn_close(s->conns);
    }
    for (hent_t *e = s->objs.first; e; e = e->next) conc__obj_free(e->val);
    conc__htab_free(&s->objs);
    conc__fast_free(s);
    if (s->lfd >= 0) close(s->lfd);
    if (s->epfd >= 0) close(s->epfd);
}

int conc__mserve(const conc__mserve_opts_t *o) {
    srv_t s;
    memset(&s, 0, sizeof s);
    s.lfd = s.epfd = s.bell = -1;
    s.ctl_fd = o->ctl_fd;
    s.no_intr = o->no_intr;
    s.key = o->key;
    s.key_len = o->key_len;
    s.max = o->max ? o->max : CONC_MANAGER_DEFAULT_MAX_MESSAGE;
    s.objs.seed = s.seed;
    int r = conc__random(s.seed, sizeof s.seed);
    if (r < 0) return r;
    /* No address: a socket in a fresh 0700 directory, removed with it when serving ends. */
    char dir[] = "/tmp/conc-manager-XXXXXX", path[sizeof dir + 16];
    const char *address = o->address;
    bool made_dir = false;
    if (!address) {
        if (!mkdtemp(dir)) return -errno;
        made_dir = true;
        snprintf(path, sizeof path, "unix:%s/s", dir);
        address = path;
    }
    conc__maddr_t a, bound;
    r = conc__maddr_parse(address, &a);
    if (r == 0) r = conc__maddr_listen(&a, &s.lfd, &bound);
    bool listening = r == 0; /* only then is the socket file ours to remove */
    char *text = r == 0 ? conc__maddr_format(&bound) : NULL;
    if (r == 0 && !text) r = -ENOMEM;
    if (r == 0) {
        s.epfd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = &s.lfd};
        if (s.epfd < 0 || epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.lfd, &e) < 0) r = -errno;
        struct epoll_event ce = {.events = EPOLLIN, .data.ptr = &s.ctl_fd};
        if (r == 0 && s.ctl_fd >= 0 && epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.ctl_fd, &ce) < 0)
            r = -errno;
    }
    if (r == 0) {
        if (o->ready) o->ready(text, o->ready_arg);
        r = loop(&s);
    }
    cleanup(&s);
    free(text);
    const struct sockaddr_un *un = (const struct sockaddr_un *)&a.sa;
    if (listening && a.family == AF_UNIX && un->sun_path[0]) unlink(un->sun_path);
    if (made_dir) rmdir(dir);
    return r;
}

int conc_manager_serve_notify(const conc_manager_opts_t *opts,
                              void (*ready)(const char *address, void *arg), void *arg) {
    if (!opts || !opts->authkey || !opts->authkey_len) return -EINVAL;
    conc__mserve_opts_t o = {
        opts->address, opts->authkey, opts->authkey_len, opts->max_message, -1, false, ready, arg};
    return conc__mserve(&o);
}

int conc_manager_serve(const conc_manager_opts_t *opts) {
    return conc_manager_serve_notify(opts, NULL, NULL);
}
