/* Starting and joining threads: results, timeouts, self-join, liveness, pthread_exit, many threads.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"
#include "thread_gate.h"

static void *add_one(void *arg) {
    return (void *)((intptr_t)arg + 1);
}

static void start_and_join_returns_the_result(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, add_one, (void *)41, NULL), 0);
    void *r = NULL;
    assert_int_equal(conc_thread_join(t, CONC_FOREVER, &r), 0);
    assert_int_equal((intptr_t)r, 42);
    /* Joining again is fine and gives the same result, with or without a timeout. */
    r = NULL;
    assert_int_equal(conc_thread_join(t, 0, &r), 0);
    assert_int_equal((intptr_t)r, 42);
    assert_int_equal(conc_thread_join(t, 1.0, NULL), 0);
    conc_thread_release(t);
}

static uint32_t gate;
static void *wait_gate(void *arg) {
    gate_wait(&gate, -1);
    return arg;
}

static void join_times_out_then_succeeds(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, wait_gate, (void *)7, NULL), 0);
    assert_int_equal(conc_thread_join(t, 0, NULL), -ETIMEDOUT); /* a poll */
    double t0 = conc_monotonic();
    assert_int_equal(conc_thread_join(t, 0.2, NULL), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.2);
    assert_true(took < 5.0);
    assert_true(conc_thread_is_alive(t));
    gate_open(&gate);
    void *r = NULL;
    assert_int_equal(conc_thread_join(t, 10.0, &r), 0);
    assert_int_equal((intptr_t)r, 7);
    assert_false(conc_thread_is_alive(t));
    conc_thread_release(t);
}

static void *join_self(void *arg) {
    (void)arg;
    return (void *)(intptr_t)conc_thread_join(conc_thread_current(), CONC_FOREVER, NULL);
}

static void joining_yourself_is_edeadlk(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, join_self, NULL, NULL), 0);
    void *r;
    assert_int_equal(conc_thread_join(t, 10.0, &r), 0);
    assert_int_equal((intptr_t)r, -EDEADLK);
    conc_thread_release(t);
    /* The main thread joining itself, too. */
    assert_int_equal(conc_thread_join(conc_thread_main(), CONC_FOREVER, NULL), -EDEADLK);
    assert_int_equal(conc_thread_join(conc_thread_current(), 1.0, NULL), -EDEADLK);
}

static uint32_t started_gate, release_gate;
static void *report_then_wait(void *arg) {
    gate_open(&started_gate);
    gate_wait(&release_gate, -1);
    return arg;
}

static void is_alive_until_fn_returns(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, report_then_wait, NULL, NULL), 0);
    assert_true(conc_thread_is_alive(t)); /* from the moment start returns */
    assert_int_equal(gate_wait(&started_gate, 10), 0);
    assert_true(conc_thread_is_alive(t));
    gate_open(&release_gate);
    assert_int_equal(conc_thread_join(t, 10.0, NULL), 0);
    assert_false(conc_thread_is_alive(t));
    conc_thread_release(t);
    assert_true(conc_thread_is_alive(conc_thread_main()));
}

static void *exits_early(void *arg) {
    (void)arg;
    pthread_exit((void *)1);
    return NULL;
}

static void pthread_exit_counts_as_finished(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, exits_early, NULL, NULL), 0);
    void *r = (void *)5;
    assert_int_equal(conc_thread_join(t, 10.0, &r), 0);
    assert_null(r); /* fn never returned a value */
    assert_false(conc_thread_is_alive(t));
    assert_int_equal(conc_thread_active_count(), 1);
    conc_thread_release(t);
}

static uint32_t many_gate;
static void *many_fn(void *arg) {
    gate_wait(&many_gate, -1);
    return arg;
}

static size_t tasks_alive(const pid_t *tids, size_t n) {
    size_t alive = 0;
    char path[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/proc/self/task/%d", (int)tids[i]);
        alive += access(path, F_OK) == 0;
    }
    return alive;
}

