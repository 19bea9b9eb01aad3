/* conc_wait on processes (their sentinels) mixed with connections: a running process is not
 * ready, one that ended is, under each start method; both kinds flagged together. */
/* TEST_TIMEOUT: 120 */
#include <unistd.h>
#include "process_util.h"

/* Exits when the passed connection delivers a message (or closes). */
static int exit_on_message(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_conn_t *c = conc_passed_conn(0);
    if (!c) return 1;
    void *buf;
    size_t n;
    int r = conc_conn_recv(c, &buf, &n, 60);
    if (r == 0) free(buf);
    return r == 0 ? 7 : 2;
}
CONC_TARGET(exit_on_message)

static void process_becomes_ready(conc_start_method_t m) {
    conc_conn_t *a, *b, *x, *y;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    assert_int_equal(conc_pipe(&x, &y, true), 0);
    conc_obj_t pass[] = {CONC_OBJ_CONN(b)};
    conc_process_opts_t o = opts_for(m);
    o.pass = pass;
    o.n_pass = 1;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "exit_on_message", NULL, 0, &o), 0);
    conc_conn_close(b);
    conc_obj_t objs[2] = {CONC_OBJ_PROCESS(p), CONC_OBJ_CONN(x)};
    bool ready[2];
    assert_int_equal(conc_wait(objs, 2, 0.1, ready), -ETIMEDOUT);
    assert_int_equal(conc_conn_send(y, "m", 1), 0); /* x ready */
    assert_int_equal(conc_wait(objs, 2, 10, ready), 1);
    assert_true(!ready[0] && ready[1]);
    assert_int_equal(conc_conn_send(a, "go", 2), 0); /* the child exits */
    double t0 = conc_monotonic();
    assert_int_equal(conc_wait(objs, 1, 30, ready), 1);
    assert_true(ready[0]);
    assert_true(conc_monotonic() - t0 < 30);
    assert_int_equal(conc_wait(objs, 2, 0, ready), 2);
    assert_true(ready[0] && ready[1]);
    assert_int_equal(conc_process_join(p, 10), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 7);
    assert_int_equal(conc_wait(objs, 1, 0, ready), 1); /* stays ready after join */
    conc_process_free(p);
    conc_conn_close(a);
    conc_conn_close(x);
    conc_conn_close(y);
}
PER_METHOD(process_becomes_ready)

PROCESS_TEST_MAIN(cmocka_unit_test(process_becomes_ready_fork),
                  cmocka_unit_test(process_becomes_ready_spawn),
                  cmocka_unit_test(process_becomes_ready_forkserver))
