/* GIL basics in one thread: defaults, argument checks, acquire/release, misuse is ignored and
 * counted, ticks and yields with nobody waiting, destroy and re-init. */
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

static void init_with_null_opts_uses_the_defaults(void **state) {
    (void)state;
    conc_gil_t g;
    assert_int_equal(conc_gil_init(&g, NULL), 0);
    assert_true(fabs(conc_gil_switch_interval(&g) - 0.005) < 1e-12);
    /* the defaults are CONC_GIL_OPTS_INIT, and a zero interval means the default too */
    conc_gil_opts_t d = CONC_GIL_OPTS_INIT, z = {0};
    assert_true(d.switch_interval == 0.005 && d.check_interval == 0 && !d.io_priority);
    conc_gil_t g2;
    assert_int_equal(conc_gil_init(&g2, &z), 0);
    assert_true(fabs(conc_gil_switch_interval(&g2) - 0.005) < 1e-12);
    /* nobody holds it after init: the initialising thread acquires like everyone else */
    conc_gil_acquire(&g);
    conc_gil_release(&g);
    conc_gil_stats_t st;
    assert_int_equal(conc_gil_stats(&g, &st), 0);
    assert_int_equal(st.acquires, 1);
    assert_int_equal(st.contended, 0);
    assert_int_equal(st.misuse, 0);
    conc_gil_destroy(&g2);
    conc_gil_destroy(&g);
}

static void bad_arguments_are_einval(void **state) {
    (void)state;
    conc_gil_t g;
    conc_gil_opts_t o = CONC_GIL_OPTS_INIT;
    assert_int_equal(conc_gil_init(NULL, NULL), -EINVAL);
    o.switch_interval = -1;
    assert_int_equal(conc_gil_init(&g, &o), -EINVAL);
    o.switch_interval = NAN;
    assert_int_equal(conc_gil_init(&g, &o), -EINVAL);
    assert_int_equal(conc_gil_init(&g, NULL), 0);
    assert_int_equal(conc_gil_set_switch_interval(&g, 0), -EINVAL);
    assert_int_equal(conc_gil_set_switch_interval(&g, -0.1), -EINVAL);
    assert_int_equal(conc_gil_set_switch_interval(&g, 0.001), 0);
    assert_true(fabs(conc_gil_switch_interval(&g) - 0.001) < 1e-12);
    assert_int_equal(conc_gil_stats(&g, NULL), -EINVAL);
    conc_gil_stats_t st;
    assert_int_equal(conc_gil_stats(NULL, &st), -EINVAL);
    conc_gil_destroy(&g);
}

static void misuse_is_ignored_and_counted(void **state) {
    (void)state;
    conc_gil_t g;
    assert_int_equal(conc_gil_init(&g, NULL), 0);
    errno = ERANGE;
    conc_gil_release(&g); /* not held */
    assert_int_equal(errno, ERANGE);
    assert_false(conc_gil_held(&g));
    conc_gil_acquire(&g);
    assert_true(conc_gil_held(&g));
    conc_gil_acquire(&g); /* not recursive: returns instead of deadlocking */
    conc_gil_release(&g);
    assert_false(conc_gil_held(&g));
    conc_gil_release(&g); /* already released */
    conc_gil_yield(&g);   /* yield and tick by a non-holder */
    conc_gil_tick_slow(&g);
    conc_gil_stats_t st;
    assert_int_equal(conc_gil_stats(&g, &st), 0);
    assert_int_equal(st.misuse, 5);
    assert_int_equal(st.acquires, 1);
    /* and it still works */
    conc_gil_acquire(&g);
    conc_gil_release(&g);
    conc_gil_destroy(&g);
}

static void ticks_and_yields_alone_do_nothing(void **state) {
    (void)state;
    conc_gil_t g;
    conc_gil_opts_t o = {.check_interval = 10};
    for (int mode = 0; mode < 2; mode++) {
        assert_int_equal(conc_gil_init(&g, mode ? &o : NULL), 0);
        conc_gil_acquire(&g);
        for (int i = 0; i < 1000; i++) conc_gil_tick(&g);
        conc_gil_yield(&g);
        CONC_GIL_BEGIN_ALLOW_THREADS(&g)
        errno = EPIPE;
        CONC_GIL_END_ALLOW_THREADS(&g)
        assert_int_equal(errno, EPIPE);
        conc_gil_release(&g);
        conc_gil_stats_t st;
        assert_int_equal(conc_gil_stats(&g, &st), 0);
        assert_int_equal(st.acquires, 2);
        assert_int_equal(st.switches, 1);
        assert_int_equal(st.yields + st.forced_drops + st.misuse + st.contended, 0);
        assert_true(st.wait_p50 == 0 && st.wait_max == 0);
        conc_gil_destroy(&g);
    }
}

static void destroy_then_reinit_and_fork_after_free(void **state) {
    (void)state;
    conc_gil_t *g = malloc(sizeof *g);
    assert_non_null(g);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(conc_gil_init(g, NULL), 0);
        conc_gil_acquire(g);
        conc_gil_release(g);
        conc_gil_destroy(g);
    }
    conc_gil_destroy(g); /* twice: ignored */
    free(g);
    /* the fork handler must not touch the freed GIL (ASan would see it) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

CONC_TEST_MAIN(cmocka_unit_test(init_with_null_opts_uses_the_defaults),
               cmocka_unit_test(bad_arguments_are_einval),
               cmocka_unit_test(misuse_is_ignored_and_counted),
               cmocka_unit_test(ticks_and_yields_alone_do_nothing),
               cmocka_unit_test(destroy_then_reinit_and_fork_after_free))
