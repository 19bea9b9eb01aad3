/* conc_signal_handle: handlers run in the dispatcher thread, not in signal context; NULL restores
 * the default; a SIGINT handler replaces KeyboardInterrupt; a fork child dispatches its own
 * signals; uncatchable and invalid signals are -EINVAL. The scenarios that take signals run in a
 * child (tests/helpers/signal_handler.c) that only the test signals. */
#define _GNU_SOURCE
#include <string.h>
#include "conc.h"
#include "test.h"
#include "../helpers/signal_expect.h"

#define HELPER CONC_TEST_HELPER("signal_handler")
#define T      10.0

static void handler_runs_in_the_dispatcher_thread(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "usr1"), 0);
    char line[256];
    assert_true(child_line(&c, line, sizeof line, T));
    int main_tid = 0;
    assert_int_equal(sscanf(line, "ready %d", &main_tid), 1);
    assert_int_equal(kill(c.pid, SIGUSR1), 0);
    assert_true(child_line(&c, line, sizeof line, T));
    int signo = 0, tid = 0;
    char name[32] = "", arg[32] = "";
    assert_int_equal(sscanf(line, "handler %d tid %d name %31s arg %31s", &signo, &tid, name, arg),
                     4);
    assert_int_equal(signo, SIGUSR1);
    assert_true(tid > 0 && tid != main_tid);
    assert_string_equal(name, "conc-signals");
    assert_string_equal(arg, "hello");
    /* handler NULL: the default action again, which for SIGUSR1 is to die */
    expect_line(&c, "default");
    assert_int_equal(kill(c.pid, SIGUSR1), 0);
    int st = child_exit(&c, T);
    assert_true(st != -1);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGUSR1);
}

static void sigint_handler_replaces_keyboard_interrupt(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "sigint"), 0);
    expect_line(&c, "ready");
    assert_true(proc_wait_state(c.pid, c.pid, 'S', T)); /* asleep in conc__wait */
    assert_int_equal(kill(c.pid, SIGINT), 0);
    char want[64];
    snprintf(want, sizeof want, "handled %d in other", SIGINT);
    expect_line(&c, want);
    /* the main thread's wait was not interrupted, and no interrupt is pending */
    expect_line(&c, "main eintr 0 check OK");
    /* NULL after conc_init: KeyboardInterrupt again */
    expect_line(&c, "restored");
    assert_true(proc_wait_state(c.pid, c.pid, 'S', T));
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "EINTR");
    expect_exit_0(&c);
}

static void fork_child_dispatches_its_own_signals(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "fork"), 0);
    int parent = 0, child = 0;
    char line[256];
    for (int i = 0; i < 2; i++) {
        assert_true(child_line(&c, line, sizeof line, T));
        if (sscanf(line, "parent %d", &parent) != 1 && sscanf(line, "child %d", &child) != 1)
            fail_msg("unexpected \"%s\"", line);
    }
    assert_int_equal(parent, c.pid);
    assert_true(child > 0 && child != parent);
    /* the helper's own child, which it does not reap before this signal is handled */
    assert_int_equal(kill(child, SIGUSR1), 0);
    snprintf(line, sizeof line, "handled pid %d", child);
    expect_line(&c, line);
    expect_line(&c, "child done 1");
    /* the parent's dispatcher saw none of that: its handler runs once, for its own signal */
    assert_int_equal(kill(parent, SIGUSR1), 0);
    snprintf(line, sizeof line, "handled pid %d", parent);
    expect_line(&c, line);
    expect_line(&c, "parent done 1 child status 0");
    expect_exit_0(&c);
}

static void noop(int signo, void *arg) {
    (void)signo, (void)arg;
}

static void uncatchable_and_invalid_signals_are_einval(void **state) {
    (void)state;
    struct sigaction before, after;
    assert_int_equal(sigaction(SIGSEGV, NULL, &before), 0); /* cmocka's own handler */
    int bad[] = {SIGKILL, SIGSTOP, 0, 65, -1, 1000, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(conc_signal_handle(bad[i], noop, NULL), -EINVAL);
        assert_int_equal(conc_signal_handle(bad[i], NULL, NULL), -EINVAL);
    }
    /* and nothing was installed for them */
    assert_int_equal(sigaction(SIGSEGV, NULL, &after), 0);
    assert_true(after.sa_handler == before.sa_handler);
}

static void handler_null_restores_sig_dfl(void **state) {
    (void)state;
    struct sigaction sa;
    assert_int_equal(conc_signal_handle(SIGUSR2, noop, NULL), 0);
    assert_int_equal(sigaction(SIGUSR2, NULL, &sa), 0);
    assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    assert_int_equal(conc_signal_handle(SIGUSR2, NULL, NULL), 0);
    assert_int_equal(sigaction(SIGUSR2, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
    /* SIGINT without conc_init: back to the default too */
    assert_int_equal(conc_signal_handle(SIGINT, noop, NULL), 0);
    assert_int_equal(conc_signal_handle(SIGINT, NULL, NULL), 0);
    assert_int_equal(sigaction(SIGINT, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
}

CONC_TEST_MAIN(cmocka_unit_test(handler_runs_in_the_dispatcher_thread),
               cmocka_unit_test(sigint_handler_replaces_keyboard_interrupt),
               cmocka_unit_test(fork_child_dispatches_its_own_signals),
               cmocka_unit_test(uncatchable_and_invalid_signals_are_einval),
               cmocka_unit_test(handler_null_restores_sig_dfl))
