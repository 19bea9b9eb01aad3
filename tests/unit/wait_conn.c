/* conc_wait on connections (multiprocessing.connection.wait): nothing ready times out after the
 * timeout; what is ready is flagged (a message, EOF, a connection broken by a bad frame); many
 * connections at once; a message from another process wakes the wait; bad input is -EINVAL;
 * queues are -EINVAL until they exist. */
#include "ipc_util.h"

static void nothing_ready_times_out(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    conc_obj_t o[2] = {CONC_OBJ_CONN(a), CONC_OBJ_CONN(b)};
    bool ready[2] = {true, true};
    assert_int_equal(conc_wait(o, 2, 0, ready), -ETIMEDOUT);
    assert_false(ready[0] || ready[1]);
    double t0 = conc_monotonic();
    assert_int_equal(conc_wait(o, 2, 0.2, ready), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    t0 = conc_monotonic();
    assert_int_equal(conc_wait(NULL, 0, 0.1, NULL), -ETIMEDOUT); /* Python: wait([], t) sleeps */
    assert_true(conc_monotonic() - t0 >= 0.1);
    conc_conn_close(a);
    conc_conn_close(b);
}

static void ready_ones_are_flagged(void **state) {
    (void)state;
    conc_conn_t *a, *b, *c, *d;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    assert_int_equal(conc_pipe(&c, &d, true), 0);
    conc_obj_t o[4] = {CONC_OBJ_CONN(a), CONC_OBJ_CONN(b), CONC_OBJ_CONN(c), CONC_OBJ_CONN(d)};
    bool ready[4];
    assert_int_equal(conc_conn_send(a, "x", 1), 0); /* b has a message */
    assert_int_equal(conc_wait(o, 4, 10, ready), 1);
    assert_true(!ready[0] && ready[1] && !ready[2] && !ready[3]);
    conc_conn_close(d); /* c sees EOF: ready too */
    assert_int_equal(conc_wait(o, 3, 10, ready), 2);
    assert_true(!ready[0] && ready[1] && ready[2]);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(b, &buf, &len, 0), 0);
    free(buf);
    assert_int_equal(conc_wait(o, 3, 0, ready), 1);
    assert_true(!ready[0] && !ready[1] && ready[2]);
    conc_conn_close(a);
    conc_conn_close(b);
    conc_conn_close(c);
}

static void broken_connection_is_ready(void **state) {
    (void)state;
    int raw;
    conc_conn_t *c = conn_with_raw_peer(&raw);
    write_all(raw, "\xff\xff\xff\xfe", 4);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_EPROTO);
    conc_obj_t o = CONC_OBJ_CONN(c);
    bool ready;
    assert_int_equal(conc_wait(&o, 1, 0, &ready), 1);
    assert_true(ready);
    close(raw);
    conc_conn_close(c);
}

static void many_connections(void **state) {
    (void)state;
    enum { N = 40 };
    conc_conn_t *a[N], *b[N];
    conc_obj_t o[N];
    bool ready[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(conc_pipe(&a[i], &b[i], false), 0);
        o[i] = CONC_OBJ_CONN(a[i]);
    }
    assert_int_equal(conc_wait(o, N, 0, ready), -ETIMEDOUT);
    for (int i = 0; i < N; i += 3) assert_int_equal(conc_conn_send(b[i], "m", 1), 0);
    assert_int_equal(conc_wait(o, N, 10, ready), (N + 2) / 3);
    for (int i = 0; i < N; i++) assert_int_equal(ready[i], i % 3 == 0);
    for (int i = 0; i < N; i++) {
        conc_conn_close(a[i]);
        conc_conn_close(b[i]);
    }
}

static void woken_by_another_process(void **state) {
    (void)state;
    conc_conn_t *a, *b, *c, *d;
    assert_int_equal(conc_pipe(&a, &b, false), 0);
    assert_int_equal(conc_pipe(&c, &d, false), 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char x;
        if (read(go[0], &x, 1) != 1) _exit(1);
        _exit(conc_conn_send(d, "late", 4) == 0 ? 0 : 2);
    }
    conc_obj_t o[2] = {CONC_OBJ_CONN(a), CONC_OBJ_CONN(c)};
    bool ready[2];
    assert_int_equal(write(go[1], "g", 1), 1); /* the wait may start before or after the send */
    double t0 = conc_monotonic();
    assert_int_equal(conc_wait(o, 2, 30, ready), 1);
    assert_true(conc_monotonic() - t0 < 20);
    assert_true(!ready[0] && ready[1]);
    assert_int_equal(reap(pid), 0);
    close(go[0]);
    close(go[1]);
    conc_conn_close(a);
    conc_conn_close(b);
    conc_conn_close(c);
    conc_conn_close(d);
}

static void bad_input(void **state) {
    (void)state;
    conc_conn_t *r, *w;
    assert_int_equal(conc_pipe(&r, &w, false), 0);
    bool ready[2];
    conc_obj_t ok = CONC_OBJ_CONN(r);
    assert_int_equal(conc_wait(NULL, 1, 0, ready), -EINVAL);
    assert_int_equal(conc_wait(&ok, 1, 0, NULL), -EINVAL);
    conc_obj_t null_obj = CONC_OBJ_CONN(NULL);
    assert_int_equal(conc_wait(&null_obj, 1, 0, ready), -EINVAL);
    conc_obj_t write_only = CONC_OBJ_CONN(w); /* can never become readable */
    assert_int_equal(conc_wait(&write_only, 1, 0, ready), -EINVAL);
    int dummy; /* (queues are waitable: tests/unit/queue_wait.c) */
    conc_obj_t shm = CONC_OBJ_SHM((conc_shm_t *)&dummy);
    assert_int_equal(conc_wait(&shm, 1, 0, ready), -EINVAL);
    conc_obj_t unknown = {99, &dummy};
    conc_obj_t mixed[2] = {ok, unknown};
    ready[0] = ready[1] = true;
    assert_int_equal(conc_wait(mixed, 2, 0, ready), -EINVAL);
    assert_false(ready[0] || ready[1]);
    conc_conn_close(r);
    conc_conn_close(w);
}

CONC_TEST_MAIN(cmocka_unit_test(nothing_ready_times_out), cmocka_unit_test(ready_ones_are_flagged),
               cmocka_unit_test(broken_connection_is_ready), cmocka_unit_test(many_connections),
               cmocka_unit_test(woken_by_another_process), cmocka_unit_test(bad_input))
