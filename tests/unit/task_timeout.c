/* Timeout scopes (asyncio.timeout): expiry cancels the task, exit turns the scope's own
 * cancellation into -ETIMEDOUT and absorbs it; other cancellations propagate; nesting, reschedule,
 * and the one-call helper. */
#include <math.h>
#include <stdint.h>
#include "conc.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static void *expires(void *arg) {
    (void)arg;
    conc_timeout_t to;
    double t0 = conc_monotonic();
    assert_int_equal(conc_timeout_enter(&to, 0.05), 0);
    assert_true(fabs(conc_timeout_when(&to) - (t0 + 0.05)) < 0.5);
    int r = conc_sleep(3600);
    assert_int_equal(r, -ECANCELED);
    assert_true(conc_timeout_expired(&to));
    assert_int_equal(conc_timeout_exit(&to), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 >= 0.05);
    /* absorbed: the task goes on and ends normally */
    assert_int_equal(conc_task_cancelling(conc_task_current()), 0);
    assert_int_equal(conc_sleep(0.001), 0);
    /* a scope that does not expire */
    assert_int_equal(conc_timeout_enter(&to, 10), 0);
    assert_int_equal(conc_sleep(0.001), 0);
    assert_int_equal(conc_timeout_exit(&to), 0);
    assert_false(conc_timeout_expired(&to));
    assert_int_equal(conc_timeout_exit(&to), -EINVAL); /* once */
    /* no deadline, then one */
    assert_int_equal(conc_timeout_enter(&to, -1), 0);
    assert_true(isinf(conc_timeout_when(&to)));
    assert_int_equal(conc_timeout_reschedule(&to, conc_monotonic() + 0.01), 0);
    assert_int_equal(conc_sleep(3600), -ECANCELED);
    assert_int_equal(conc_timeout_exit(&to), -ETIMEDOUT);
    return V(1);
}

static void an_expired_scope_reports_etimedout_and_absorbs_its_cancellation(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(expires, NULL, &res), 0);
    assert_int_equal(I(res), 1);
}

static void *reschedule_later(void *arg) {
    (void)arg;
    conc_timeout_t to;
    conc_timeout_enter(&to, 0.01);
    assert_int_equal(conc_timeout_reschedule(&to, conc_monotonic() + 3600), 0);
    assert_int_equal(conc_sleep(0.05), 0); /* the old deadline is gone */
    assert_int_equal(conc_timeout_exit(&to), 0);
    return NULL;
}

static void reschedule_moves_the_deadline(void **state) {
    (void)state;
    assert_int_equal(conc_run(reschedule_later, NULL, NULL), 0);
}

/* An outside cancellation inside a scope propagates: exit returns -ECANCELED and the task ends
 * cancelled. Also when the scope expired at the same time. */
static int exit_result;
static bool expired_too;
static void *scoped_sleeper(void *arg) {
    double delay = *(double *)arg;
    conc_timeout_t to;
    conc_timeout_enter(&to, delay);
    conc_sleep(3600);
    exit_result = conc_timeout_exit(&to);
    return V(1);
}

static void *scoped_sleeper_at(void *arg) {
    conc_timeout_t to;
    conc_timeout_enter_at(&to, *(double *)arg);
    conc_sleep(3600);
    expired_too = conc_timeout_expired(&to);
    exit_result = conc_timeout_exit(&to);
    return V(1);
}

static void cancel_cb(void *arg) {
    conc_task_cancel(arg);
}

static void *cancel_scoped(void *arg) {
    (void)arg;
    double delay = 3600;
    conc_task_t *t = conc_task_spawn(NULL, scoped_sleeper, &delay, NULL);
    conc_sleep(0.005);
    conc_task_cancel(t);
    assert_int_equal(conc_await(conc_task_future(t), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(exit_result, -ECANCELED);
    conc_task_release(t);
    /* expiry and an outside cancel in the same iteration, before the task resumes (two timers
     * due at the same instant run in the same iteration, whatever the machine's load): the
     * outside one still propagates */
    double when = conc_monotonic() + 0.02;
    t = conc_task_spawn(NULL, scoped_sleeper_at, &when, NULL);
    conc_sleep(0); /* t has entered its scope: its timer is armed before ours */
    assert_non_null(conc_call_at(conc_loop_current(), when, cancel_cb, t));
    assert_int_equal(conc_await(conc_task_future(t), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_true(expired_too);
    assert_int_equal(exit_result, -ECANCELED);
    conc_task_release(t);
    return NULL;
}

static void an_outside_cancellation_propagates_through_a_scope(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_scoped, NULL, NULL), 0);
}

static void *nested(void *arg) {
    (void)arg;
    conc_timeout_t outer, inner;
    /* the inner one expires: inner -ETIMEDOUT, outer 0 */
    conc_timeout_enter(&outer, 10);
    conc_timeout_enter(&inner, 0.01);
    assert_int_equal(conc_sleep(3600), -ECANCELED);
    assert_int_equal(conc_timeout_exit(&inner), -ETIMEDOUT);
    assert_int_equal(conc_sleep(0.001), 0);
    assert_int_equal(conc_timeout_exit(&outer), 0);
    /* the outer one expires inside the inner: the inner propagates, the outer absorbs */
    conc_timeout_enter(&outer, 0.01);
    conc_timeout_enter(&inner, 10);
    assert_int_equal(conc_sleep(3600), -ECANCELED);
    assert_int_equal(conc_timeout_exit(&inner), -ECANCELED);
    assert_int_equal(conc_timeout_exit(&outer), -ETIMEDOUT);
    assert_int_equal(conc_sleep(0.001), 0);
    return V(1);
}

static void nested_scopes_each_own_their_expiry(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(nested, NULL, &res), 0);
    assert_int_equal(I(res), 1);
}

static int slow_op(void *arg) {
    return conc_sleep(*(double *)arg);
}

static void *call_helper(void *arg) {
    (void)arg;
    double fast = 0.001, slow = 3600;
    assert_int_equal(conc_timeout_call(5, slow_op, &fast), 0);
    assert_int_equal(conc_timeout_call(0.01, slow_op, &slow), -ETIMEDOUT);
    assert_int_equal(conc_sleep(0), 0);
    return V(1);
}

static void timeout_call_wraps_one_call(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(call_helper, NULL, &res), 0);
    assert_int_equal(I(res), 1);
    conc_timeout_t to;
    assert_int_equal(conc_timeout_enter(&to, 1), -EPERM);
}

/* A scope never exited (the task returned inside it) does not fire into a dead stack. */
static void *forgets_exit(void *arg) {
    (void)arg;
    conc_timeout_t to;
    conc_timeout_enter(&to, 0.01);
    return NULL;
}

static void *leak_scope(void *arg) {
    (void)arg;
    conc_task_t *t = conc_task_spawn(NULL, forgets_exit, NULL, NULL);
    conc_await(conc_task_future(t), NULL);
    conc_task_release(t);
    assert_int_equal(conc_sleep(0.03), 0);
    return NULL;
}

static void a_scope_left_open_is_closed_with_its_task(void **state) {
    (void)state;
    assert_int_equal(conc_run(leak_scope, NULL, NULL), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(an_expired_scope_reports_etimedout_and_absorbs_its_cancellation),
               cmocka_unit_test(reschedule_moves_the_deadline),
               cmocka_unit_test(an_outside_cancellation_propagates_through_a_scope),
               cmocka_unit_test(nested_scopes_each_own_their_expiry),
               cmocka_unit_test(timeout_call_wraps_one_call),
               cmocka_unit_test(a_scope_left_open_is_closed_with_its_task))
