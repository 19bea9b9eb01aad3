/* Reading from a stream: read, readexactly, readline, readuntil (asyncio.StreamReader).
 *
 * The loop fills the buffer (stream.c); these copy out of it and park the task in the stream's
 * reader slot when it does not hold what they need. Each wake-up (data, EOF, an error, close)
 * makes them look again. An error (a reset peer: -ECONNRESET) is reported once the data that came
 * before it has been read, and then by every later read of that stream; other streams never see
 * it. readline/readuntil look for the separator only in the new bytes each time, so a line
 * arriving byte by byte costs linear, not quadratic, time. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "../internal/net.h"

/* Wait for the buffer to change. 0, or what ended the wait. */
static int wait_data(conc_stream_t *s) {
    if (s->closing) return CONC_ECLOSED;
    if (!conc__net_task(s->loop)) return conc__task_running ? -EINVAL : -EPERM;
    conc__stream_update(s); /* reading resumes if it had paused */
    return conc__slot_wait(&s->reader, INFINITY);
}

static void consume(conc_stream_t *s, void *buf, size_t n) {
    if (buf) memcpy(buf, s->rbuf + s->rpos, n);
    s->rpos += n;
    if (s->rpos == s->rlen) s->rpos = s->rlen = 0;
}

static ssize_t check_args(conc_stream_t *s, const void *buf, size_t n) {
    if (!s || (!buf && n)) return -EINVAL;
    if (s->user_closed) return CONC_ECLOSED;
    return 0;
}

ssize_t conc_stream_read(conc_stream_t *s, void *buf, size_t n) {
    ssize_t r = check_args(s, buf, n);
    if (r < 0 || n == 0) return r;
    for (;;) {
        size_t avail = s->rlen - s->rpos;
        if (avail) {
            if (avail > n) avail = n;
            consume(s, buf, avail);
            return (ssize_t)avail;
        }
        if (s->rerr) return s->rerr;
        if (s->eof) return 0;
        if ((r = wait_data(s)) < 0) return r;
    }
}

ssize_t conc_stream_readexactly(conc_stream_t *s, void *buf, size_t n) {
    ssize_t r = check_args(s, buf, n);
    if (r < 0) return r;
    if (s->rlen - s->rpos >= n) { /* the common case: no partial copies */
        consume(s, buf, n);
        return (ssize_t)n;
    }
    size_t total = n;
    for (;;) {
        if (s->rlen - s->rpos >= n) {
            consume(s, buf, n);
            return (ssize_t)total;
        }
        if (s->rerr) return s->rerr;
        if (s->eof) return CONC_ECLOSED;
        /* make sure it fits: reading ahead stops at maxbuf, so a larger n is copied piecewise */
        if (n > conc__stream_maxbuf(s) && s->rlen > s->rpos) {
            size_t k = s->rlen - s->rpos;
            consume(s, buf, k);
            buf = (char *)buf + k;
            n -= k;
            /* what was copied is gone from the stream: an early EOF still says CONC_ECLOSED */
        }
        if ((r = wait_data(s)) < 0) return r;
    }
}

static ssize_t find(const conc_stream_t *s, size_t from, const char *sep, size_t seplen) {
    size_t avail = s->rlen - s->rpos;
    if (avail < seplen) return -1;
    const char *base = s->rbuf + s->rpos;
    if (seplen == 1) {
        const char *p = memchr(base + from, sep[0], avail - from);
        return p ? p - base : -1;
    }
    for (size_t i = from; i + seplen <= avail; i++) {
        const char *p = memchr(base + i, sep[0], avail - seplen + 1 - i);
        if (!p) return -1;
        i = (size_t)(p - base);
        if (memcmp(p, sep, seplen) == 0) return (ssize_t)i;
    }
    return -1;
}

/* line: readline's rules (overrun discards, EOF returns what is left) */
static ssize_t read_until(conc_stream_t *s, const char *sep, size_t seplen, void *buf, size_t cap,
                          bool line) {
    ssize_t r = check_args(s, buf, cap);
    if (r < 0) return r;
    if (!sep || seplen == 0 || seplen > s->limit) return -EINVAL;
    size_t scanned = 0; /* no separator starts before this offset */
    for (;;) {
        size_t avail = s->rlen - s->rpos;
        ssize_t at = find(s, scanned, sep, seplen);
        if (at >= 0) {
            size_t len = (size_t)at + seplen;
            if (len > s->limit) {
                if (line) consume(s, NULL, len);
                return -ENOBUFS;
            }
            if (len > cap) return -EMSGSIZE;
            consume(s, buf, len);
            return (ssize_t)len;
        }
        if (avail >= s->limit) { /* any separator still to come would end past the limit */
            if (line) consume(s, NULL, avail);
            return -ENOBUFS;
        }
        scanned = avail >= seplen ? avail - seplen + 1 : 0;
        if (s->rerr) return s->rerr;
        if (s->eof) {
            if (!line) return CONC_ECLOSED;
            if (avail > cap) return -EMSGSIZE;
            consume(s, buf, avail);
            return (ssize_t)avail;
        }
        if ((r = wait_data(s)) < 0) return r;
    }
}

ssize_t conc_stream_readline(conc_stream_t *s, void *buf, size_t cap) {
    return read_until(s, "\n", 1, buf, cap, true);
}

ssize_t conc_stream_readuntil(conc_stream_t *s, const void *sep, size_t seplen, void *buf,
                              size_t cap) {
    return read_until(s, sep, seplen, buf, cap, false);
}

bool conc_stream_at_eof(conc_stream_t *s) {
    return s && s->eof && s->rlen == s->rpos;
}
