/* Streams: one object for asyncio's StreamReader, StreamWriter and the transport under them.
 *
 * The loop does the socket I/O in the fd callback, as asyncio's transports do, and tasks only copy
 * from and to the buffers: an echo round trip costs epoll_wait, one recv and one send, like libuv.
 * Reading stays armed (level-triggered, no epoll_ctl per read) while there is room: once twice the
 * limit is buffered and unread, the stream stops reading (asyncio's pause_reading), so a peer
 * sending faster than the task reads fills the kernel's buffers and then its own, never ours.
 * Writing goes straight to the socket when nothing is queued; what the kernel does not take waits
 * in the write buffer with EPOLLOUT armed until it is gone.
 *
 * Closing: the fd is closed once what is buffered is sent (or an error makes it pointless); until
 * then a closed stream sits in the loop's closing list, which the loop closes when it is freed.
 * The struct lives until that is done and every reference (the user's; a server client task's)
 * is dropped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../internal/net.h"

#define DEFAULT_LIMIT (64u * 1024u)
#define DEFAULT_HIGH  (64u * 1024u)
#define FIRST_RBUF    (16u * 1024u)

static void stream_io(void *arg, int fd, unsigned events);

static bool want_read(const conc_stream_t *s) {
    return !s->closing && !s->eof && !s->rerr && s->rlen - s->rpos < conc__stream_maxbuf(s);
}

void conc__stream_update(conc_stream_t *s) {
    if (s->fd < 0) return;
    unsigned ev =
        (want_read(s) ? CONC__IO_READ : 0) | (s->wlen > s->wpos && !s->werr ? CONC__IO_WRITE : 0);
    if (ev == s->armed) return;
    if (ev == 0) {
        conc__loop_unwatch(s->loop, s->fd);
    } else if (conc__net_watch(s->loop, s->fd, ev, stream_io, s) < 0) {
        /* cannot watch (ENOMEM): make it an error rather than a silent hang */
        if (!s->rerr) s->rerr = -ENOMEM;
        if (!s->werr) s->werr = -ENOMEM;
        conc__loop_unwatch(s->loop, s->fd);
        ev = 0;
    }
    s->armed = ev;
}

static void do_read(conc_stream_t *s) {
    size_t max = conc__stream_maxbuf(s);
    if (s->rpos == s->rlen) s->rpos = s->rlen = 0;
    if (s->rlen == s->rcap) {
        if (s->rpos > 0) { /* make room at the end */
            memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
            s->rlen -= s->rpos;
            s->rpos = 0;
        }
        if (s->rlen == s->rcap && s->rcap < max) {
            size_t cap = s->rcap ? s->rcap * 2 : FIRST_RBUF;
            if (cap > max) cap = max;
            char *b = realloc(s->rbuf, cap);
            if (!b) {
                s->rerr = -ENOMEM;
                return;
            }
            s->rbuf = b;
            s->rcap = cap;
        }
        if (s->rlen == s->rcap) return; /* full: update() stops reading */
    }
    size_t room = s->rcap - s->rlen;
    if (s->rlen - s->rpos + room > max) room = max - (s->rlen - s->rpos);
    ssize_t n = s->is_sock ? recv(s->fd, s->rbuf + s->rlen, room, MSG_DONTWAIT)
                           : read(s->fd, s->rbuf + s->rlen, room);
    if (n > 0)
        s->rlen += (size_t)n;
    else if (n == 0)
        s->eof = true;
    else if (errno != EAGAIN && errno != EINTR)
        s->rerr = -errno;
    else
        return;
    conc__slot_wake(&s->reader, 0);
}

static void wrote_all(conc_stream_t *s) {
    s->wpos = s->wlen = 0;
    if (s->weof_pending && !s->weof_done) {
        s->weof_done = true;
        if (s->is_sock)
            shutdown(s->fd, SHUT_WR);
        else
            conc__stream_close_fd(s); /* a pipe has no half-close: closing it is the EOF */
    }
}

/* send(2) that never raises SIGPIPE, also on pipes (where MSG_NOSIGNAL does not exist): SIGPIPE
 * is blocked around the write and a signal it raised is taken back before unblocking. */
