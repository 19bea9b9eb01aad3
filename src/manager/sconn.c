/* One client connection on the server: accept, the handshake, reading request frames, writing
 * reply frames, closing.
 *
 * Reading is a buffer per connection filled by one recv per readiness event, so a request's header
 * and body cost one syscall, and no recv is made that is bound to find nothing (a syscall is about a
 * microsecond on these VMs, a third of a round trip's own syscalls). Each length is checked against
 * the limit before anything is allocated for the body - 256 bytes during the handshake (Python's
 * own limit there), the manager's limit after - and the buffer grows only as bytes arrive. Writing
 * cannot reuse conc_conn_send, which blocks until the whole frame is out: one client that stops reading would
 * stall the server. Replies are appended to a per-connection buffer and written with MSG_DONTWAIT;
 * what does not fit waits for EPOLLOUT, and while more than OUT_HIGH bytes wait the connection's
 * requests are not read (back-pressure instead of unbounded memory).
 *
 * An unauthenticated peer gets the challenge and, after a wrong answer, #FAILURE# (what a Python
 * Client expects to raise AuthenticationError) - nothing else; it has HANDSHAKE_S seconds. Nothing
 * here frees a connection except conc__sconn_close, called only from the event loop, so replies
 * queued from anywhere (a pump serving parked requests) never touch freed memory; a failed write
 * just marks the connection for closing. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "srv.h"
#include "../internal/conn.h"

#define OUT_HIGH    ((size_t)1 << 20)
#define HANDSHAKE_S 30.0
#define BATCH       32 /* connections accepted per readiness event */
#define IN_START    ((size_t)16 << 10)
#define IN_KEEP     ((size_t)1 << 20) /* a bigger input buffer is freed once empty */
#define READS       4 /* full-buffer reads per readiness event: fairness between clients */

CONC_HIDDEN void conc__maddr_accepted(int fd, int family);

static void watch(sconn_t *c) {
    size_t pending = c->out.len - c->out_off;
    uint32_t ev = pending ? EPOLLOUT : 0;
    if (!c->closing && pending < OUT_HIGH) ev |= EPOLLIN;
    if (ev == c->events) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(c->s->epfd, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

void conc__sconn_flush(sconn_t *c) {
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        c->closing = true; /* the peer is gone: the loop closes it */
        c->out.len = c->out_off = 0;
        break;
    }
    if (c->out_off == c->out.len) {
        c->out.len = c->out_off = 0;
        if (c->out.cap > OUT_HIGH) conc__mbuf_free(&c->out);
    }
    watch(c);
}

void conc__sconn_frame(sconn_t *c, const void *p, size_t len) {
    unsigned char hdr[CONC__FRAME_HDR_MAX];
    size_t h = conc__frame_header(len, hdr);
    char *dst = conc__mbuf_room(&c->out, h + len);
    if (!dst) {
        c->closing = true;
        return;
    }
    memcpy(dst, hdr, h);
    memcpy(dst + h, p, len);
    c->out.len += h + len;
    if (!c->batching) conc__sconn_flush(c);
}

static int encode(conc__mbuf_t *b, uint64_t msgid, int err, reply_fn put, const void *ctx) {
    int e = conc__mp_put_array(b, 3);
    if (!e) e = conc__mp_put_uint(b, msgid);
    if (!e) e = conc__mp_put_int(b, err);
    if (!e) e = put ? put(b, ctx) : conc__mp_put_nil(b);
    return e;
}

void conc__reply(sconn_t *c, uint64_t msgid, int err, reply_fn put, const void *ctx) {
    if (c->closing) return;
    if (c->fast_active && !c->fast_replied && msgid == c->fast_msgid) { /* into the slot */
        conc__mbuf_t *f = &c->fast_out;
        f->len = 0;
        int e = encode(f, msgid, err, put, ctx);
        if (!e && f->len > c->s->max) e = -EMSGSIZE;
        if (e) {
            f->len = 0;
            if (encode(f, msgid, e, NULL, NULL) < 0) {
                c->closing = true;
                return;
            }
        }
        c->fast_replied = true;
        return;
    }
    conc__mbuf_t *b = &c->out;
    size_t start = b->len;
    if (!conc__mbuf_room(b, 4)) goto fail;
    b->len += 4;
    int e = encode(b, msgid, err, put, ctx);
    if (!e && b->len - start - 4 > c->s->max) e = -EMSGSIZE; /* the client would refuse it */
    if (e) {
        b->len = start + 4;
        if (encode(b, msgid, e, NULL, NULL) < 0) goto fail;
    }
    size_t body = b->len - start - 4;
    if (body > 0x7fffffff) { /* the 12-byte header: move the body up */
        if (!conc__mbuf_room(b, 8)) goto fail;
        memmove(b->p + start + 12, b->p + start + 4, body);
        b->len += 8;
    }
    conc__frame_header(body, (unsigned char *)b->p + start);
    if (!c->batching) conc__sconn_flush(c);
    return;
fail:
    b->len = start;
    c->closing = true;
}

int conc__put_blob(conc__mbuf_t *b, const void *blob) {
    const blob_t *v = blob;
    return conc__mp_put_bin(b, v->data, v->len);
}

int conc__put_int(conc__mbuf_t *b, const void *i64) {
    return conc__mp_put_int(b, *(const int64_t *)i64);
}

void conc__sconn_accept(srv_t *s) {
    for (int i = 0; i < BATCH; i++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
                s->accept_off = true;
            }
            return;
        }
        conc__maddr_accepted(fd, sa.ss_family);
        sconn_t *c = calloc(1, sizeof *c);
        conc_conn_t *cc =
            c ? conc__conn_new(fd, CONC__CONN_READ | CONC__CONN_WRITE, CONC__AUTH_MAX_FRAME) : NULL;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        if (!cc || conc__auth_challenge(c->chal) < 0 ||
            epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
            if (cc)
                conc_conn_close(cc);
            else
                close(fd);
            free(c);
            continue;
        }
        c->s = s;
        c->conn = cc;
        c->fd = fd;
        c->family = sa.ss_family;
        c->id = ++s->next_id;
        c->events = EPOLLIN;
        c->state = S_CHALLENGED;
        c->deadline = conc_monotonic() + HANDSHAKE_S;
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        s->unauth++;
        conc__sconn_frame(c, c->chal, sizeof c->chal);
    }
}

