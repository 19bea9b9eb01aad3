/* conc_conn_recv and conc_conn_poll: read one frame, header then body, never more.
 *
 * The header is checked before anything is allocated: a negative length other than -1, or a length
 * above the connection's limit, is CONC_EPROTO and breaks the connection (shut down both ways) -
 * after a bad header the stream cannot be resynchronised. Even a length within the limit is not
 * trusted: the body buffer starts at 1 MiB at most and doubles as bytes actually arrive, so a peer
 * that announces 1 GiB and sends nothing costs nothing (Python's _recv grows a BytesIO the same way).
 *
 * A frame whose peer vanishes half-way (the header or part of the body arrived, then EOF) is
 * CONC_ECLOSED, like a clean EOF: the peer died mid-send, which is not a protocol error, and the
 * incomplete message is dropped. A timeout or an interrupt mid-frame keeps what was read, so the
 * next call resumes where this one stopped.
 *
 * The wait is the recv itself wherever that can be made safe, because a Pipe round trip is only a
 * few syscalls and each costs about a microsecond here: a plain blocking recv when no SIGINT
 * concerns the caller, and in the main thread after conc_init - waiting forever, on x86_64 - a
 * blocking recv the SIGINT handler can cancel (base/intr_syscall.c). A deadline, or SIGINT
 * elsewhere (TSan, other architectures), needs a ppoll before a non-blocking recv. */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "../internal/conn.h"

#define BODY_START ((size_t)1 << 20)

/* A blocking recv that a SIGINT ends (base/intr_syscall.c). -EINTR from the stub is either our
 * SIGINT (consumed here) or another signal's handler without SA_RESTART: then just recv again. */
#if CONC__HAVE_INTR_SYSCALL
static ssize_t read_intr(conc_conn_t *c, void *p, size_t n) {
    for (;;) {
        long r = conc__intr_syscall(SYS_recvfrom, c->fd, (long)p, (long)n, 0, 0);
        if (r >= 0) return r;
        if (r == -EINTR) {
            if (conc__intr_take()) return -EINTR;
            continue;
        }
        if (r == -EAGAIN || r == -EWOULDBLOCK) { /* a non-blocking fd the caller handed us */
            struct pollfd pf = {c->fd, POLLIN, 0};
            int w = conc__wait_fds(&pf, 1, INFINITY, true);
            if (w < 0) return w;
            continue;
        }
        if (r == -ECONNRESET) return 0;
        return r;
    }
}
#endif

/* Read up to n bytes: > 0 bytes read, 0 at EOF (or a reset), or -ETIMEDOUT / -EINTR / -errno.
 *
 * With no deadline, a blocking recv is the whole wait: plain, or read_intr's when SIGINT must end
 * it - the raw loop's three syscalls a side per round trip either way. Otherwise the read must not
 * block, and the wait is a ppoll (conc__wait_fds). A syscall costs about a microsecond on these
 * VMs, so a header read that found nothing last time waits first instead of trying a recv bound to
 * fail: ping-pong traffic pays ppoll + recv, streaming traffic just recv. A wait that returned
 * within a few microseconds found data already there: try first again. */
static ssize_t read_some(conc_conn_t *c, void *p, size_t n, double deadline, bool intr,
                         bool header) {
#if CONC__HAVE_INTR_SYSCALL
    if (intr && isinf(deadline)) return read_intr(c, p, n);
#endif
    int flags = (isinf(deadline) && !intr) ? 0 : MSG_DONTWAIT;
    bool wait_first = flags && header && c->wait_first;
    for (;;) {
        if (wait_first) {
            wait_first = false;
            double t0 = conc_monotonic();
            struct pollfd pf = {c->fd, POLLIN, 0};
            int w = conc__wait_fds(&pf, 1, deadline, true);
            if (w < 0) return w;
            if (conc_monotonic() - t0 < 5e-6) c->wait_first = false;
        }
        ssize_t r = recv(c->fd, p, n, flags);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (header) c->wait_first = true;
            struct pollfd pf = {c->fd, POLLIN, 0};
            int w = conc__wait_fds(&pf, 1, deadline, true);
            if (w < 0) return w;
            continue;
        }
        if (errno == ECONNRESET) return 0;
        return -errno;
    }
}

