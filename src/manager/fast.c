/* The client's side of the same-host fast path: after authenticating on a unix socket, ask the
 * server for a shared-memory slot; then a call writes its request into the slot instead of the
 * socket, and reads the reply from it.
 *
 * Why: on these VMs a unix-socket round trip costs about 30 us whatever the payload - four
 * syscalls and two process switches - and a manager call cannot be cheaper than that over a
 * socket. Through shared memory, with the server spinning briefly over its slots after each request
 * and the client spinning briefly for the reply, a call on another CPU costs two cache-line
 * transfers and no syscall at all. When a side does sleep it says so first (client_sleeps,
 * server_sleeps), and the other pays the wake-up - a futex wake, a doorbell eventfd write - only
 * then: Dekker-style, each side stores its own flag and loads the other's with seq_cst, so one of
 * them always sees the other.
 *
 * How long to spin adapts: a spin that ends without the reply (the server is on this CPU, or busy)
 * shrinks the next one to nothing; every PROBE calls a full spin is tried again.
 *
 * What stays on the socket: the connection itself (its EOF is how the server learns of our death
 * and frees our locks; a sleeping call looks at it every SLICE to learn of the server's), requests
 * larger than the slot, replies larger than it, and the replies of calls that had to wait (parked
 * queue, lock and event calls) - the server marks the slot MS_SOCKET and the call waits there like
 * any other. A second thread finding the slot busy uses the socket. Python clients and TCP never
 * ask, and nothing changes for them. CONC_MANAGER_FAST=0 in the environment keeps a client off. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mgr.h"
#include "../internal/sync.h"

#define SPIN_MAX 50e-6 /* a reply from a server spinning on another CPU takes a few us */
#define SPIN_MIN 1e-6
#define PROBE    256
#define SLICE    0.1
#define ASK_S    10.0

static int ask(conc_manager_t *m, int fds[2]) {
    conc__mbuf_t b = {0};
    uint64_t id = conc__mnext_id(m);
    int r = conc__mreq_begin(&b, id, "manager.fast", "", 0, 0);
    if (r == 0) r = conc_conn_send(m->conn, b.p, b.len);
    conc__mbuf_free(&b);
    if (r < 0) return r;
    if (!m->rbuf) {
        if (!(m->rbuf = malloc(4096))) return -ENOMEM;
        m->rcap = 4096;
    }
    /* Nothing else is in flight: the first bytes read are the reply's, and the descriptors ride on
     * its first byte. Read them with recvmsg; conc__mread_reply completes the frame. */
    int fd = conc_conn_fd(m->conn), n = 0;
    double deadline = conc_monotonic() + ASK_S;
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } cm;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if ((r = conc__wait_fds(&pf, 1, deadline, false)) < 0) return r;
        struct iovec iov = {m->rbuf + m->rhave, m->rcap - m->rhave};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cm.buf,
                            .msg_controllen = sizeof cm.buf};
        ssize_t got = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (got == 0) return CONC_ECLOSED;
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got < 0) return -errno;
        m->rhave += (size_t)got;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int f;
                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                if (n < 2)
                    fds[n++] = f;
                else
                    close(f);
            }
        }
        break;
    }
    void *frame;
    size_t len;
    uint64_t got_id;
    int err = 0;
    const char *res;
    r = conc__mread_reply(m, &frame, &len);
    if (r < 0) return r;
    if (conc__mrep_decode(frame, len, &got_id, &err, &res) < 0 || got_id != id) r = CONC_EPROTO;
    free(frame);
    if (r == 0 && err < 0) r = err; /* -ENOSYS from a server without it, or a TCP connection */
    if (r == 0 && n != 2) r = CONC_EPROTO;
    return r;
}

