/* Under each start method: the server process itself (conc_manager_start), and a child handed the
 * manager (CONC_OBJ_MANAGER) reaching the parent's objects with the inherited key - a dict, a
 * queue and an atomic value shared by parent and child. */
/* TEST_TIMEOUT: 90 */
#define _GNU_SOURCE
#include "manager_util.h"

static int worker(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_manager_t *m = conc_passed_manager(0);
    if (!m) return 1;
    conc_mdict_t *d;
    conc_mqueue_t *q;
    conc_mvalue_t *v;
    if (conc_mdict_open(m, "d", &d) || conc_mqueue_open(m, "q", 0, &q) ||
        conc_mvalue_open(m, "v", &v))
        return 2;
    void *x;
    size_t n;
    if (conc_mdict_get(d, "task", 4, &x, &n) || n != 5 || memcmp(x, "hello", 5)) return 3;
    free(x);
    if (conc_mdict_set(d, "from", 4, conc_process_current_name(),
                       strlen(conc_process_current_name())))
        return 4;
    if (conc_mvalue_add(v, 5, NULL)) return 5;
    if (conc_mqueue_put(q, "done", 4, 10)) return 6;
    conc_mproxy_close(d);
    conc_mproxy_close(q);
    conc_mproxy_close(v);
    return 0;
}
CONC_TARGET(worker)

static void child_reaches_manager(conc_start_method_t method) {
    /* the server under this method too */
    conc_manager_t *m = start_manager(method, "tcp:127.0.0.1:0");
    conc_mdict_t *d;
    conc_mqueue_t *q;
    conc_mvalue_t *v;
    assert_int_equal(conc_mdict_open(m, "d", &d), 0);
    assert_int_equal(conc_mqueue_open(m, "q", 0, &q), 0);
    assert_int_equal(conc_mvalue_open(m, "v", &v), 0);
    assert_int_equal(conc_mdict_set(d, "task", 4, "hello", 5), 0);
    conc_obj_t pass[] = {CONC_OBJ_MANAGER(m)};
    conc_process_opts_t o = opts_for(method);
    o.pass = pass;
    o.n_pass = 1;
    o.name = "mchild";
    conc_process_t *p[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(conc_process_start(&p[i], "worker", NULL, 0, &o), 0);
    for (int i = 0; i < 2; i++) {
        void *x;
        size_t n;
        int r = conc_mqueue_get(q, &x, &n, 30);
        expect_bytes(r, x, n, "done");
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(conc_process_join(p[i], 30), 0);
        int code = -1;
        assert_int_equal(conc_process_exitcode(p[i], &code), 0);
        assert_int_equal(code, 0);
        conc_process_free(p[i]);
    }
    int64_t x;
    assert_int_equal(conc_mvalue_get(v, &x), 0);
    assert_int_equal(x, 10);
    void *from;
    size_t n;
    int r = conc_mdict_get(d, "from", 4, &from, &n);
    expect_bytes(r, from, n, "mchild");
    conc_mproxy_close(d);
    conc_mproxy_close(q);
    conc_mproxy_close(v);
    assert_int_equal(conc_manager_shutdown(m), 0);
    conc_manager_free(m);
}
PER_METHOD(child_reaches_manager)

PROCESS_TEST_MAIN(cmocka_unit_test(child_reaches_manager_fork),
                  cmocka_unit_test(child_reaches_manager_spawn),
                  cmocka_unit_test(child_reaches_manager_forkserver))
