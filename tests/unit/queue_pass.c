/* The Queue passer: the memory file and the eventfd travel with SCM_RIGHTS (what spawn and
 * forkserver do), the receiver maps the same queue - which outlives the sender's handle - and a
 * bad import closes the fds it was given. */
#include "pass_util.h"
#include "internal/queue.h"

static int child_uses_passed(void *arg) {
    int sock = *(int *)arg;
    conc_queue_t *q = pass_recv(sock, &conc__queue_passer);
    CHECK(q != NULL);
    void *buf;
    size_t len;
    CHECK(conc_queue_get(q, &buf, &len, 30) == 0 && len == 4 && !memcmp(buf, "ping", 4));
    free(buf);
    CHECK(conc_queue_put(q, "x", 1, 0) == 0);
    CHECK(conc_queue_put(q, "y", 1, 0) == -ETIMEDOUT); /* maxsize 1 travelled */
    conc_queue_free(q);
    return 0;
}

static void passed_queue_is_the_same(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    conc_queue_opts_t o = {.maxsize = 1};
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, &o), 0);
    assert_int_equal(conc_queue_put(q, "ping", 4, 0), 0);
    pid_t pid = fork_body(child_uses_passed, &sv[1]);
    assert_int_equal(pass_send(sv[0], &conc__queue_passer, q), 0);
    assert_int_equal(reap(pid), 0);
    void *buf;
    size_t len;
    assert_int_equal(conc_queue_get(q, &buf, &len, 0), 0);
    assert_int_equal(len, 1);
    free(buf);
    conc_queue_free(q);
    close(sv[0]);
    close(sv[1]);
}

static void outlives_the_sender(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    conc_queue_opts_t o = {.joinable = true, .ring_bytes = 8192};
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, &o), 0);
    assert_int_equal(conc_queue_put(q, "kept", 4, 0), 0);
    assert_int_equal(pass_send(sv[0], &conc__queue_passer, q), 0);
    conc_queue_close(q); /* closing is per handle: the copy may still put */
    conc_queue_free(q);
    conc_queue_t *r = pass_recv(sv[1], &conc__queue_passer);
    assert_non_null(r);
    assert_int_equal(conc_queue_qsize(r), 1);
    assert_int_equal(conc_queue_put(r, "more", 4, 0), 0);
    assert_int_equal(conc_queue_task_done(r), 0); /* joinable travelled */
    assert_int_equal(conc_queue_task_done(r), 0);
    assert_int_equal(conc_queue_join(r, 0), 0);
    conc_queue_free(r);
    close(sv[0]);
    close(sv[1]);
}

static void bad_import_closes_fds(void **state) {
    (void)state;
    assert_int_equal(conc__queue_passer.kind, CONC_OBJ_KIND_QUEUE);
    int fds[2] = {dup(0), dup(0)};
    assert_null(conc__queue_passer.import_obj(fds, 2, "short", 5));
    assert_false(fd_open(fds[0]) || fd_open(fds[1]));
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, NULL), 0);
    int out[CONC__PASS_MAX_FDS];
    unsigned char bytes[CONC__PASS_MAX_BYTES];
    size_t nfds = CONC__PASS_MAX_FDS, n = sizeof bytes;
    assert_int_equal(conc__queue_passer.export_obj(q, out, &nfds, bytes, &n), 0);
    assert_int_equal(nfds, 2);
    uint64_t sizes[] = {(uint64_t)1 << 40, 4096, 4096 + 3 * 4096, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        /* past the file's end (SIGBUS), too small, not a power-of-two ring, zero */
        fds[0] = dup(out[0]);
        fds[1] = dup(out[1]);
        memcpy(bytes, &sizes[i], sizeof sizes[i]);
        assert_null(conc__queue_passer.import_obj(fds, 2, bytes, n));
        assert_false(fd_open(fds[0]) || fd_open(fds[1]));
    }
    /* not a queue's file */
    fds[0] = memfd_create("x", MFD_CLOEXEC);
    assert_int_equal(ftruncate(fds[0], 1 << 21), 0);
    fds[1] = dup(out[1]);
    uint64_t size = 4096 + (1 << 20);
    memcpy(bytes, &size, sizeof size);
    assert_null(conc__queue_passer.import_obj(fds, 2, bytes, n));
    assert_false(fd_open(fds[0]) || fd_open(fds[1]));
    fds[0] = dup(out[0]);
    assert_null(conc__queue_passer.import_obj(fds, 1, bytes, n)); /* one fd short */
    assert_false(fd_open(fds[0]));
    conc_queue_free(q);
}

CONC_TEST_MAIN(cmocka_unit_test(passed_queue_is_the_same), cmocka_unit_test(outlives_the_sender),
               cmocka_unit_test(bad_import_closes_fds))