void conc__sconn_close(sconn_t *c) {
    srv_t *s = c->s;
    if (c->state != S_READY) s->unauth--;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    conc__park_drop_conn(c);
    conc__lock_conn_died(s, c->id);
    conc_conn_close(c->conn);
    conc__mbuf_free(&c->out);
    conc__fast_drop(c);
    free(c->in);
    free(c);
    if (s->accept_off) { /* a descriptor is free again */
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = &s->lfd};
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &e) == 0) s->accept_off = false;
    }
}

static bool is(const void *buf, size_t len, const char *str) {
    return len == strlen(str) && !memcmp(buf, str, len);
}

/* One handshake message (see auth.c for the sequence). */
static void auth_step(sconn_t *c, const void *buf, size_t len) {
    srv_t *s = c->s;
    unsigned char ans[CONC__AUTH_RESP_LEN];
    switch (c->state) {
    case S_CHALLENGED:
        if (conc__auth_verify(s->key, s->key_len, c->chal, sizeof c->chal, buf, len)) {
            c->state = S_WANT_CHALLENGE;
            conc__sconn_frame(c, CONC__AUTH_WELCOME, strlen(CONC__AUTH_WELCOME));
        } else {
            conc__sconn_frame(c, CONC__AUTH_FAILURE, strlen(CONC__AUTH_FAILURE));
            c->closing = true;
        }
        break;
    case S_WANT_CHALLENGE:
        if (conc__auth_answer(s->key, s->key_len, buf, len, ans) < 0) {
            c->closing = true;
            break;
        }
        c->state = S_WANT_WELCOME;
        conc__sconn_frame(c, ans, sizeof ans);
        break;
    case S_WANT_WELCOME:
        if (!is(buf, len, CONC__AUTH_WELCOME)) {
            c->closing = true;
            break;
        }
        c->state = S_READY;
        s->unauth--;
        conc_conn_set_max_message(c->conn, s->max);
        break;
    }
}

