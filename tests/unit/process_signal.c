/* kill and terminate under each start method: the exit code is -SIGKILL or -SIGTERM, as Python's
 * exitcode, and signalling a process that already ended is a no-op. */
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>
#include "process_util.h"

static int pause_forever(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(pause_forever)

static int exit_zero(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    return 0;
}
CONC_TARGET(exit_zero)

static void ended_by(conc_start_method_t m, int (*send)(conc_process_t *), int signo) {
    conc_process_opts_t o = opts_for(m);
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "pause_forever", NULL, 0, &o), 0);
    assert_true(conc_process_is_alive(p));
    assert_int_equal(send(p), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    assert_false(conc_process_is_alive(p));
    int code = 0;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, -signo);
    /* Once it ended, both are no-ops and the code stays. */
    assert_int_equal(conc_process_kill(p), 0);
    assert_int_equal(conc_process_terminate(p), 0);
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, -signo);
    conc_process_free(p);
}

static void killed(conc_start_method_t m) {
    ended_by(m, conc_process_kill, SIGKILL);
}
PER_METHOD(killed)

static void terminated(conc_start_method_t m) {
    ended_by(m, conc_process_terminate, SIGTERM);
}
PER_METHOD(terminated)

/* Signals sent after the child exited but before anyone reaped it do nothing either. */
static void signal_after_exit(conc_start_method_t m) {
    conc_process_opts_t o = opts_for(m);
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "exit_zero", NULL, 0, &o), 0);
    assert_true(fd_readable(conc_process_sentinel(p), 30000));
    assert_int_equal(conc_process_terminate(p), 0);
    assert_int_equal(conc_process_kill(p), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
}
PER_METHOD(signal_after_exit)

PROCESS_TEST_MAIN(cmocka_unit_test(killed_fork), cmocka_unit_test(killed_spawn),
                  cmocka_unit_test(killed_forkserver), cmocka_unit_test(terminated_fork),
                  cmocka_unit_test(terminated_spawn), cmocka_unit_test(terminated_forkserver),
                  cmocka_unit_test(signal_after_exit_fork),
                  cmocka_unit_test(signal_after_exit_spawn),
                  cmocka_unit_test(signal_after_exit_forkserver))
