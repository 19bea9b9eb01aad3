/* Cancellation: Task.cancel semantics and the C rule - an await that returned -ECANCELED makes the
 * task end cancelled whatever it returns, unless it called conc_task_uncancel. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static int log_sleep_result;
static bool after_sleep;

static void *sleep_then_return_value(void *arg) {
    (void)arg;
    log_sleep_result = conc_sleep(3600);
    after_sleep = true;
    return V(1); /* ignores the -ECANCELED: must still end cancelled */
}

static void *cancel_a_sleeper(void *arg) {
    (void)arg;
    log_sleep_result = 0;
    after_sleep = false;
    conc_task_t *t = conc_task_spawn(NULL, sleep_then_return_value, NULL, NULL);
    conc_sleep(0); /* let it start and park */
    assert_true(conc_task_cancel(t));
    assert_int_equal(conc_task_cancelling(t), 1);
    void *v = V(5);
    assert_int_equal(conc_await(conc_task_future(t), &v), -ECANCELED);
    assert_null(v);
    assert_true(after_sleep); /* its code after the sleep ran: cleanup is possible */
    assert_int_equal(log_sleep_result, -ECANCELED);
    assert_true(conc_future_cancelled(conc_task_future(t)));
    assert_false(conc_task_cancel(t)); /* done */
    conc_task_release(t);
    conc_task_uncancel(); /* this task handled the -ECANCELED of its await */
    return V(3);
}

static void an_ignored_cancellation_still_ends_the_task_cancelled(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(cancel_a_sleeper, NULL, &res), 0);
    assert_int_equal(I(res), 3);
}

static void *sleep_uncancel_return(void *arg) {
    (void)arg;
    int r = conc_sleep(3600);
    assert_int_equal(r, -ECANCELED);
    assert_int_equal(conc_task_cancelling(conc_task_current()), 1);
    conc_task_uncancel();
    assert_int_equal(conc_task_cancelling(conc_task_current()), 0);
    assert_int_equal(conc_sleep(0.001), 0); /* not cancelled any more */
    return V(8);
}

static void *cancel_then_value(void *arg) {
    (void)arg;
    conc_task_t *t = conc_task_spawn(NULL, sleep_uncancel_return, NULL, NULL);
    conc_sleep(0);
    conc_task_cancel(t);
    void *v;
    int r = conc_await(conc_task_future(t), &v);
    conc_task_release(t);
    return r == 0 ? v : conc_task_error(r);
}

static void uncancel_lets_the_task_go_on(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(cancel_then_value, NULL, &res), 0);
    assert_int_equal(I(res), 8);
}

static bool ran;
static void *mark_ran(void *arg) {
    (void)arg;
    ran = true;
    return NULL;
}

static void *cancel_before_start(void *arg) {
    (void)arg;
    ran = false;
    conc_task_t *t = conc_task_spawn(NULL, mark_ran, NULL, NULL);
    assert_true(conc_task_cancel(t));
    assert_int_equal(conc_await(conc_task_future(t), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_false(ran);
    conc_task_release(t);
    return NULL;
}

static void a_task_cancelled_before_it_ran_never_runs(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_before_start, NULL, NULL), 0);
}

/* ---- cancelling a task that awaits another task ---- */
static bool inner_cleaned;
static double inner_cleanup_end;

static void *inner_slow_cleanup(void *arg) {
    (void)arg;
    if (conc_sleep(3600) == -ECANCELED) {
        conc_task_uncancel(); /* do async cleanup, then end cancelled on purpose */
        conc_sleep(0.05);
        inner_cleaned = true;
        inner_cleanup_end = conc_monotonic();
        return conc_task_error(-ECANCELED);
    }
    return NULL;
}

static conc_task_t *inner_task;
static void *outer_awaits_inner(void *arg) {
    (void)arg;
    int r = conc_await(conc_task_future(inner_task), NULL);
    /* the await returns only after inner has finished its cleanup */
    assert_true(inner_cleaned);
    assert_true(conc_monotonic() >= inner_cleanup_end);
    return V(r);
}

