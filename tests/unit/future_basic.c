/* Futures: completing exactly once, the result codes, waiting with a timeout, and -EINTR in the
 * main thread after conc_init (in a child process, which the test interrupts). */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

static void result_is_set_exactly_once(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    assert_non_null(f);
    void *v = (void *)1;
    assert_false(conc_future_done(f));
    assert_int_equal(conc_future_result(f, &v), -EAGAIN);
    assert_null(v);
    int x = 42;
    assert_int_equal(conc_future_set_result(f, &x), 0);
    assert_true(conc_future_done(f));
    assert_false(conc_future_cancelled(f));
    assert_int_equal(conc_future_set_result(f, NULL), -EINVAL);
    assert_int_equal(conc_future_set_error(f, -EIO), -EINVAL);
    assert_false(conc_future_cancel(f));
    assert_int_equal(conc_future_result(f, &v), 0);
    assert_ptr_equal(v, &x);
    assert_int_equal(conc_future_result(f, NULL), 0);
    conc_future_release(f);
}

static void error_is_stored_and_returned(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    assert_int_equal(conc_future_set_error(f, 5), -EINVAL); /* errors are negative */
    assert_int_equal(conc_future_set_error(f, 0), -EINVAL);
    assert_false(conc_future_done(f));
    assert_int_equal(conc_future_set_error(f, -EIO), 0);
    assert_true(conc_future_done(f));
    void *v = (void *)1;
    assert_int_equal(conc_future_result(f, &v), -EIO);
    assert_null(v);
    assert_int_equal(conc_future_set_error(f, -EPIPE), -EINVAL);
    assert_int_equal(conc_future_set_result(f, NULL), -EINVAL);
    assert_false(conc_future_cancel(f));
    assert_int_equal(conc_future_result(f, NULL), -EIO);
    conc_future_release(f);
}

static void cancel_once_then_false(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    assert_true(conc_future_cancel(f));
    assert_true(conc_future_done(f));
    assert_true(conc_future_cancelled(f));
    assert_false(conc_future_cancel(f));
    assert_int_equal(conc_future_set_result(f, NULL), -EINVAL);
    assert_int_equal(conc_future_result(f, NULL), -ECANCELED);
    assert_int_equal(conc_future_wait(f, 0), 0);
    conc_future_release(f);
}

static void wait_times_out_never_early(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    double t0 = conc_monotonic();
    assert_int_equal(conc_future_wait(f, 0), -ETIMEDOUT); /* a poll */
    assert_true(conc_monotonic() - t0 < 1);
    t0 = conc_monotonic();
    assert_int_equal(conc_future_wait(f, 0.1), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.1);
    assert_true(took < 5);
    conc_future_set_result(f, NULL);
    assert_int_equal(conc_future_wait(f, 0), 0);
    assert_int_equal(conc_future_wait(f, -1), 0);
    conc_future_release(f);
}

static void retain_keeps_it_alive(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    conc_future_retain(f);
    conc_future_retain(f);
    conc_future_release(f);
    conc_future_release(f);
    assert_int_equal(conc_future_set_result(f, NULL), 0); /* still one reference: ASan checks */
    conc_future_release(f);
    conc_future_release(NULL);
}

static void null_arguments_are_einval(void **state) {
    (void)state;
    assert_int_equal(conc_future_set_result(NULL, NULL), -EINVAL);
    assert_int_equal(conc_future_set_error(NULL, -EIO), -EINVAL);
    assert_false(conc_future_cancel(NULL));
    assert_int_equal(conc_future_wait(NULL, 0), -EINVAL);
    assert_int_equal(conc_future_add_done_callback(NULL, NULL, NULL), -EINVAL);
    conc_future_t *f = conc_future_new();
    assert_int_equal(conc_future_add_done_callback(f, NULL, NULL), -EINVAL);
    conc_future_release(f);
}

/* The child waits in its main thread after conc_init; the parent interrupts it. A SIGINT that
 * lands before the wait starts is pending and still ends the wait with -EINTR, so no sleep is
 * needed: the child only says it is initialised. */
static void wait_returns_eintr_on_sigint_in_main_thread(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (conc_init(0, NULL) < 0) _exit(2);
        conc_future_t *f = conc_future_new();
        if (write(p[1], "r", 1) != 1) _exit(3);
        int r = conc_future_wait(f, 30);
        _exit(r == -EINTR ? 0 : 4);
    }
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    assert_int_equal(kill(pid, SIGINT), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(result_is_set_exactly_once),
               cmocka_unit_test(error_is_stored_and_returned),
               cmocka_unit_test(cancel_once_then_false),
               cmocka_unit_test(wait_times_out_never_early),
               cmocka_unit_test(retain_keeps_it_alive), cmocka_unit_test(null_arguments_are_einval),
               cmocka_unit_test(wait_returns_eintr_on_sigint_in_main_thread))
