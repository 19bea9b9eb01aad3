/* KeyboardInterrupt: after conc_init a SIGINT makes the main thread's blocking conc_ call return
 * -EINTR once, never another thread's; conc_check_interrupt reports it once; a second SIGINT
 * while the first is unconsumed kills. Each scenario runs in a child (tests/helpers/
 * signal_interrupt.c) that only the test signals. */
#define _GNU_SOURCE
#include <string.h>
#include "conc.h"
#include "test.h"
#include "../helpers/signal_expect.h"

#define HELPER CONC_TEST_HELPER("signal_interrupt")
#define T      10.0 /* generous timeout (s) for anything the child should do at once */

static void blocked_wait_returns_eintr_once(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "wait"), 0);
    expect_line(&c, "ready");
    /* asleep in the futex, so the signal has to wake it, not a check before sleeping */
    assert_true(proc_wait_state(c.pid, c.pid, 'S', T));
    double t0 = sp_now();
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "EINTR");
    assert_true(sp_now() - t0 < 5);
    char line[128];
    assert_true(child_line(&c, line, sizeof line, T));
    double took = -1;
    assert_int_equal(sscanf(line, "ETIMEDOUT %lf", &took), 1);
    assert_true(took >= 0.2 && took < 5);
    expect_exit_0(&c);
}

static void other_thread_is_not_interrupted(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "thread"), 0);
    char line[128];
    assert_true(child_line(&c, line, sizeof line, T));
    int tid = 0;
    assert_int_equal(sscanf(line, "ready %d", &tid), 1);
    assert_true(tid > 0 && tid != c.pid);
    assert_true(proc_wait_state(c.pid, tid, 'S', T));
    assert_true(proc_wait_state(c.pid, c.pid, 'S', T));
    /* To the other thread itself: its handler passes the interrupt on to the main thread. */
    assert_int_equal(syscall(SYS_tgkill, c.pid, tid, SIGINT), 0);
    expect_line(&c, "main EINTR");
    expect_line(&c, "thread OK");
    expect_exit_0(&c);
}

static void check_interrupt_once_per_sigint(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "check"), 0);
    expect_line(&c, "ready");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    /* another thread asks while the interrupt is pending: 0, and it stays pending */
    expect_line(&c, "thread OK pending 1");
    child_say(&c, "go");
    expect_line(&c, "main EINTR OK");
    /* the main thread in a CPU loop that polls */
    expect_line(&c, "spinning");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "spun EINTR 0");
    expect_exit_0(&c);
}

static void second_unconsumed_sigint_kills(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "twice"), 0);
    expect_line(&c, "ready");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    /* the first one was counted, and nothing consumed it */
    expect_line(&c, "first OK pending 1");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    int st = child_exit(&c, T);
    assert_true(st != -1);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGINT);
}

static void init_is_idempotent_and_quiet(void **state) {
    (void)state;
    assert_int_equal(conc_init(0, NULL), 0);
    assert_int_equal(conc_init(0, NULL), 0);
    assert_int_equal(conc_check_interrupt(), 0);
    struct sigaction sa;
    assert_int_equal(sigaction(SIGINT, NULL, &sa), 0);
    assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}

CONC_TEST_MAIN(cmocka_unit_test(blocked_wait_returns_eintr_once),
               cmocka_unit_test(other_thread_is_not_interrupted),
               cmocka_unit_test(check_interrupt_once_per_sigint),
               cmocka_unit_test(second_unconsumed_sigint_kills),
               cmocka_unit_test(init_is_idempotent_and_quiet))