static void *cancel_outer(void *arg) {
    (void)arg;
    inner_cleaned = false;
    inner_task = conc_task_spawn(NULL, inner_slow_cleanup, NULL, NULL);
    conc_task_t *outer = conc_task_spawn(NULL, outer_awaits_inner, NULL, NULL);
    conc_sleep(0);
    conc_sleep(0);
    assert_true(conc_task_cancel(outer));
    assert_int_equal(conc_await(conc_task_future(outer), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_true(inner_cleaned);
    assert_true(conc_future_cancelled(conc_task_future(inner_task)));
    conc_task_release(outer);
    conc_task_release(inner_task);
    return NULL;
}

static void cancelling_an_awaiter_cancels_the_awaited_task_and_waits_for_it(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_outer, NULL, NULL), 0);
}

/* The awaited task handles the cancellation and returns a value: the awaiter still sees
 * -ECANCELED (its own cancellation is never swallowed); the value stays in the inner's future. */
static void *inner_swallows(void *arg) {
    (void)arg;
    if (conc_sleep(3600) == -ECANCELED) conc_task_uncancel();
    return V(77);
}

static int outer_result;
static void *outer_awaits(void *arg) {
    outer_result = conc_await(conc_task_future(arg), NULL);
    return NULL;
}

static void *swallowed_inner(void *arg) {
    (void)arg;
    conc_task_t *in = conc_task_spawn(NULL, inner_swallows, NULL, NULL);
    conc_task_t *out = conc_task_spawn(NULL, outer_awaits, in, NULL);
    conc_sleep(0);
    conc_sleep(0);
    conc_task_cancel(out);
    assert_int_equal(conc_await(conc_task_future(out), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(outer_result, -ECANCELED);
    void *v;
    assert_int_equal(conc_future_result(conc_task_future(in), &v), 0);
    assert_int_equal(I(v), 77);
    conc_task_release(in);
    conc_task_release(out);
    return NULL;
}

static void an_awaiter_sees_its_cancellation_even_if_the_inner_task_swallowed_it(void **state) {
    (void)state;
    assert_int_equal(conc_run(swallowed_inner, NULL, NULL), 0);
}

/* ---- cancelling a task awaiting a plain future cancels the future ---- */
static void *await_plain(void *arg) {
    return V(conc_await(arg, NULL));
}

static void *cancel_plain_awaiter(void *arg) {
    (void)arg;
    conc_future_t *f = conc_future_new();
    conc_task_t *t = conc_task_spawn(NULL, await_plain, f, NULL);
    conc_sleep(0);
    conc_task_cancel(t);
    conc_await(conc_task_future(t), NULL);
    conc_task_uncancel();
    assert_true(conc_future_cancelled(f));
    conc_task_release(t);
    conc_future_release(f);
    return NULL;
}

static void cancelling_an_awaiter_of_a_plain_future_cancels_the_future(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_plain_awaiter, NULL, NULL), 0);
}

/* ---- cancel while running: taken at the next suspension ---- */
static void *cancel_self(void *arg) {
    (void)arg;
    assert_true(conc_task_cancel(conc_task_current()));
    /* no suspension yet: nothing happens */
    conc_future_t *done = conc_future_new();
    conc_future_set_result(done, NULL);
    assert_int_equal(conc_await(done, NULL), 0); /* a done future does not suspend */
    conc_future_release(done);
    assert_int_equal(conc_sleep(0), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(conc_sleep(0), 0);
    assert_true(conc_task_cancel(conc_task_current()));
    assert_true(conc_task_cancel(conc_task_current()));
    assert_int_equal(conc_task_cancelling(conc_task_current()), 2);
    assert_int_equal(conc_sleep(0.001), -ECANCELED); /* one -ECANCELED for both requests */
    conc_task_uncancel();
    conc_task_uncancel();
    assert_int_equal(conc_sleep(0.001), 0);
    return V(1);
}

static void a_running_task_is_cancelled_at_its_next_suspension(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(cancel_self, NULL, &res), 0);
    assert_int_equal(I(res), 1);
}