static void many_threads_start_and_join(void **state) {
    (void)state;
    enum { N = 200 };
    static conc_thread_t *t[N];
    static pid_t tids[3 * N];
    size_t k = 0;
    for (intptr_t i = 0; i < N; i++) {
        assert_int_equal(conc_thread_start(&t[i], many_fn, (void *)i, NULL), 0);
        tids[k++] = conc_thread_native_id(t[i]);
    }
    assert_int_equal(conc_thread_active_count(), N + 1);
    gate_open(&many_gate);
    for (intptr_t i = 0; i < N; i++) {
        void *r;
        assert_int_equal(conc_thread_join(t[i], 30.0, &r), 0);
        assert_int_equal((intptr_t)r, i);
        conc_thread_release(t[i]);
    }
    assert_int_equal(conc_thread_active_count(), 1);
    /* Start, join, release in a loop: nothing piles up (ASan checks the memory at exit). */
    for (intptr_t i = 0; i < N; i++) {
        conc_thread_t *u;
        assert_int_equal(conc_thread_start(&u, add_one, (void *)i, NULL), 0);
        tids[k++] = conc_thread_native_id(u);
        void *r;
        assert_int_equal(conc_thread_join(u, CONC_FOREVER, &r), 0);
        assert_int_equal((intptr_t)r, i + 1);
        conc_thread_release(u);
    }
    /* Released without a join: they reap themselves. */
    for (intptr_t i = 0; i < N; i++) {
        conc_thread_t *u;
        assert_int_equal(conc_thread_start(&u, add_one, (void *)i, NULL), 0);
        tids[k++] = conc_thread_native_id(u);
        conc_thread_release(u);
    }
    assert_int_equal(conc_shutdown(), 0);
    assert_int_equal(conc_thread_active_count(), 1);
    /* Every one of them is gone from the kernel's view too: none left unreaped. They finish
     * exiting a moment after their function returns, so wait for that, boundedly. */
    double deadline = conc_monotonic() + 10;
    while (tasks_alive(tids, k) && conc_monotonic() < deadline) usleep(1000);
    assert_int_equal(tasks_alive(tids, k), 0);
}

static void *two_joiner(void *arg) {
    void *r = NULL;
    int e = conc_thread_join(arg, CONC_FOREVER, &r);
    return e == 0 ? r : (void *)-1;
}

static void several_joiners_all_return(void **state) {
    (void)state;
    conc_thread_t *t, *j[3];
    assert_int_equal(conc_thread_start(&t, wait_gate, (void *)9, NULL), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(conc_thread_start(&j[i], two_joiner, t, NULL), 0);
    assert_int_equal(conc_thread_join(t, 0.05, NULL), -ETIMEDOUT);
    gate_open(&gate);
    for (int i = 0; i < 3; i++) {
        void *r;
        assert_int_equal(conc_thread_join(j[i], 10.0, &r), 0);
        assert_int_equal((intptr_t)r, 9);
        conc_thread_release(j[i]);
    }
    void *r;
    assert_int_equal(conc_thread_join(t, CONC_FOREVER, &r), 0);
    assert_int_equal((intptr_t)r, 9);
    conc_thread_release(t);
}

static void *check_stack(void *arg) {
    char big[64 * 1024];
    memset(big, 1, sizeof big);
    return (void *)(intptr_t)(big[100] + (intptr_t)arg);
}

static void stack_size_option(void **state) {
    (void)state;
    conc_thread_t *t;
    conc_thread_opts_t o = {.name = NULL, .daemon = false, .stack_size = 1 << 20};
    assert_int_equal(conc_thread_start(&t, check_stack, (void *)1, &o), 0);
    void *r;
    assert_int_equal(conc_thread_join(t, 10.0, &r), 0);
    assert_int_equal((intptr_t)r, 2);
    conc_thread_release(t);
    o.stack_size = 1; /* below PTHREAD_STACK_MIN */
    assert_int_equal(conc_thread_start(&t, check_stack, NULL, &o), -EINVAL);
    assert_int_equal(conc_thread_active_count(), 1);
}

static void bad_arguments(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(conc_thread_start(NULL, add_one, NULL, NULL), -EINVAL);
    assert_int_equal(conc_thread_join(NULL, 0, NULL), -EINVAL);
    assert_false(conc_thread_is_alive(NULL));
    conc_thread_release(NULL);
    conc_thread_release(conc_thread_main()); /* borrowed: ignored */
    assert_string_equal(conc_thread_name(conc_thread_main()), "MainThread");
}

CONC_TEST_MAIN(cmocka_unit_test(start_and_join_returns_the_result),
               cmocka_unit_test(join_times_out_then_succeeds),
               cmocka_unit_test(joining_yourself_is_edeadlk),
               cmocka_unit_test(is_alive_until_fn_returns),
               cmocka_unit_test(pthread_exit_counts_as_finished),
               cmocka_unit_test(many_threads_start_and_join),
               cmocka_unit_test(several_joiners_all_return), cmocka_unit_test(stack_size_option),
               cmocka_unit_test(bad_arguments))
