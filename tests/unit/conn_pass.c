/* The Connection passer: an end exported in one process and imported in another from the fd that
 * travelled with SCM_RIGHTS (what spawn and forkserver do) keeps its direction and limit and talks
 * to the other end; a half-read frame refuses to travel (-EBUSY); a bad import closes the fds it
 * was given. The registration with the process module is not tested here (it belongs to it). */
#include "pass_util.h"
#include "internal/conn.h"

static int child_uses_passed(void *arg) {
    int sock = *(int *)arg;
    conc_conn_t *c = pass_recv(sock, &conc__conn_passer);
    CHECK(c != NULL);
    void *buf;
    size_t len;
    CHECK(conc_conn_recv(c, &buf, &len, 30) == 0 && len == 4 && !memcmp(buf, "ping", 4));
    free(buf);
    CHECK(conc_conn_send(c, "pong", 4) == 0);
    CHECK(conc_conn_send(c, "12345678901", 11) == -EMSGSIZE); /* the limit travelled */
    conc_conn_close(c);
    return 0;
}

static void passed_end_talks(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid_t pid = fork_body(child_uses_passed, &sv[1]);
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    assert_int_equal(conc_conn_set_max_message(b, 10), 0);
    assert_int_equal(pass_send(sv[0], &conc__conn_passer, b), 0);
    conc_conn_close(b); /* only the child's copy is left */
    assert_int_equal(conc_conn_send(a, "ping", 4), 0);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(a, &buf, &len, 30), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "pong", 4);
    free(buf);
    assert_int_equal(conc_conn_recv(a, &buf, &len, 30), CONC_ECLOSED);
    assert_int_equal(reap(pid), 0);
    conc_conn_close(a);
    close(sv[0]);
    close(sv[1]);
}

static void direction_travels(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    conc_conn_t *r, *w;
    assert_int_equal(conc_pipe(&r, &w, false), 0);
    assert_int_equal(pass_send(sv[0], &conc__conn_passer, w), 0);
    conc_conn_t *w2 = pass_recv(sv[1], &conc__conn_passer);
    assert_non_null(w2);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(w2, &buf, &len, 0), -EBADF);
    assert_int_equal(conc_conn_send(w2, "x", 1), 0);
    assert_int_equal(conc_conn_recv(r, &buf, &len, 10), 0);
    free(buf);
    conc_conn_close(w);
    conc_conn_close(w2);
    conc_conn_close(r);
    close(sv[0]);
    close(sv[1]);
}

static void half_read_frame_is_busy(void **state) {
    (void)state;
    int raw;
    conc_conn_t *c = conn_with_raw_peer(&raw);
    write_all(raw, "\0\0\0\x05he", 6);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(c, &buf, &len, 0.01), -ETIMEDOUT);
    int fds[CONC__PASS_MAX_FDS];
    unsigned char bytes[CONC__PASS_MAX_BYTES];
    size_t nfds = CONC__PASS_MAX_FDS, n = sizeof bytes;
    assert_int_equal(conc__conn_passer.export_obj(c, fds, &nfds, bytes, &n), -EBUSY);
    write_all(raw, "llo", 3);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), 0);
    free(buf);
    nfds = CONC__PASS_MAX_FDS, n = sizeof bytes;
    assert_int_equal(conc__conn_passer.export_obj(c, fds, &nfds, bytes, &n), 0);
    assert_int_equal(nfds, 1);
    assert_int_equal(fds[0], conc_conn_fd(c));
    close(raw);
    conc_conn_close(c);
}

static void bad_import_closes_fds(void **state) {
    (void)state;
    assert_int_equal(conc__conn_passer.kind, CONC_OBJ_KIND_CONN);
    int fd = dup(0);
    assert_true(fd >= 0);
    assert_null(conc__conn_passer.import_obj(&fd, 1, "short", 5));
    assert_false(fd_open(fd));
    unsigned char zero[12] = {0};
    fd = dup(0);
    assert_null(conc__conn_passer.import_obj(&fd, 1, zero, sizeof zero));
    assert_false(fd_open(fd));
}

CONC_TEST_MAIN(cmocka_unit_test(passed_end_talks), cmocka_unit_test(direction_travels),
               cmocka_unit_test(half_read_frame_is_busy), cmocka_unit_test(bad_import_closes_fds))
