/* Streams and servers over 127.0.0.1, ::1 and Unix sockets: echo round trips, readline/readuntil
 * limits (an error, and the buffer never grows past twice the limit), readexactly at an early EOF,
 * a reset peer failing only its own reader, a client that never reads holding the server's write
 * buffer at the high water mark, cancelling a blocked read, server close + wait_closed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "internal/net.h"
#include "test.h"

static void echo_client(conc_stream_t *s, void *arg) {
    (void)arg;
    char buf[4096];
    for (;;) {
        ssize_t n = conc_stream_read(s, buf, sizeof buf);
        if (n <= 0) return;
        if (conc_stream_write(s, buf, (size_t)n) < 0 || conc_stream_drain(s) < 0) return;
    }
}

struct echo_args {
    const char *host; /* NULL: unix */
    const char *path;
};

static void *echo_main(void *arg) {
    struct echo_args *a = arg;
    conc_server_t *srv;
    conc_stream_t *c;
    if (a->host) {
        assert_int_equal(conc_start_server(NULL, a->host, 0, echo_client, NULL, &srv), 0);
        int port = conc_server_port(srv);
        assert_true(port > 0);
        assert_int_equal(conc_open_connection(a->host, port, &c), 0);
    } else {
        assert_int_equal(conc_start_unix_server(NULL, a->path, echo_client, NULL, &srv), 0);
        assert_int_equal(conc_server_port(srv), -EINVAL);
        assert_int_equal(conc_open_unix_connection(a->path, &c), 0);
    }
    char buf[64];
    for (int i = 0; i < 200; i++) {
        int len = snprintf(buf, sizeof buf, "ping %d\n", i);
        assert_int_equal(conc_stream_write(c, buf, (size_t)len), 0);
        assert_int_equal(conc_stream_drain(c), 0);
        char got[64];
        assert_int_equal(conc_stream_readline(c, got, sizeof got), len);
        assert_memory_equal(got, buf, (size_t)len);
    }
    /* a big one: more than the socket buffers, echoed while we write */
    size_t big = 4u << 20;
    char *out = malloc(big), *in = malloc(big);
    for (size_t i = 0; i < big; i++) out[i] = (char)(i * 7);
    assert_int_equal(conc_stream_write(c, out, big), 0);
    assert_int_equal(conc_stream_readexactly(c, in, big), (ssize_t)big);
    assert_memory_equal(in, out, big);
    assert_int_equal(conc_stream_drain(c), 0);
    free(out);
    free(in);
    assert_int_equal(conc_stream_write_eof(c), 0);
    assert_int_equal(conc_stream_read(c, buf, sizeof buf), 0);
    assert_true(conc_stream_at_eof(c));
    assert_int_equal(conc_stream_close(c), 0);
    assert_int_equal(conc_server_wait_closed(srv), 0);
    assert_int_equal(conc_server_clients(srv), 0);
    conc_server_free(srv);
    return NULL;
}

static void echo_ipv4(void **state) {
    (void)state;
    struct echo_args a = {"127.0.0.1", NULL};
    assert_int_equal(conc_run(echo_main, &a, NULL), 0);
}

static void echo_ipv6(void **state) {
    (void)state;
    struct echo_args a = {"::1", NULL};
    assert_int_equal(conc_run(echo_main, &a, NULL), 0);
}

static void echo_unix(void **state) {
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/conc-net-%d.sock", (int)getpid());
    struct echo_args a = {NULL, path};
    assert_int_equal(conc_run(echo_main, &a, NULL), 0);
    assert_int_equal(access(path, F_OK), -1); /* close removed the socket file */
}

/* ---- a server whose client function is a script of reads ---- */

struct script {
    int (*fn)(conc_stream_t *s, struct script *sc);
    int result;
    bool ran;
    conc_aevent_t done;
    size_t limit;
};

static void script_client(conc_stream_t *s, void *arg) {
    struct script *sc = arg;
    if (sc->limit) conc_stream_set_limit(s, sc->limit);
    sc->result = sc->fn(s, sc);
    sc->ran = true;
    conc_aevent_set(&sc->done);
}

static int start(struct script *sc, conc_server_t **srv, conc_stream_t **c) {
    conc_aevent_init(&sc->done);
    int r = conc_start_server(NULL, "127.0.0.1", 0, script_client, sc, srv);
    if (r < 0) return r;
    return conc_open_connection("127.0.0.1", conc_server_port(*srv), c);
}

static void finish(conc_server_t *srv, conc_stream_t *c) {
    if (c) conc_stream_close(c);
    conc_server_close(srv);
    assert_int_equal(conc_server_wait_closed(srv), 0);
    conc_server_free(srv);
}

