/* The server's side of the same-host fast path (the client's is fast.c, which says why it exists):
 * granting a slot, serving requests from slots, and the spin-then-sleep around the event loop.
 *
 * Granting: on a unix-socket connection that asks with "manager.fast" after authenticating, a memfd
 * holding the slot is created, sealed against shrinking and growing (a client cannot truncate it
 * under us: no SIGBUS in the server), and sent with the doorbell eventfd as SCM_RIGHTS on the
 * reply's first byte. TCP connections get -ENOSYS, and a Python client never asks.
 *
 * Serving: the slot is the client's memory, and the client may rewrite it at any moment, so the
 * server reads only the state word, the length and the request bytes: the length is checked
 * against the slot and the frame limit, the bytes are copied out first, and only the copy is
 * decoded - by the same bounded walker and decoder as a socket frame (conc__dispatch). A bad length
 * or a frame that is not a request closes the connection, as on the socket. The reply is encoded as
 * for the socket and copied in; one larger than the slot, and the later reply of a request that was
 * parked, go on the socket and the slot says MS_SOCKET.
 *
 * One thread still serves everything: after the event loop's work, conc__fast_spin watches the
 * slots until none has brought a request for s->spin (a client on another CPU sends its next call
 * within a few microseconds), bounded in requests and time so sockets, timeouts and accepts are
 * never starved by a client that keeps its slot busy. A spin that finds nothing shrinks the next to
 * nothing - on one CPU it only delays the client - and a full one is tried every PROBE sleeps.
 * Before sleeping the server flags every slot (server_sleeps) and looks once more; a client that
 * posts after that sees the flag and rings the doorbell, which epoll watches edge-triggered: the
 * count is never read, each write is an edge. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "srv.h"
#include "../internal/conn.h"
#include "../internal/sync.h"

#define SPIN_MAX   50e-6
#define SPIN_MIN   1e-6
#define PROBE      256
#define MAX_SERVED 1024 /* requests per spin, then back to epoll */
#define MAX_TOTAL  1e-3 /* seconds per spin, then back to epoll */

static int make_slot(int *memfd, conc__mshm_t **h) {
    int fd = memfd_create("conc-manager", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)CONC__MSHM_SIZE) == 0 &&
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
        p = mmap(NULL, CONC__MSHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = -errno;
        close(fd);
        return e;
    }
    *h = p;
    (*h)->magic = CONC__MSHM_MAGIC;
    (*h)->cap = (uint32_t)CONC__MSHM_CAP;
    *memfd = fd;
    return 0;
}

static int ready(srv_t *s) {
    if (!s->fast_in && !(s->fast_in = malloc(CONC__MSHM_CAP))) return -ENOMEM;
    if (s->bell >= 0) return 0;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return -errno;
    struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.ptr = &s->bell};
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    s->bell = fd;
    s->spin = conc__spin_ok ? SPIN_MAX : 0;
    return 0;
}

void conc__fast_grant(sconn_t *c, uint64_t msgid) {
    srv_t *s = c->s;
    int memfd = -1, r = c->family != AF_UNIX ? -ENOSYS : c->shm ? -EINVAL : ready(s);
    conc__mshm_t *h = NULL;
    if (r == 0) r = make_slot(&memfd, &h);
    /* The descriptors ride on the reply's first byte: what is queued before it goes first. */
    if (r == 0) conc__sconn_flush(c);
    if (r == 0 && c->out_off != c->out.len) r = -EAGAIN;
    conc__mbuf_t b = {0};
    if (r == 0) {
        b.len = 4;
        if (!conc__mbuf_room(&b, 16) || conc__mp_put_array(&b, 3) || conc__mp_put_uint(&b, msgid) ||
            conc__mp_put_int(&b, 0) || conc__mp_put_nil(&b))
            r = -ENOMEM;
    }
    if (r == 0) {
        conc__frame_header(b.len - 4, (unsigned char *)b.p);
        int fds[2] = {memfd, s->bell};
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof fds)];
        } cm;
        memset(&cm, 0, sizeof cm);
        struct iovec iov = {b.p, b.len};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cm.buf,
                            .msg_controllen = sizeof cm.buf};
        struct cmsghdr *cmh = CMSG_FIRSTHDR(&mh);
        cmh->cmsg_level = SOL_SOCKET;
        cmh->cmsg_type = SCM_RIGHTS;
        cmh->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(cmh), fds, sizeof fds);
        ssize_t w;
        do w = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0) {
            r = -errno; /* nothing went: the plain reply below says no */
        } else if ((size_t)w < b.len) {
            char *dst = conc__mbuf_room(&c->out, b.len - (size_t)w);
            if (dst) {
                memcpy(dst, b.p + w, b.len - (size_t)w);
                c->out.len += b.len - (size_t)w;
            } else {
                c->closing = true; /* half a frame went: the stream cannot go on */
            }
        }
    }
    conc__mbuf_free(&b);
    if (memfd >= 0) close(memfd); /* the client has its own now, or never will */
    if (r < 0 || c->closing) {
        if (h) munmap(h, CONC__MSHM_SIZE);
        if (r < 0)
            conc__reply(c, msgid, r == -EAGAIN || r == -EWOULDBLOCK ? -EAGAIN : r, NULL, NULL);
        return;
    }
    c->shm = h;
    c->fnext = s->fast;
    if (s->fast) s->fast->fprev = c;
    s->fast = c;
}