/* The frame at the head of the input: 1 while its header is incomplete, else 0 with the header's
 * size and the frame's total, or CONC_EPROTO for a length that is negative or over the limit -
 * checked before a byte is allocated for the body, as the conn module's reader does. */
static int head(const sconn_t *c, size_t have, const unsigned char *h, size_t *hdr, size_t *total) {
    size_t limit = c->state == S_READY ? c->s->max : CONC__AUTH_MAX_FRAME;
    uint64_t size = 0;
    if (have < 4) return 1;
    if (!memcmp(h, "\xff\xff\xff\xff", 4)) { /* -1: an 8-byte length follows */
        if (have < 12) return 1;
        for (int i = 4; i < 12; i++) size = size << 8 | h[i];
        *hdr = 12;
    } else {
        int32_t n =
            (int32_t)((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3]);
        if (n < 0) return CONC_EPROTO;
        size = (uint64_t)n;
        *hdr = 4;
    }
    if (size > limit) return CONC_EPROTO;
    *total = *hdr + (size_t)size;
    return 0;
}

static bool held_back(const sconn_t *c) {
    return c->closing || c->s->stop || c->out.len - c->out_off >= OUT_HIGH;
}

/* Dispatch every whole frame in the input (until back-pressure or closing), then write the replies
 * in one send. 0, or CONC_EPROTO for a bad header: the stream cannot be trusted further. */
static int process(sconn_t *c) {
    size_t off = 0, hdr = 0, total = 0;
    int r = 0;
    c->batching = true;
    while (!held_back(c)) {
        const unsigned char *h = (const unsigned char *)c->in + off;
        if ((r = head(c, c->in_have - off, h, &hdr, &total)) != 0) break;
        if (c->in_have - off < total) break;
        if (c->state == S_READY)
            conc__dispatch(c, h + hdr, total - hdr);
        else
            auth_step(c, h + hdr, total - hdr);
        off += total;
    }
    c->batching = false;
    if (off) memmove(c->in, c->in + off, c->in_have - off);
    c->in_have -= off;
    if (!c->in_have && c->in_cap > IN_KEEP) {
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    conc__sconn_flush(c);
    return r < 0 ? r : 0;
}

/* One recv into the input, grown first if it is full (up to the frame at its head, which is known
 * to be within the limit: a peer announcing a big frame and sending nothing costs nothing). 1 when
 * the recv filled all the room (more may wait), 0 when it did not or found nothing, CONC_ECLOSED at
 * EOF or an error, -ENOMEM. */
static int fill(sconn_t *c) {
    if (c->in_have == c->in_cap) {
        size_t hdr, total, cap = c->in_cap ? c->in_cap * 2 : IN_START;
        if (c->in_cap && head(c, c->in_have, (unsigned char *)c->in, &hdr, &total) == 0 &&
            total < cap)
            cap = total;
        char *p = realloc(c->in, cap);
        if (!p) return -ENOMEM;
        c->in = p;
        c->in_cap = cap;
    }
    size_t room = c->in_cap - c->in_have;
    ssize_t r = recv(c->fd, c->in + c->in_have, room, MSG_DONTWAIT);
    if (r > 0) {
        c->in_have += (size_t)r;
        return (size_t)r == room;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    return CONC_ECLOSED;
}

void conc__sconn_event(sconn_t *c, uint32_t ev) {
    if (ev & EPOLLOUT) conc__sconn_flush(c);
    int r = 0;
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !held_back(c)) {
        /* No recv that is bound to find nothing: read again only when the last one filled the
         * buffer. Level-triggered epoll reports what is left next time round. */
        for (int i = 0; i < READS && r == 0; i++) {
            int more = fill(c);
            if (more < 0 || (r = process(c)) < 0) {
                conc__sconn_close(c); /* gone, or a malformed or oversized frame */
                return;
            }
            if (!more || held_back(c)) break;
        }
    } else if (c->in_have && !held_back(c)) {
        r = process(c); /* frames held back until the output drained */
        if (r < 0) {
            conc__sconn_close(c);
            return;
        }
    }
    conc__sconn_settle(c);
}

void conc__sconn_settle(sconn_t *c) {
    if (c->closing && c->out_off == c->out.len)
        conc__sconn_close(c);
    else
        watch(c);
}