static int long_line(conc_stream_t *s, struct script *sc) {
    (void)sc;
    char buf[256];
    ssize_t r = conc_stream_readline(s, buf, sizeof buf);
    assert_int_equal(r, -ENOBUFS);
    /* it never buffered more than twice the limit */
    assert_true(s->rcap <= conc__stream_maxbuf(s));
    assert_true(conc__stream_maxbuf(s) <= 256);
    /* the rest of the over-long line comes as data; the next line is intact once found */
    for (;;) {
        r = conc_stream_readline(s, buf, sizeof buf);
        if (r == 6 && memcmp(buf, "after\n", 6) == 0) return 0;
        if (r != -ENOBUFS && (r <= 0 || buf[r - 1] != '\n')) return -1;
    }
}

static void *long_line_main(void *arg) {
    (void)arg;
    struct script sc = {.fn = long_line, .limit = 100};
    conc_server_t *srv;
    conc_stream_t *c;
    assert_int_equal(start(&sc, &srv, &c), 0);
    size_t n = 1u << 20; /* 1 MiB without a newline */
    char *junk = malloc(n);
    memset(junk, 'x', n);
    junk[n - 1] = '\n';
    assert_int_equal(conc_stream_write(c, junk, n), 0);
    assert_int_equal(conc_stream_write(c, "after\n", 6), 0);
    free(junk);
    assert_int_equal(conc_stream_drain(c), 0);
    assert_int_equal(conc_aevent_wait(&sc.done, 30), 0);
    assert_int_equal(sc.result, 0);
    finish(srv, c);
    return NULL;
}

static void readline_limit(void **state) {
    (void)state;
    assert_int_equal(conc_run(long_line_main, NULL, NULL), 0);
}

static int until(conc_stream_t *s, struct script *sc) {
    (void)sc;
    char buf[64];
    assert_int_equal(conc_stream_readuntil(s, "\r\n", 2, buf, sizeof buf), 5);
    assert_memory_equal(buf, "abc\r\n", 5);
    /* longer than cap: stays buffered */
    assert_int_equal(conc_stream_readuntil(s, "\r\n", 2, buf, 4), -EMSGSIZE);
    assert_int_equal(conc_stream_readuntil(s, "\r\n", 2, buf, sizeof buf), 7);
    assert_memory_equal(buf, "hello\r\n", 7);
    /* no separator within the limit (16): -ENOBUFS, the data stays */
    assert_int_equal(conc_stream_readuntil(s, "\r\n", 2, buf, sizeof buf), -ENOBUFS);
    assert_int_equal(conc_stream_readexactly(s, buf, 20), 20);
    assert_memory_equal(buf, "0123456789abcdefghij", 20);
    /* EOF before the separator */
    assert_int_equal(conc_stream_readuntil(s, "\r\n", 2, buf, sizeof buf), CONC_ECLOSED);
    assert_int_equal(conc_stream_read(s, buf, sizeof buf), 3);
    assert_int_equal(conc_stream_read(s, buf, sizeof buf), 0);
    return 0;
}

static void *until_main(void *arg) {
    (void)arg;
    struct script sc = {.fn = until, .limit = 16};
    conc_server_t *srv;
    conc_stream_t *c;
    assert_int_equal(start(&sc, &srv, &c), 0);
    const char *msg = "abc\r\nhello\r\n0123456789abcdefghijxyz";
    /* in pieces, so the reader has to wait between them */
    for (size_t i = 0, len = strlen(msg); i < len; i += 3) {
        size_t k = len - i < 3 ? len - i : 3;
        assert_int_equal(conc_stream_write(c, msg + i, k), 0);
        assert_int_equal(conc_sleep(0.001), 0);
    }
    assert_int_equal(conc_stream_write_eof(c), 0);
    assert_int_equal(conc_aevent_wait(&sc.done, 30), 0);
    assert_int_equal(sc.result, 0);
    finish(srv, c);
    return NULL;
}

static void readuntil_limit(void **state) {
    (void)state;
    assert_int_equal(conc_run(until_main, NULL, NULL), 0);
}

static int exact_eof(conc_stream_t *s, struct script *sc) {
    (void)sc;
    char buf[100];
    assert_int_equal(conc_stream_readexactly(s, buf, 5), 5);
    assert_int_equal(conc_stream_readexactly(s, buf, 100), CONC_ECLOSED);
    return 0;
}

static void *exact_main(void *arg) {
    (void)arg;
    struct script sc = {.fn = exact_eof};
    conc_server_t *srv;
    conc_stream_t *c;
    assert_int_equal(start(&sc, &srv, &c), 0);
    assert_int_equal(conc_stream_write(c, "12345abcdefgh", 13), 0);
    assert_int_equal(conc_stream_close(c), 0);
    assert_int_equal(conc_aevent_wait(&sc.done, 30), 0);
    assert_int_equal(sc.result, 0);
    finish(srv, NULL);
    return NULL;
}

