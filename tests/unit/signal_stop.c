/* conc_signal_on_stop: SIGTSTP runs before_stop and then really stops the process; SIGCONT runs
 * after_continue; both at once (the dispatcher was busy) run both hooks without stopping. The
 * child (tests/helpers/signal_stop.c) is the only process the test signals. */
#define _GNU_SOURCE
#include <string.h>
#include "conc.h"
#include "test.h"
#include "../helpers/signal_expect.h"

#define HELPER CONC_TEST_HELPER("signal_stop")
#define T      10.0

static void tstp_runs_hook_then_stops_and_cont_resumes(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "stop"), 0);
    expect_line(&c, "ready");
    assert_int_equal(kill(c.pid, SIGTSTP), 0);
    expect_line(&c, "stop hook");
    /* really stopped: the kernel says so to the parent and in /proc */
    assert_true(proc_wait_state(c.pid, c.pid, 'T', T));
    int st;
    assert_int_equal(waitpid(c.pid, &st, WUNTRACED), c.pid);
    assert_true(WIFSTOPPED(st));
    assert_int_equal(WSTOPSIG(st), SIGSTOP);
    assert_int_equal(kill(c.pid, SIGCONT), 0);
    expect_line(&c, "cont hook");
    assert_true(proc_state(c.pid, c.pid) != 'T');
    child_say(&c, "exit");
    expect_exit_0(&c);
}

static void tstp_and_cont_together_do_not_stop(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "together"), 0);
    expect_line(&c, "ready");
    /* occupy the dispatcher, then let both signals be caught before it looks again */
    assert_int_equal(kill(c.pid, SIGUSR1), 0);
    expect_line(&c, "busy");
    assert_int_equal(kill(c.pid, SIGTSTP), 0);
    assert_true(proc_wait_delivered(c.pid, SIGTSTP, T));
    assert_int_equal(kill(c.pid, SIGCONT), 0);
    assert_true(proc_wait_delivered(c.pid, SIGCONT, T));
    child_say(&c, "go");
    expect_line(&c, "stop hook");
    expect_line(&c, "cont hook");
    /* still running: it answers, and was never reported stopped */
    int st;
    assert_int_equal(waitpid(c.pid, &st, WNOHANG | WUNTRACED), 0);
    child_say(&c, "exit");
    expect_exit_0(&c);
}

static void noop(void *arg) {
    (void)arg;
}

static void hooks_null_restore_the_defaults(void **state) {
    (void)state;
    struct sigaction sa;
    assert_int_equal(conc_signal_on_stop(noop, NULL, NULL), 0);
    assert_int_equal(sigaction(SIGTSTP, NULL, &sa), 0);
    assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    assert_int_equal(conc_signal_on_stop(NULL, NULL, NULL), 0);
    assert_int_equal(sigaction(SIGTSTP, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
    assert_int_equal(sigaction(SIGCONT, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
}

CONC_TEST_MAIN(cmocka_unit_test(tstp_runs_hook_then_stops_and_cont_resumes),
               cmocka_unit_test(tstp_and_cont_together_do_not_stop),
               cmocka_unit_test(hooks_null_restore_the_defaults))