void conc__fast_drop(sconn_t *c) {
    if (!c->shm) return;
    srv_t *s = c->s;
    if (c->fprev)
        c->fprev->fnext = c->fnext;
    else
        s->fast = c->fnext;
    if (c->fnext) c->fnext->fprev = c->fprev;
    /* A client sleeping on a request we will never answer: send it to the socket, closed by now,
     * rather than let it find out at its next look. */
    conc__mshm_t *h = c->shm;
    uint32_t req = MS_REQ;
    if (__atomic_compare_exchange_n(&h->state, &req, MS_SOCKET, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_RELAXED) &&
        __atomic_load_n(&h->client_sleeps, __ATOMIC_SEQ_CST))
        conc__futex_wake(&h->state, 1, true);
    munmap(c->shm, CONC__MSHM_SIZE);
    c->shm = NULL;
    conc__mbuf_free(&c->fast_out);
}

void conc__fast_free(srv_t *s) {
    if (s->bell >= 0) close(s->bell);
    s->bell = -1;
    free(s->fast_in);
    s->fast_in = NULL;
}

/* Serve c's slot if it holds a request: true if it did (c may have been closed). */
static bool take(sconn_t *c) {
    conc__mshm_t *h = c->shm;
    srv_t *s = c->s;
    /* After a shutdown request nothing more is served (the client hears the socket close). */
    if (c->closing || s->stop || __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != MS_REQ)
        return false;
    uint32_t n = __atomic_load_n(&h->req_len, __ATOMIC_RELAXED);
    conc__mreq_t r;
    if (n > CONC__MSHM_CAP || n > s->max) {
        c->closing = true;
    } else {
        memcpy(s->fast_in, h->req, n); /* copied first: the client may rewrite the slot */
        if (conc__mreq_decode(s->fast_in, n, &r) == CONC_EPROTO) c->closing = true;
    }
    if (c->closing) { /* the client sees the socket close */
        conc__sconn_settle(c);
        return true;
    }
    c->fast_active = true;
    c->fast_replied = false;
    c->fast_msgid = r.msgid;
    conc__dispatch(c, s->fast_in, n);
    c->fast_active = false;
    uint32_t st = MS_SOCKET;
    if (c->fast_replied && !c->closing) {
        if (c->fast_out.len <= CONC__MSHM_CAP) {
            memcpy(h->req + CONC__MSHM_CAP, c->fast_out.p, c->fast_out.len);
            __atomic_store_n(&h->rep_len, (uint32_t)c->fast_out.len, __ATOMIC_RELAXED);
            st = MS_DONE;
        } else {
            conc__sconn_frame(c, c->fast_out.p, c->fast_out.len);
        }
    }
    if (c->fast_out.cap > 2 * CONC__MSHM_CAP) conc__mbuf_free(&c->fast_out);
    __atomic_store_n(&h->state, st, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h->client_sleeps, __ATOMIC_SEQ_CST)) conc__futex_wake(&h->state, 1, true);
    conc__sconn_settle(c);
    return true;
}

bool conc__fast_spin(srv_t *s) {
    if (!s->fast) return false;
    double limit = s->spin;
    if (limit == 0 && conc__spin_ok && ++s->probe >= PROBE) {
        s->probe = 0;
        limit = SPIN_MAX;
    }
    double t0 = conc_monotonic(), last = t0;
    unsigned served = 0;
    bool any = false, idle = false, paid = false;
    while (!s->stop) {
        bool got = false;
        for (sconn_t *c = s->fast, *n; c; c = n) {
            n = c->fnext; /* take may close c */
            if (take(c)) got = true, served++;
        }
        double now = conc_monotonic();
        if (got) {
            any = true;
            paid |= idle; /* a request that came while we watched: spinning paid */
            idle = false;
            last = now;
        } else {
            idle = true;
            if (now - last >= limit) break;
            for (int i = 0; i < 64; i++) conc__cpu_relax();
        }
        if (served >= MAX_SERVED || now - t0 >= MAX_TOTAL || !s->fast) break;
    }
    if (paid)
        s->spin = SPIN_MAX;
    else if (limit > 0)
        s->spin = s->spin / 4 < SPIN_MIN ? 0 : s->spin / 4;
    return any;
}

bool conc__fast_sleep(srv_t *s) {
    for (sconn_t *c = s->fast; c; c = c->fnext)
        __atomic_store_n(&c->shm->server_sleeps, 1, __ATOMIC_SEQ_CST);
    for (sconn_t *c = s->fast; c; c = c->fnext)
        if (__atomic_load_n(&c->shm->state, __ATOMIC_SEQ_CST) == MS_REQ && !c->closing) {
            conc__fast_awake(s);
            return false;
        }
    return true;
}

void conc__fast_awake(srv_t *s) {
    for (sconn_t *c = s->fast; c; c = c->fnext)
        __atomic_store_n(&c->shm->server_sleeps, 0, __ATOMIC_RELAXED);
}
