/* conc_conn_send: one frame in Python's multiprocessing.connection format.
 *
 * The header is a 4-byte big-endian signed length, or -1 followed by an 8-byte big-endian length
 * when the body is larger than 0x7fffffff (Connection._send_bytes in 3.11). Header and body go out
 * in one sendmsg with two iovecs: Python concatenates them below 16 KiB to dodge Nagle (bpo-20540);
 * an iovec gets the same single segment without copying the body.
 *
 * A send lock keeps two threads' frames from interleaving. Once part of a frame is on the wire the
 * rest is always sent: a SIGINT is honoured only before the first byte (-EINTR, nothing sent), never
 * by tearing a frame in half, which would leave the peer reading garbage. MSG_NOSIGNAL: a peer that
 * is gone is CONC_ECLOSED, never SIGPIPE. */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "../internal/conn.h"

size_t conc__frame_header(size_t len, unsigned char *hdr) {
    if (len <= 0x7fffffff) {
        for (int i = 0; i < 4; i++) hdr[i] = (unsigned char)(len >> (24 - 8 * i));
        return 4;
    }
    hdr[0] = hdr[1] = hdr[2] = hdr[3] = 0xff; /* -1 */
    uint64_t n = len;
    for (int i = 0; i < 8; i++) hdr[4 + i] = (unsigned char)(n >> (56 - 8 * i));
    return 12;
}

static int send_frame(conc_conn_t *c, const void *buf, size_t len) {
    unsigned char hdr[CONC__FRAME_HDR_MAX];
    struct iovec iov[2] = {{hdr, conc__frame_header(len, hdr)}, {(void *)buf, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    bool intr = conc__intr_here();
    /* Outside the main thread nothing needs to interrupt the send: let the kernel block. */
    int flags = MSG_NOSIGNAL | (intr ? MSG_DONTWAIT : 0);
    bool started = false;
    for (;;) {
        ssize_t r = sendmsg(c->fd, &mh, flags);
        if (r >= 0) {
            started = true;
            size_t k = (size_t)r;
            while (mh.msg_iovlen && k >= mh.msg_iov->iov_len) {
                k -= mh.msg_iov->iov_len;
                mh.msg_iov++;
                mh.msg_iovlen--;
            }
            if (!mh.msg_iovlen) return 0;
            mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + k;
            mh.msg_iov->iov_len -= k;
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p = {c->fd, POLLOUT, 0};
            int w = conc__wait_fds(&p, 1, INFINITY, !started);
            if (w < 0) return w;
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) return CONC_ECLOSED;
        return -errno;
    }
}

int conc_conn_send(conc_conn_t *c, const void *buf, size_t len) {
    if (!c || (!buf && len)) return -EINVAL;
    if (!(c->mode & CONC__CONN_WRITE)) return -EBADF;
    if (len > __atomic_load_n(&c->max, __ATOMIC_RELAXED)) return -EMSGSIZE;
    if (__atomic_load_n(&c->broken, __ATOMIC_ACQUIRE)) return CONC_ECLOSED;
    int r = conc_lock_acquire(&c->send, CONC_FOREVER);
    if (r < 0) return r;
    r = send_frame(c, buf, len);
    conc_lock_release(&c->send);
    return r;
}
