/* Writing to a stream: write, drain, write_eof (asyncio.StreamWriter).
 *
 * write sends at once when nothing is queued (asyncio's _SelectorSocketTransport.write does the
 * same), so a request/response protocol never waits for the loop to write. The rest is queued and
 * sent by the loop when the socket is writable. Above the high water mark the stream is "paused"
 * and drain parks the writer until the loop has sent it down to the low water mark: a client that
 * never reads holds the server at high + one write's worth of memory. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "../internal/net.h"

ssize_t conc__stream_send(conc_stream_t *s, const void *buf, size_t n);

static int append(conc_stream_t *s, const char *p, size_t n) {
    if (s->wpos > 0 && s->wlen + n > s->wcap) {
        memmove(s->wbuf, s->wbuf + s->wpos, s->wlen - s->wpos);
        s->wlen -= s->wpos;
        s->wpos = 0;
    }
    if (s->wlen + n > s->wcap) {
        size_t cap = s->wcap ? s->wcap : 4096;
        while (cap < s->wlen + n) cap *= 2;
        char *b = realloc(s->wbuf, cap);
        if (!b) return -ENOMEM;
        s->wbuf = b;
        s->wcap = cap;
    }
    memcpy(s->wbuf + s->wlen, p, n);
    s->wlen += n;
    return 0;
}

int conc_stream_write(conc_stream_t *s, const void *buf, size_t n) {
    if (!s || (!buf && n)) return -EINVAL;
    if (s->user_closed || s->closing) return CONC_ECLOSED;
    if (s->werr) return s->werr;
    if (s->weof_pending) return -EPIPE;
    if (n == 0) return 0;
    const char *p = buf;
    if (s->wlen == s->wpos) {
        for (;;) {
            ssize_t m = conc__stream_send(s, p, n);
            if (m >= 0) {
                p += m;
                n -= (size_t)m;
                if (n == 0) return 0;
                continue;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return s->werr = -errno;
        }
    }
    int r = append(s, p, n);
    if (r < 0) return r;
    if (s->wlen - s->wpos > s->high) s->wpaused = true;
    conc__stream_update(s);
    return 0;
}

int conc_stream_drain(conc_stream_t *s) {
    if (!s) return -EINVAL;
    if (s->user_closed || s->closing) return CONC_ECLOSED;
    while (s->wpaused && !s->werr) {
        if (!conc__net_task(s->loop)) return conc__task_running ? -EINVAL : -EPERM;
        int r = conc__slot_wait(&s->writer, INFINITY);
        if (r < 0) return r;
    }
    if (s->werr) return s->werr;
    /* a reset seen by the reader is this writer's problem too */
    if (s->rerr == -ECONNRESET || s->rerr == -EPIPE) return s->rerr;
    return 0;
}

int conc_stream_write_eof(conc_stream_t *s) {
    if (!s) return -EINVAL;
    if (s->user_closed || s->closing) return CONC_ECLOSED;
    if (s->weof_pending) return 0;
    s->weof_pending = true;
    if (s->wlen == s->wpos) {
        s->weof_done = true;
        if (!s->is_sock)
            conc__stream_close_fd(s); /* a pipe has no half-close: closing it is the EOF */
        else if (shutdown(s->fd, SHUT_WR) < 0)
            return -errno;
    }
    return 0;
}