static int recv_frame(conc_conn_t *c, void **buf, size_t *len, double deadline) {
    if (__atomic_load_n(&c->broken, __ATOMIC_ACQUIRE)) return CONC_ECLOSED;
    bool intr = conc__intr_here();
    while (!c->msg) {
        bool wide = c->hdr_have >= 4 && !memcmp(c->hdr, "\xff\xff\xff\xff", 4); /* -1 */
        size_t need = wide ? CONC__FRAME_HDR_MAX : 4;
        if (c->hdr_have < need) {
            ssize_t r =
                read_some(c, c->hdr + c->hdr_have, need - c->hdr_have, deadline, intr, true);
            if (r == 0) {
                c->hdr_have = 0; /* EOF, possibly inside a header: the peer is gone */
                return CONC_ECLOSED;
            }
            if (r < 0) return (int)r;
            c->hdr_have += (size_t)r;
            continue;
        }
        uint64_t size = 0;
        if (wide) {
            for (int i = 4; i < 12; i++) size = size << 8 | c->hdr[i];
        } else {
            int32_t n = (int32_t)((uint32_t)c->hdr[0] << 24 | (uint32_t)c->hdr[1] << 16 |
                                  (uint32_t)c->hdr[2] << 8 | c->hdr[3]);
            if (n < 0) goto bad;
            size = (uint64_t)n;
        }
        if (size > __atomic_load_n(&c->max, __ATOMIC_RELAXED)) goto bad;
        size_t cap = size < BODY_START ? (size_t)size : BODY_START;
        c->msg = malloc(cap ? cap : 1);
        if (!c->msg) return -ENOMEM; /* the header stays read: a later call can retry */
        c->msg_len = (size_t)size;
        c->msg_cap = cap;
        c->msg_have = 0;
    }
    while (c->msg_have < c->msg_len) {
        if (c->msg_have == c->msg_cap) {
            size_t cap = c->msg_cap * 2 < c->msg_len ? c->msg_cap * 2 : c->msg_len;
            unsigned char *m = realloc(c->msg, cap);
            if (!m) return -ENOMEM;
            c->msg = m;
            c->msg_cap = cap;
        }
        ssize_t r =
            read_some(c, c->msg + c->msg_have, c->msg_cap - c->msg_have, deadline, intr, false);
        if (r == 0) {
            free(c->msg); /* truncated frame: the peer died mid-send */
            c->msg = NULL;
            c->hdr_have = c->msg_len = c->msg_cap = c->msg_have = 0;
            return CONC_ECLOSED;
        }
        if (r < 0) return (int)r;
        c->msg_have += (size_t)r;
    }
    *buf = c->msg;
    *len = c->msg_len;
    c->msg = NULL;
    c->hdr_have = c->msg_len = c->msg_cap = c->msg_have = 0;
    return 0;
bad:
    conc__conn_break(c);
    return CONC_EPROTO;
}

int conc_conn_recv(conc_conn_t *c, void **buf, size_t *len, double timeout) {
    if (!c || !buf || !len) return -EINVAL;
    if (!(c->mode & CONC__CONN_READ)) return -EBADF;
    double deadline = conc_deadline(timeout);
    int r = conc_lock_acquire(&c->recv, timeout);
    if (r < 0) return r;
    r = recv_frame(c, buf, len, deadline);
    conc_lock_release(&c->recv);
    return r;
}

int conc_conn_poll(conc_conn_t *c, double timeout) {
    if (!c) return -EINVAL;
    if (!(c->mode & CONC__CONN_READ)) return -EBADF;
    if (__atomic_load_n(&c->broken, __ATOMIC_ACQUIRE)) return 0;
    struct pollfd p = {c->fd, POLLIN, 0};
    int r = conc__wait_fds(&p, 1, conc_deadline(timeout), true);
    return r > 0 ? 0 : r;
}
