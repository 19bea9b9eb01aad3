/* KeyboardInterrupt in the event loop: after conc_init, a SIGINT makes a loop run by the main
 * thread return -EINTR (consumed once), asleep or busy; conc_run then cancels main, lets it clean
 * up, cancels the other tasks, and returns -EINTR; a loop in another thread is never interrupted;
 * a second SIGINT while the first is unconsumed kills. Each scenario runs in a child
 * (tests/helpers/loop_interrupt.c) that only the test signals. */
#define _GNU_SOURCE
#include <string.h>
#include "conc.h"
#include "test.h"
#include "../helpers/signal_expect.h"

#define HELPER CONC_TEST_HELPER("loop_interrupt")
#define T      10.0 /* generous timeout (s) for anything the child should do at once */

static void run_forever_asleep_returns_eintr(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "forever"), 0);
    expect_line(&c, "ready");
    /* asleep in epoll_wait: the signal has to wake it, not a look before sleeping */
    assert_true(proc_wait_state(c.pid, c.pid, 'S', T));
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "run EINTR check OK"); /* consumed by the loop, not left for another call */
    expect_line(&c, "again OK");
    expect_exit_0(&c);
}

static void busy_loop_returns_eintr(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "busy"), 0);
    expect_line(&c, "ready");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "run EINTR spun yes");
    expect_exit_0(&c);
}

static void run_until_complete_returns_eintr(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "until"), 0);
    expect_line(&c, "ready");
    assert_true(proc_wait_state(c.pid, c.pid, 'S', T));
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "until EINTR done 0");
    expect_exit_0(&c);
}

static void loop_in_other_thread_is_not_interrupted(void **state) {
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
    assert_int_equal(syscall(SYS_tgkill, c.pid, tid, SIGINT), 0);
    /* the main thread's wait took it; the loop ran on until stopped */
    expect_line(&c, "main EINTR loop OK");
    expect_exit_0(&c);
}

static void conc_run_cancels_main_then_the_rest(const char *mode) {
    struct child c;
    assert_int_equal(child_start(&c, HELPER, mode), 0);
    expect_line(&c, "ready");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "main ECANCELED");
    expect_line(&c, "main cleanup OK worker 1");
    expect_line(&c, "worker ECANCELED");
    expect_line(&c, "worker cleanup OK");
    expect_line(&c, "run EINTR worker 3 result (nil) check OK");
    expect_exit_0(&c);
}

static void conc_run_returns_eintr_after_cleanup(void **state) {
    (void)state;
    conc_run_cancels_main_then_the_rest("run");
}

static void conc_run_busy_returns_eintr_after_cleanup(void **state) {
    (void)state;
    conc_run_cancels_main_then_the_rest("runbusy");
}

static void second_sigint_while_a_callback_holds_the_loop_kills(void **state) {
    (void)state;
    struct child c;
    assert_int_equal(child_start(&c, HELPER, "twice"), 0);
    expect_line(&c, "ready");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    expect_line(&c, "first pending 1");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    int st = child_exit(&c, T);
    assert_true(st != -1);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGINT);
}

CONC_TEST_MAIN(cmocka_unit_test(run_forever_asleep_returns_eintr),
               cmocka_unit_test(busy_loop_returns_eintr),
               cmocka_unit_test(run_until_complete_returns_eintr),
               cmocka_unit_test(loop_in_other_thread_is_not_interrupted),
               cmocka_unit_test(conc_run_returns_eintr_after_cleanup),
               cmocka_unit_test(conc_run_busy_returns_eintr_after_cleanup),
               cmocka_unit_test(second_sigint_while_a_callback_holds_the_loop_kills))
