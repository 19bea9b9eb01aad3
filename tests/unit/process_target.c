/* Targets and the start method: registration rules, unknown targets, bad arguments, the default
 * method and the per-call choice, and what a child inherits of them. */
#define _GNU_SOURCE
#include <unistd.h>
#include "process_util.h"

pid_t conc__forkserver_pid(void); /* src/process: the running server, 0 if none */

static int exit_zero(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    return 0;
}
CONC_TARGET(exit_zero)

/* The child's parent and default start method, for the parent to check: exit code is
 * 10 * method + (parent pid matches the argument ? 1 : 0). */
static int report(const void *arg, size_t len) {
    pid_t want;
    if (len != sizeof want) return 100;
    memcpy(&want, arg, sizeof want);
    return 10 * (int)conc_get_start_method() + (getppid() == want);
}
CONC_TARGET(report)

static int by_hand(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    return 3;
}

static void registration(void **state) {
    (void)state;
    assert_int_equal(conc_target_register(NULL, exit_zero), -EINVAL);
    assert_int_equal(conc_target_register("", exit_zero), -EINVAL);
    assert_int_equal(conc_target_register("x", NULL), -EINVAL);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(conc_target_register(longname, exit_zero), -EINVAL);
    /* Names registered by CONC_TARGET are taken; a new name can be added once. */
    assert_int_equal(conc_target_register("exit_zero", by_hand), -EEXIST);
    assert_int_equal(conc_target_register("by_hand", by_hand), 0);
    assert_int_equal(conc_target_register("by_hand", by_hand), -EEXIST);
    assert_int_equal(conc_target_register("by_hand", exit_zero), -EEXIST);
}

/* A target registered by hand after conc_init exists in a fork child, not in a fresh exec of the
 * program, which only has what constructors (or code before conc_init) registered. Such a child
 * exits with 255, the status of a child that could not run its target. */
static void registered_late(void **state) {
    (void)state;
    assert_int_equal(conc_target_register("by_hand", by_hand), 0);
    assert_int_equal(run_child(CONC_START_FORK, "by_hand", NULL, 0), 3);
    assert_int_equal(run_child(CONC_START_SPAWN, "by_hand", NULL, 0), 255);
    assert_int_equal(run_child(CONC_START_FORKSERVER, "by_hand", NULL, 0), 255);
}

static void unknown_target(conc_start_method_t m) {
    conc_process_opts_t o = opts_for(m);
    conc_process_t *p = (conc_process_t *)&o;
    assert_int_equal(conc_process_start(&p, "no_such_target", NULL, 0, &o), -ENOENT);
    assert_null(p);
}
PER_METHOD(unknown_target)

static void bad_arguments(void **state) {
    (void)state;
    conc_process_t *p;
    assert_int_equal(conc_process_start(NULL, "exit_zero", NULL, 0, NULL), -EINVAL);
    assert_int_equal(conc_process_start(&p, NULL, NULL, 0, NULL), -EINVAL);
    assert_int_equal(conc_process_start(&p, "exit_zero", NULL, 5, NULL), -EINVAL);
    conc_process_opts_t o = {.method = (conc_start_method_t)42};
    assert_int_equal(conc_process_start(&p, "exit_zero", NULL, 0, &o), -EINVAL);
    o.method = CONC_START_SPAWN;
    o.n_pass = 1;
    assert_int_equal(conc_process_start(&p, "exit_zero", NULL, 0, &o), -EINVAL);
}

static void start_methods(void **state) {
    (void)state;
    assert_int_equal(conc_get_start_method(), CONC_START_FORKSERVER);
    assert_int_equal(conc_set_start_method((conc_start_method_t)42), -EINVAL);
    assert_int_equal(conc_get_start_method(), CONC_START_FORKSERVER);
    pid_t me = getpid();

    /* Default (NULL opts): the process-wide method, which the child inherits. */
    assert_int_equal(conc_set_start_method(CONC_START_SPAWN), 0);
    assert_int_equal(conc_get_start_method(), CONC_START_SPAWN);
    conc_process_t *p;
    int code;
    assert_int_equal(conc_process_start(&p, "report", &me, sizeof me, NULL), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 10 * CONC_START_SPAWN + 1);
    conc_process_free(p);
    assert_int_equal(conc_set_start_method(CONC_START_FORK), 0);
    assert_int_equal(run_child(CONC_START_DEFAULT, "report", &me, sizeof me),
                     10 * CONC_START_FORK + 1);

    /* A per-call choice wins; a forkserver child's parent is the server. */
    assert_int_equal(conc_set_start_method(CONC_START_DEFAULT), 0);
    assert_int_equal(conc_get_start_method(), CONC_START_FORKSERVER);
    assert_int_equal(run_child(CONC_START_SPAWN, "report", &me, sizeof me),
                     10 * CONC_START_FORKSERVER + 1);
    pid_t server = conc__forkserver_pid();
    if (server == 0) {
        assert_int_equal(run_child(CONC_START_FORKSERVER, "exit_zero", NULL, 0), 0);
        server = conc__forkserver_pid();
    }
    assert_true(server > 0);
    assert_int_equal(run_child(CONC_START_FORKSERVER, "report", &server, sizeof server),
                     10 * CONC_START_FORKSERVER + 1);
}

/* As in Python, a daemon process may not have children: it would be terminated without joining
 * them. */
static int start_from_daemon(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_process_t *p;
    return conc_process_start(&p, "exit_zero", NULL, 0, NULL) == -EPERM ? 0 : 1;
}
CONC_TARGET(start_from_daemon)

static void daemon_has_no_children(conc_start_method_t m) {
    conc_process_opts_t o = opts_for(m);
    o.daemon = true;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "start_from_daemon", NULL, 0, &o), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
}
PER_METHOD(daemon_has_no_children)

PROCESS_TEST_MAIN(cmocka_unit_test(registration), cmocka_unit_test(registered_late),
                  cmocka_unit_test(unknown_target_fork), cmocka_unit_test(unknown_target_spawn),
                  cmocka_unit_test(unknown_target_forkserver), cmocka_unit_test(bad_arguments),
                  cmocka_unit_test(start_methods), cmocka_unit_test(daemon_has_no_children_fork),
                  cmocka_unit_test(daemon_has_no_children_spawn),
                  cmocka_unit_test(daemon_has_no_children_forkserver))