/* ---- awaiting a cancelled future propagates, as an uncaught CancelledError ---- */
static void *await_cancelled_future(void *arg) {
    (void)arg;
    conc_future_t *f = conc_future_new();
    conc_future_cancel(f);
    int r = conc_await(f, NULL);
    conc_future_release(f);
    assert_int_equal(r, -ECANCELED);
    return V(1);
}

static void *check_propagation(void *arg) {
    (void)arg;
    conc_task_t *t = conc_task_spawn(NULL, await_cancelled_future, NULL, NULL);
    assert_int_equal(conc_await(conc_task_future(t), NULL), -ECANCELED);
    conc_task_uncancel();
    conc_task_release(t);
    return NULL;
}

static void awaiting_a_cancelled_future_ends_the_task_cancelled(void **state) {
    (void)state;
    assert_int_equal(conc_run(check_propagation, NULL, NULL), 0);
}

/* ---- cancel from another thread ---- */
struct xc {
    conc_task_t *t;
    uint32_t go;
};

static void *canceller(void *arg) {
    struct xc *x = arg;
    while (!__atomic_load_n(&x->go, __ATOMIC_ACQUIRE)) conc__wait(&x->go, 0, INFINITY, false);
    conc_task_cancel(x->t);
    return NULL;
}

static void *cross_cancel(void *arg) {
    (void)arg;
    struct xc x = {NULL, 0};
    x.t = conc_task_spawn(NULL, sleep_then_return_value, NULL, NULL);
    pthread_t th;
    pthread_create(&th, NULL, canceller, &x);
    conc_sleep(0);
    __atomic_store_n(&x.go, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&x.go, 1, false);
    double t0 = conc_monotonic();
    assert_int_equal(conc_await(conc_task_future(x.t), NULL), -ECANCELED);
    assert_true(conc_monotonic() - t0 < 10);
    conc_task_uncancel();
    pthread_join(th, NULL);
    conc_task_release(x.t);
    return NULL;
}

static void cancel_from_another_thread(void **state) {
    (void)state;
    assert_int_equal(conc_run(cross_cancel, NULL, NULL), 0);
}

/* ---- the main task cancelled: conc_run returns -ECANCELED ---- */
static void *main_cancels_itself(void *arg) {
    (void)arg;
    conc_task_cancel(conc_task_current());
    conc_sleep(0);
    return V(1);
}

static void a_cancelled_main_makes_run_return_ecanceled(void **state) {
    (void)state;
    void *res = V(9);
    assert_int_equal(conc_run(main_cancels_itself, NULL, &res), -ECANCELED);
    assert_null(res);
}

CONC_TEST_MAIN(
    cmocka_unit_test(an_ignored_cancellation_still_ends_the_task_cancelled),
    cmocka_unit_test(uncancel_lets_the_task_go_on),
    cmocka_unit_test(a_task_cancelled_before_it_ran_never_runs),
    cmocka_unit_test(cancelling_an_awaiter_cancels_the_awaited_task_and_waits_for_it),
    cmocka_unit_test(an_awaiter_sees_its_cancellation_even_if_the_inner_task_swallowed_it),
    cmocka_unit_test(cancelling_an_awaiter_of_a_plain_future_cancels_the_future),
    cmocka_unit_test(a_running_task_is_cancelled_at_its_next_suspension),
    cmocka_unit_test(awaiting_a_cancelled_future_ends_the_task_cancelled),
    cmocka_unit_test(cancel_from_another_thread),
    cmocka_unit_test(a_cancelled_main_makes_run_return_ecanceled))
