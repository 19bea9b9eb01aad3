/* The daemon flag: inherited from the creating thread when opts is NULL, as given otherwise. */
#include "conc.h"
#include "test.h"

struct child {
    const conc_thread_opts_t *opts; /* for the grandchild */
    bool daemon;
    int err;
};

static void *nothing(void *arg) {
    return arg;
}

static void *start_child(void *arg) {
    struct child *c = arg;
    conc_thread_t *t;
    c->err = conc_thread_start(&t, nothing, NULL, c->opts);
    if (c->err) return NULL;
    c->daemon = conc_thread_is_daemon(t);
    c->err = conc_thread_join(t, 10.0, NULL);
    conc_thread_release(t);
    return NULL;
}

static bool grandchild_daemon(bool parent_daemon, const conc_thread_opts_t *child_opts) {
    struct child c = {.opts = child_opts};
    conc_thread_opts_t o = {.daemon = parent_daemon};
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, start_child, &c, &o), 0);
    assert_int_equal(conc_thread_is_daemon(t), parent_daemon);
    assert_int_equal(conc_thread_join(t, 10.0, NULL), 0);
    conc_thread_release(t);
    assert_int_equal(c.err, 0);
    return c.daemon;
}

static void main_starts_non_daemons(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, nothing, NULL, NULL), 0);
    assert_false(conc_thread_is_daemon(t));
    assert_int_equal(conc_thread_join(t, 10.0, NULL), 0);
    conc_thread_release(t);
    conc_thread_opts_t o = {.daemon = true};
    assert_int_equal(conc_thread_start(&t, nothing, NULL, &o), 0);
    assert_true(conc_thread_is_daemon(t));
    assert_int_equal(conc_thread_join(t, 10.0, NULL), 0);
    conc_thread_release(t);
}

static void opts_null_inherits(void **state) {
    (void)state;
    assert_true(grandchild_daemon(true, NULL));
    assert_false(grandchild_daemon(false, NULL));
}

static void opts_override(void **state) {
    (void)state;
    conc_thread_opts_t non_daemon = {.name = "x", .daemon = false};
    conc_thread_opts_t daemon = {.name = NULL, .daemon = true};
    assert_false(grandchild_daemon(true, &non_daemon));
    assert_true(grandchild_daemon(false, &daemon));
}

CONC_TEST_MAIN(cmocka_unit_test(main_starts_non_daemons), cmocka_unit_test(opts_null_inherits),
               cmocka_unit_test(opts_override))
