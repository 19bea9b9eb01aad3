/* Pipe and Connection basics: both directions, one-way pipes, empty and many messages, messages
 * still buffered when the peer closes, send to a closed peer without SIGPIPE, timeouts, poll, the
 * size limit, bad arguments, and a ping-pong with a fork()ed child. */
#include "ipc_util.h"

static void send_str(conc_conn_t *c, const char *s) {
    assert_int_equal(conc_conn_send(c, s, strlen(s)), 0);
}

static void recv_str(conc_conn_t *c, const char *want) {
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    free(buf);
}

static void duplex_both_ways(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    send_str(a, "to b");
    send_str(b, "to a");
    recv_str(b, "to b");
    recv_str(a, "to a");
    conc_conn_close(a);
    conc_conn_close(b);
}

static void one_way_pipe(void **state) {
    (void)state;
    conc_conn_t *r, *w;
    assert_int_equal(conc_pipe(&r, &w, false), 0);
    send_str(w, "hello");
    recv_str(r, "hello");
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_send(r, "x", 1), -EBADF);
    assert_int_equal(conc_conn_recv(w, &buf, &len, 0), -EBADF);
    assert_int_equal(conc_conn_poll(w, 0), -EBADF);
    conc_conn_close(w);
    assert_int_equal(conc_conn_recv(r, &buf, &len, 10), CONC_ECLOSED);
    conc_conn_close(r);
}

static void empty_and_many_messages(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    void *buf;
    size_t len = 99;
    assert_int_equal(conc_conn_send(a, NULL, 0), 0);
    assert_int_equal(conc_conn_recv(b, &buf, &len, 10), 0);
    assert_int_equal(len, 0);
    assert_non_null(buf);
    free(buf);
    /* more than the socket buffer holds, so the sender must wait for the reader */
    enum { N = 20000 };
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc_conn_close(b);
        for (int i = 0; i < N; i++)
            if (conc_conn_send(a, &i, sizeof i) != 0) _exit(1);
        _exit(0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(conc_conn_recv(b, &buf, &len, 30), 0);
        assert_int_equal(len, sizeof i);
        assert_memory_equal(buf, &i, sizeof i);
        free(buf);
    }
    assert_int_equal(reap(pid), 0);
    conc_conn_close(a);
    conc_conn_close(b);
}

static void buffered_messages_then_closed(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    send_str(a, "one");
    send_str(a, "two");
    conc_conn_close(a);
    recv_str(b, "one");
    recv_str(b, "two");
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_poll(b, 0), 0); /* EOF counts as ready */
    assert_int_equal(conc_conn_recv(b, &buf, &len, 10), CONC_ECLOSED);
    assert_int_equal(conc_conn_recv(b, &buf, &len, 0), CONC_ECLOSED);
    conc_conn_close(b);
}

static void send_to_closed_peer(void **state) {
    (void)state;
    /* SIGPIPE at its default action would kill this process: it must never be raised */
    signal(SIGPIPE, SIG_DFL);
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    conc_conn_close(b);
    assert_int_equal(conc_conn_send(a, "x", 1), CONC_ECLOSED);
    char big[100000] = {0};
    assert_int_equal(conc_conn_send(a, big, sizeof big), CONC_ECLOSED);
    conc_conn_close(a);
    conc_conn_t *r, *w;
    assert_int_equal(conc_pipe(&r, &w, false), 0);
    conc_conn_close(r);
    assert_int_equal(conc_conn_send(w, "x", 1), CONC_ECLOSED);
    conc_conn_close(w);
}

static void recv_timeouts(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(b, &buf, &len, 0), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(conc_conn_recv(b, &buf, &len, 0.2), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    t0 = conc_monotonic();
    assert_int_equal(conc_conn_poll(b, 0.2), -ETIMEDOUT);
    dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    assert_int_equal(conc_conn_poll(b, 0), -ETIMEDOUT);
    send_str(a, "now");
    assert_int_equal(conc_conn_poll(b, 0), 0);
    assert_int_equal(conc_conn_poll(b, 0), 0); /* poll does not consume */
    recv_str(b, "now");
    assert_int_equal(conc_conn_poll(b, 0), -ETIMEDOUT);
    conc_conn_close(a);
    conc_conn_close(b);
}

static void size_limit_and_bad_args(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    assert_int_equal(conc_conn_set_max_message(a, 0), -EINVAL);
    assert_int_equal(conc_conn_set_max_message(NULL, 10), -EINVAL);
    assert_int_equal(conc_conn_set_max_message(a, 4), 0);
    assert_int_equal(conc_conn_send(a, "12345", 5), -EMSGSIZE);
    assert_int_equal(conc_conn_send(a, "1234", 4), 0);
    recv_str(b, "1234");
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_send(NULL, "x", 1), -EINVAL);
    assert_int_equal(conc_conn_send(a, NULL, 1), -EINVAL);
    assert_int_equal(conc_conn_recv(NULL, &buf, &len, 0), -EINVAL);
    assert_int_equal(conc_conn_recv(b, NULL, &len, 0), -EINVAL);
    assert_int_equal(conc_conn_recv(b, &buf, NULL, 0), -EINVAL);
    assert_int_equal(conc_conn_poll(NULL, 0), -EINVAL);
    assert_int_equal(conc_pipe(NULL, &b, true), -EINVAL);
    assert_int_equal(conc_conn_fd(NULL), -EINVAL);
    assert_true(conc_conn_fd(a) >= 0);
    assert_true(fcntl(conc_conn_fd(a), F_GETFD) & FD_CLOEXEC);
    conc_conn_close(NULL);
    conc_conn_close(a);
    conc_conn_close(b);
}

static void ping_pong_with_child(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc_conn_close(a);
        for (;;) {
            void *buf;
            size_t len;
            int r = conc_conn_recv(b, &buf, &len, 30);
            if (r == CONC_ECLOSED) _exit(0);
            if (r != 0) _exit(1);
            for (size_t i = 0; i < len; i++) ((char *)buf)[i] ^= 0x20;
            r = conc_conn_send(b, buf, len);
            free(buf);
            if (r != 0) _exit(2);
        }
    }
    conc_conn_close(b);
    for (int i = 0; i < 1000; i++) {
        send_str(a, "ping");
        recv_str(a, "PING");
    }
    conc_conn_close(a);
    assert_int_equal(reap(pid), 0);
}

static void peer_killed(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc_conn_close(a);
        conc_conn_send(b, "last words", 10);
        for (;;) pause();
    }
    conc_conn_close(b);
    recv_str(a, "last words");
    kill(pid, SIGKILL);
    reap_killed(pid);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(a, &buf, &len, 10), CONC_ECLOSED);
    assert_int_equal(conc_conn_send(a, "x", 1), CONC_ECLOSED);
    conc_conn_close(a);
}

CONC_TEST_MAIN(cmocka_unit_test(duplex_both_ways), cmocka_unit_test(one_way_pipe),
               cmocka_unit_test(empty_and_many_messages),
               cmocka_unit_test(buffered_messages_then_closed),
               cmocka_unit_test(send_to_closed_peer), cmocka_unit_test(recv_timeouts),
               cmocka_unit_test(size_limit_and_bad_args), cmocka_unit_test(ping_pong_with_child),
               cmocka_unit_test(peer_killed))