static void readexactly_early_eof(void **state) {
    (void)state;
    assert_int_equal(conc_run(exact_main, NULL, NULL), 0);
}

/* Two clients; the first is reset by its peer mid-read. Only its reader sees -ECONNRESET. */
struct reset_state {
    int results[2];
    int nresults;
    conc_aevent_t first_waiting, done;
};

static void reset_client(conc_stream_t *s, void *arg) {
    struct reset_state *st = arg;
    char buf[100];
    char id;
    assert_int_equal(conc_stream_readexactly(s, &id, 1), 1);
    if (id == 'A') conc_aevent_set(&st->first_waiting);
    ssize_t r = conc_stream_readexactly(s, buf, sizeof buf);
    st->results[id - 'A'] = (int)r;
    if (++st->nresults == 2) conc_aevent_set(&st->done);
}

static void *reset_main(void *arg) {
    (void)arg;
    struct reset_state st = {.nresults = 0};
    conc_aevent_init(&st.first_waiting);
    conc_aevent_init(&st.done);
    conc_server_t *srv;
    assert_int_equal(conc_start_server(NULL, "127.0.0.1", 0, reset_client, &st, &srv), 0);
    int port = conc_server_port(srv);
    conc_stream_t *a, *b;
    assert_int_equal(conc_open_connection("127.0.0.1", port, &a), 0);
    assert_int_equal(conc_open_connection("127.0.0.1", port, &b), 0);
    assert_int_equal(conc_stream_write(a, "Axxxx", 5), 0);
    assert_int_equal(conc_aevent_wait(&st.first_waiting, 30), 0);
    conc_stream_abort(a); /* RST */
    char buf[101];
    memset(buf, 'y', sizeof buf);
    buf[0] = 'B';
    assert_int_equal(conc_stream_write(b, buf, sizeof buf), 0);
    assert_int_equal(conc_aevent_wait(&st.done, 30), 0);
    assert_int_equal(st.results[0], -ECONNRESET);
    assert_int_equal(st.results[1], 100);
    conc_stream_close(b);
    finish(srv, NULL);
    return NULL;
}

static void reset_only_that_reader(void **state) {
    (void)state;
    assert_int_equal(conc_run(reset_main, NULL, NULL), 0);
}

/* A client that never reads: the server writes 64 KiB chunks and drains; its write buffer stays at
 * most high water mark + one chunk, and drain really blocks. */
struct flood {
    size_t max_buffered;
    size_t written;
    int result;
    conc_aevent_t blocked;
    conc_stream_t *s;
};

static void flood_client(conc_stream_t *s, void *arg) {
    struct flood *f = arg;
    f->s = s;
    conc_stream_set_write_limits(s, 32 * 1024, 8 * 1024);
    static char chunk[64 * 1024];
    for (;;) {
        int r = conc_stream_write(s, chunk, sizeof chunk);
        if (r < 0) {
            f->result = r;
            return;
        }
        f->written += sizeof chunk;
        size_t b = conc_stream_write_buffer_size(s);
        if (b > f->max_buffered) f->max_buffered = b;
        if (b > 32 * 1024) conc_aevent_set(&f->blocked);
        r = conc_stream_drain(s);
        if (r < 0) {
            f->result = r;
            return;
        }
    }
}

static void *flood_main(void *arg) {
    (void)arg;
    struct flood f = {0};
    conc_aevent_init(&f.blocked);
    conc_server_t *srv;
    assert_int_equal(conc_start_server(NULL, "127.0.0.1", 0, flood_client, &f, &srv), 0);
    int fd = conc_tcp_connect("127.0.0.1", conc_server_port(srv), 10);
    assert_true(fd >= 0);
    assert_int_equal(conc_aevent_wait(&f.blocked, 30), 0);
    /* give the server many loop iterations: it must stay blocked in drain */
    for (int i = 0; i < 50; i++) assert_int_equal(conc_sleep(0.002), 0);
    size_t written = f.written;
    assert_true(f.max_buffered <= 32 * 1024 + 64 * 1024);
    assert_true(conc_stream_write_buffer_size(f.s) > 8 * 1024);
    assert_int_equal(conc_sleep(0.05), 0);
    assert_int_equal(f.written, written); /* no progress while nobody reads */
    assert_int_equal(conc_sock_close(fd), 0);
    conc_server_close(srv);
    assert_int_equal(conc_server_wait_closed(srv), 0);
    assert_true(f.result == -ECONNRESET || f.result == -EPIPE);
    conc_server_free(srv);
    return NULL;
}