void conc__mfast_open(conc_manager_t *m) {
    m->fast = NULL;
    m->bell = -1;
    const char *e = getenv("CONC_MANAGER_FAST");
    if ((e && !strcmp(e, "0")) || strncmp(m->address, "unix:", 5) != 0) return;
    int fds[2] = {-1, -1};
    struct stat st;
    void *map = MAP_FAILED;
    if (ask(m, fds) == 0 && fstat(fds[0], &st) == 0 && (size_t)st.st_size >= CONC__MSHM_SIZE)
        map = mmap(NULL, CONC__MSHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    if (fds[0] >= 0) close(fds[0]);
    conc__mshm_t *h = map;
    if (map == MAP_FAILED || h->magic != CONC__MSHM_MAGIC || h->cap != CONC__MSHM_CAP) {
        if (map != MAP_FAILED) munmap(map, CONC__MSHM_SIZE);
        if (fds[1] >= 0) close(fds[1]);
        return;
    }
    pthread_mutex_init(&m->fast_mu, NULL);
    m->bell = fds[1];
    m->spin = SPIN_MAX;
    m->probe = 0;
    m->fast = h;
}

void conc__mfast_close(conc_manager_t *m) {
    if (m->fast) {
        munmap(m->fast, CONC__MSHM_SIZE);
        pthread_mutex_destroy(&m->fast_mu);
    }
    if (m->bell >= 0) close(m->bell);
    m->fast = NULL;
    m->bell = -1;
}

static bool server_gone(conc_manager_t *m) {
    struct pollfd p = {conc_conn_fd(m->conn), POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Spin for the reply up to m->spin (or a full probe now and then), adapting m->spin. */
static uint32_t spin(conc_manager_t *m, uint32_t *state) {
    double limit = m->spin;
    if (limit == 0 && ++m->probe >= PROBE) {
        m->probe = 0;
        limit = SPIN_MAX;
    }
    uint32_t st = __atomic_load_n(state, __ATOMIC_ACQUIRE);
    if (st != MS_REQ || limit == 0) return st;
    double t0 = conc_monotonic();
    do {
        for (int i = 0; i < 64 && (st = __atomic_load_n(state, __ATOMIC_ACQUIRE)) == MS_REQ; i++)
            conc__cpu_relax();
    } while (st == MS_REQ && conc_monotonic() - t0 < limit);
    if (st != MS_REQ)
        m->spin = SPIN_MAX;
    else
        m->spin = m->spin / 4 < SPIN_MIN ? 0 : m->spin / 4;
    return st;
}

int conc__mfast_call(conc_manager_t *m, const conc__mbuf_t *req, void **frame, size_t *len) {
    conc__mshm_t *h = m->fast;
    if (req->len > CONC__MSHM_CAP || pthread_mutex_trylock(&m->fast_mu) != 0) return 2;
    /* A call that gave up (SIGINT) may have left its request with the server: wait for none. */
    if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == MS_REQ) {
        pthread_mutex_unlock(&m->fast_mu);
        return 2;
    }
    memcpy(h->req, req->p, req->len);
    __atomic_store_n(&h->req_len, (uint32_t)req->len, __ATOMIC_RELAXED);
    __atomic_store_n(&h->state, MS_REQ, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h->server_sleeps, __ATOMIC_SEQ_CST)) {
        uint64_t one = 1;
        ssize_t w = write(m->bell, &one, sizeof one);
        (void)w; /* EAGAIN: the count is full, the server is being woken anyway */
    }
    uint32_t st = spin(m, &h->state);
    int r = 0;
    while (st == MS_REQ) {
        __atomic_store_n(&h->client_sleeps, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&h->state, __ATOMIC_SEQ_CST) == MS_REQ)
            r = conc__wait(&h->state, MS_REQ, conc_monotonic() + SLICE, true);
        __atomic_store_n(&h->client_sleeps, 0, __ATOMIC_RELAXED);
        if (r == -EINTR) break;
        if (r == -ETIMEDOUT && server_gone(m)) {
            r = CONC_ECLOSED;
            break;
        }
        r = 0;
        st = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
    }
    if (r == 0) {
        if (st == MS_DONE) {
            /* Copied out before the reply decoder (and its walker) looks at it. */
            uint32_t n = __atomic_load_n(&h->rep_len, __ATOMIC_RELAXED);
            void *f = n <= CONC__MSHM_CAP ? malloc(n ? n : 1) : NULL;
            if (f) {
                memcpy(f, h->req + CONC__MSHM_CAP, n);
                *frame = f;
                *len = n;
            } else {
                r = n <= CONC__MSHM_CAP ? -ENOMEM : CONC_EPROTO;
            }
        } else {
            r = st == MS_SOCKET ? 1 : CONC_EPROTO;
        }
    }
    pthread_mutex_unlock(&m->fast_mu);
    return r;
}