ssize_t conc__stream_send(conc_stream_t *s, const void *buf, size_t n);
ssize_t conc__stream_send(conc_stream_t *s, const void *buf, size_t n) {
    if (s->is_sock) return send(s->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    bool was_pending = false;
    sigset_t pend;
    if (sigpending(&pend) == 0) was_pending = sigismember(&pend, SIGPIPE);
    ssize_t r = write(s->fd, buf, n);
    int e = errno;
    if (r < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}

static void do_write(conc_stream_t *s) {
    while (s->wlen > s->wpos) {
        ssize_t n = conc__stream_send(s, s->wbuf + s->wpos, s->wlen - s->wpos);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            s->werr = -errno;
            s->wpos = s->wlen = 0;
            break;
        }
        s->wpos += (size_t)n;
    }
    if (s->wpos == s->wlen) wrote_all(s);
    if (s->wpaused && (s->werr || s->wlen - s->wpos <= s->low)) {
        s->wpaused = false;
        conc__slot_wake(&s->writer, 0);
    }
}

static void stream_io(void *arg, int fd, unsigned events) {
    (void)fd;
    conc_stream_t *s = arg;
    if (events & CONC__IO_READ) do_read(s);
    if (events & CONC__IO_WRITE) do_write(s);
    if (s->closing && (s->werr || s->wlen == s->wpos || s->fd < 0)) {
        conc__stream_finish(s);
        return;
    }
    conc__stream_update(s);
}

int conc__stream_new(conc_loop_t *loop, int fd, bool is_sock, conc_stream_t **out) {
    conc_stream_t *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    s->loop = loop;
    s->fd = fd;
    s->is_sock = is_sock;
    s->refs = 1;
    s->limit = DEFAULT_LIMIT;
    s->high = DEFAULT_HIGH;
    s->low = DEFAULT_HIGH / 4;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_ACCMODE) == O_WRONLY) s->eof = true; /* a pipe's write end */
    conc__stream_update(s);
    if (s->rerr) {
        int r = s->rerr;
        close(fd);
        free(s);
        return r;
    }
    *out = s;
    return 0;
}

int conc_stream_open_fd(conc_loop_t *loop, int fd, conc_stream_t **out) {
    if (!out || fd < 0) {
        if (fd >= 0) close(fd);
        return -EINVAL;
    }
    *out = NULL;
    if (!loop) loop = conc_loop_current();
    if (!loop || !conc__net_of(loop)) {
        close(fd);
        return loop ? -ENOMEM : -EINVAL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    struct stat st;
    bool sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    return conc__stream_new(loop, fd, sock, out);
}

static void closing_unlink(conc_stream_t *s, struct conc__net *net) {
    if (s->cprev)
        s->cprev->cnext = s->cnext;
    else if (net && net->closing == s)
        net->closing = s->cnext;
    if (s->cnext) s->cnext->cprev = s->cprev;
    s->cnext = s->cprev = NULL;
}

static void stream_free(conc_stream_t *s) {
    free(s->rbuf);
    free(s->wbuf);
    free(s);
}

void conc__stream_close_fd(conc_stream_t *s) {
    if (s->fd < 0) return;
    if (s->armed) conc__loop_unwatch(s->loop, s->fd);
    s->armed = 0;
    close(s->fd);
    s->fd = -1;
}

void conc__stream_finish(conc_stream_t *s) {
    conc__stream_close_fd(s);
    closing_unlink(s, *conc__loop_slot(s->loop, CONC__LOOP_SLOT_IO));
    if (s->refs == 0) stream_free(s);
}

void conc__stream_begin_close(conc_stream_t *s) {
    if (s->closing) return;
    s->closing = true;
    conc__slot_wake(&s->reader, CONC_ECLOSED);
    conc__slot_wake(&s->writer, CONC_ECLOSED);
    if (s->fd < 0 || s->werr || s->wlen == s->wpos) {
        conc__stream_finish(s);
        return;
    }
    struct conc__net *net = conc__net_of(s->loop);
    if (!net) {
        conc__stream_finish(s);
        return;
    }
    s->cnext = net->closing;
    if (net->closing) net->closing->cprev = s;
    net->closing = s;
    conc__stream_update(s);
}

void conc__stream_unref(conc_stream_t *s) {
    if (--s->refs == 0 && s->fd < 0) stream_free(s);
}

int conc_stream_close(conc_stream_t *s) {
    if (!s) return -EINVAL;
    if (s->user_closed) return -EINVAL;
    s->user_closed = true;
    int r = s->werr;
    conc__stream_begin_close(s);
    conc__stream_unref(s);
    return r;
}

void conc_stream_abort(conc_stream_t *s) {
    if (!s || s->user_closed) return;
    s->wpos = s->wlen = 0;
    if (s->fd >= 0 && s->is_sock) {
        /* an RST, as transport.abort: the peer learns the data was dropped */
        struct linger lg = {1, 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    conc_stream_close(s);
}

int conc_stream_fd(conc_stream_t *s) {
    return s ? s->fd : -EINVAL;
}

int conc_stream_set_limit(conc_stream_t *s, size_t limit) {
    if (!s || limit == 0) return -EINVAL;
    s->limit = limit;
    conc__stream_update(s);
    return 0;
}

int conc_stream_set_write_limits(conc_stream_t *s, size_t high, size_t low) {
    if (!s) return -EINVAL;
    if (high == 0) high = DEFAULT_HIGH;
    if (low == (size_t)-1) low = high / 4;
    if (low > high) return -EINVAL;
    s->high = high;
    s->low = low;
    return 0;
}

size_t conc_stream_write_buffer_size(conc_stream_t *s) {
    return s ? s->wlen - s->wpos : 0;
}