static void never_reading_client_bounded(void **state) {
    (void)state;
    assert_int_equal(conc_run(flood_main, NULL, NULL), 0);
}

/* Cancelling a task blocked in a read. */
static void *blocked_reader(void *arg) {
    conc_stream_t *s = arg;
    char buf[8];
    ssize_t r = conc_stream_read(s, buf, sizeof buf);
    return (void *)(intptr_t)r;
}

static void silent_client(conc_stream_t *s, void *arg) {
    conc_aevent_t *release = arg;
    (void)s;
    conc_aevent_wait(release, 30);
}

static void *cancel_main(void *arg) {
    (void)arg;
    conc_aevent_t release;
    conc_aevent_init(&release);
    conc_server_t *srv;
    assert_int_equal(conc_start_server(NULL, "127.0.0.1", 0, silent_client, &release, &srv), 0);
    conc_stream_t *c;
    assert_int_equal(conc_open_connection("127.0.0.1", conc_server_port(srv), &c), 0);
    conc_task_t *t = conc_task_spawn(NULL, blocked_reader, c, NULL);
    assert_int_equal(conc_sleep(0.01), 0);
    assert_false(conc_task_done(t));
    assert_true(conc_task_cancel(t));
    conc_future_t *tf = conc_task_future(t);
    assert_int_equal(conc_wait_futures(&tf, 1, -1, CONC_ALL_COMPLETED), 1);
    assert_true(conc_future_cancelled(conc_task_future(t)));
    conc_task_release(t);
    /* the stream still works after that */
    assert_int_equal(conc_stream_write(c, "x", 1), 0);
    /* a second reader while one waits: -EBUSY */
    t = conc_task_spawn(NULL, blocked_reader, c, NULL);
    assert_int_equal(conc_sleep(0.01), 0);
    char b;
    assert_int_equal(conc_stream_read(c, &b, 1), -EBUSY);
    conc_task_cancel(t);
    tf = conc_task_future(t);
    assert_int_equal(conc_wait_futures(&tf, 1, -1, CONC_ALL_COMPLETED), 1);
    conc_task_release(t);
    conc_aevent_set(&release);
    conc_stream_close(c);
    finish(srv, NULL);
    return NULL;
}

static void cancel_blocked_read(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_main, NULL, NULL), 0);
}

/* close stops accepting; wait_closed waits for the running clients; cancel_clients ends them. */
static void *close_main(void *arg) {
    (void)arg;
    conc_aevent_t release;
    conc_aevent_init(&release);
    conc_server_t *srv;
    assert_int_equal(conc_start_server(NULL, "127.0.0.1", 0, silent_client, &release, &srv), 0);
    int port = conc_server_port(srv);
    conc_stream_t *c[3];
    for (int i = 0; i < 3; i++) assert_int_equal(conc_open_connection("127.0.0.1", port, &c[i]), 0);
    while (conc_server_clients(srv) < 3) assert_int_equal(conc_sleep(0.001), 0);
    assert_int_equal(conc_server_close(srv), 0);
    conc_stream_t *late;
    assert_int_equal(conc_open_connection("127.0.0.1", port, &late), -ECONNREFUSED);
    /* wait_closed blocks while clients run */
    conc_timeout_t to;
    conc_timeout_enter(&to, 0.05);
    int r = conc_server_wait_closed(srv);
    assert_int_equal(r, -ECANCELED);
    assert_int_equal(conc_timeout_exit(&to), -ETIMEDOUT);
    conc_task_uncancel();
    assert_int_equal(conc_server_clients(srv), 3);
    conc_server_cancel_clients(srv);
    assert_int_equal(conc_server_wait_closed(srv), 0);
    assert_int_equal(conc_server_clients(srv), 0);
    /* the server closed the clients' streams: each of ours sees EOF */
    for (int i = 0; i < 3; i++) {
        char b;
        assert_int_equal(conc_stream_read(c[i], &b, 1), 0);
        conc_stream_close(c[i]);
    }
    conc_server_free(srv);
    return NULL;
}

static void server_close_wait_closed(void **state) {
    (void)state;
    assert_int_equal(conc_run(close_main, NULL, NULL), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(echo_ipv4), cmocka_unit_test(echo_ipv6),
               cmocka_unit_test(echo_unix), cmocka_unit_test(readline_limit),
               cmocka_unit_test(readuntil_limit), cmocka_unit_test(readexactly_early_eof),
               cmocka_unit_test(reset_only_that_reader),
               cmocka_unit_test(never_reading_client_bounded),
               cmocka_unit_test(cancel_blocked_read), cmocka_unit_test(server_close_wait_closed))
