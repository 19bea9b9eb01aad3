/* conc_sock_* and friends in tasks: accept/connect/recv/send over IPv4, IPv6 and Unix sockets,
 * timeouts (-ETIMEDOUT, not early), a poll with timeout 0, cancellation of a blocked recv,
 * -EBUSY for a second reader, name resolution on a thread (the loop keeps running meanwhile),
 * a refused connection, and -EPERM for waits outside a task. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

struct pair {
    int lfd, cfd, sfd;
};

static void *acceptor(void *arg) {
    struct pair *p = arg;
    p->sfd = conc_sock_accept(p->lfd, NULL, NULL, 10);
    return NULL;
}

static void open_pair(struct pair *p, int lfd, int (*connect_fn)(void *), void *carg) {
    p->lfd = lfd;
    assert_true(lfd >= 0);
    conc_task_t *t = conc_task_spawn(NULL, acceptor, p, NULL);
    p->cfd = connect_fn(carg);
    assert_true(p->cfd >= 0);
    assert_int_equal(conc_await(conc_task_future(t), NULL), 0);
    conc_task_release(t);
    assert_true(p->sfd >= 0);
}

static int port_of(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static const char *tcp_host;
static int tcp_port;
static int tcp_connect(void *arg) {
    (void)arg;
    return conc_tcp_connect(tcp_host, tcp_port, 10);
}
static int unix_connect(void *arg) {
    return conc_unix_connect(arg, 10);
}

static void ping_pong(struct pair *p) {
    char buf[16];
    assert_int_equal(conc_sock_sendall(p->cfd, "hello", 5, 5), 0);
    assert_int_equal(conc_sock_recv(p->sfd, buf, sizeof buf, 5), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(conc_sock_send(p->sfd, "world", 5, 5), 5);
    assert_int_equal(conc_sock_recv(p->cfd, buf, sizeof buf, 5), 5);
    /* nothing more: a poll and a short timeout say -ETIMEDOUT, the latter not early */
    assert_int_equal(conc_sock_recv(p->cfd, buf, sizeof buf, 0), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(conc_sock_recv(p->cfd, buf, sizeof buf, 0.05), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.05 && dt < 5);
    /* EOF */
    assert_int_equal(conc_sock_close(p->sfd), 0);
    assert_int_equal(conc_sock_recv(p->cfd, buf, sizeof buf, 5), 0);
    assert_int_equal(conc_sock_close(p->cfd), 0);
    assert_int_equal(conc_sock_close(p->lfd), 0);
}

static void *families_main(void *arg) {
    (void)arg;
    struct pair p;
    const char *hosts[] = {"127.0.0.1", "::1", "localhost"};
    for (int i = 0; i < 3; i++) {
        tcp_host = hosts[i];
        int lfd = conc_tcp_listen(i == 2 ? "127.0.0.1" : hosts[i], 0, 16);
        tcp_port = port_of(lfd);
        open_pair(&p, lfd, tcp_connect, NULL);
        ping_pong(&p);
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/conc-sock-%d.sock", (int)getpid());
    open_pair(&p, conc_unix_listen(path, 16), unix_connect, path);
    ping_pong(&p);
    unlink(path);
    return NULL;
}

static void tcp_v4_v6_unix(void **state) {
    (void)state;
    assert_int_equal(conc_run(families_main, NULL, NULL), 0);
}

static void *recv_forever(void *arg) {
    int fd = *(int *)arg;
    char b;
    return (void *)(intptr_t)conc_sock_recv(fd, &b, 1, -1);
}

static void *cancel_main(void *arg) {
    (void)arg;
    struct pair p;
    tcp_host = "127.0.0.1";
    int lfd = conc_tcp_listen(tcp_host, 0, 16);
    tcp_port = port_of(lfd);
    open_pair(&p, lfd, tcp_connect, NULL);
    conc_task_t *t = conc_task_spawn(NULL, recv_forever, &p.cfd, NULL);
    assert_int_equal(conc_sleep(0.01), 0);
    char b;
    assert_int_equal(conc_sock_recv(p.cfd, &b, 1, 1), -EBUSY);
    assert_true(conc_task_cancel(t));
    conc_future_t *f = conc_task_future(t);
    assert_int_equal(conc_wait_futures(&f, 1, 5, CONC_ALL_COMPLETED), 1);
    assert_true(conc_future_cancelled(f));
    conc_task_release(t);
    /* the socket is usable again by another reader */
    assert_int_equal(conc_sock_send(p.sfd, "z", 1, 1), 1);
    assert_int_equal(conc_sock_recv(p.cfd, &b, 1, 5), 1);
    assert_int_equal(b, 'z');
    conc_sock_close(p.cfd);
    conc_sock_close(p.sfd);
    conc_sock_close(lfd);
    return NULL;
}

static void cancel_blocked_recv(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_main, NULL, NULL), 0);
}

static void *refused_main(void *arg) {
    (void)arg;
    int lfd = conc_tcp_listen("127.0.0.1", 0, 1);
    int port = port_of(lfd);
    conc_sock_close(lfd);
    assert_int_equal(conc_tcp_connect("127.0.0.1", port, 5), -ECONNREFUSED);
    assert_int_equal(conc_unix_connect("/nonexistent/conc.sock", 5), -ENOENT);
    return NULL;
}

static void connect_refused(void **state) {
    (void)state;
    assert_int_equal(conc_run(refused_main, NULL, NULL), 0);
}

/* A name lookup runs on a thread while another task keeps running on the loop. */
static int ticks;
static void *ticker(void *arg) {
    (void)arg;
    for (;;) {
        if (conc_sleep(0) < 0) return NULL;
        ticks++;
    }
}

static void *resolve_main(void *arg) {
    (void)arg;
    conc_task_t *t = conc_task_spawn(NULL, ticker, NULL, NULL);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    assert_int_equal(conc_getaddrinfo("localhost", "80", &hints, &res), 0);
    assert_non_null(res);
    assert_int_equal(res->ai_family, AF_INET);
    freeaddrinfo(res);
    /* (the ticker may or may not have run: /etc/hosts can answer before the loop's next turn) */
    /* numeric: in place */
    assert_int_equal(conc_getaddrinfo("::1", "7", NULL, &res), 0);
    assert_int_equal(res->ai_family, AF_INET6);
    freeaddrinfo(res);
    assert_true(conc_getaddrinfo("no-such-host.invalid", "80", &hints, &res) != 0);
    conc_task_cancel(t);
    conc_future_t *f = conc_task_future(t);
    conc_wait_futures(&f, 1, 5, CONC_ALL_COMPLETED);
    conc_task_release(t);
    return NULL;
}

static void resolve_without_blocking(void **state) {
    (void)state;
    assert_int_equal(conc_run(resolve_main, NULL, NULL), 0);
}

static void waits_outside_a_task(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(conc_wait_readable(p[0], 1), -EPERM);
    char b;
    int lfd = conc_tcp_listen("127.0.0.1", 0, 1);
    assert_int_equal(conc_sock_accept(lfd, NULL, NULL, 1), -EPERM);
    assert_int_equal(conc_sock_accept(lfd, NULL, NULL, 0), -ETIMEDOUT);
    (void)b;
    close(p[0]);
    close(p[1]);
    close(lfd);
}

CONC_TEST_MAIN(cmocka_unit_test(tcp_v4_v6_unix), cmocka_unit_test(cancel_blocked_recv),
               cmocka_unit_test(connect_refused), cmocka_unit_test(resolve_without_blocking),
               cmocka_unit_test(waits_outside_a_task))
