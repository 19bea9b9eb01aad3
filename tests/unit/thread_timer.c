/* threading.Timer: fires once after the delay unless cancelled first. */
#include "conc.h"
#include "test.h"
#include "thread_gate.h"

struct shot {
    uint32_t fired; /* gate */
    int count;
    double at;
    bool in_timer_thread;
};

static void fire(void *arg) {
    struct shot *s = arg;
    s->at = conc_monotonic();
    s->in_timer_thread = conc_thread_current() != conc_thread_main();
    __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
    gate_open(&s->fired);
}

static void fires_once_after_the_delay(void **state) {
    (void)state;
    struct shot s = {0};
    conc_timer_t *tm;
    double t0 = conc_monotonic();
    assert_int_equal(conc_timer_start(&tm, 0.2, fire, &s), 0);
    /* its thread - unless a loaded machine already ran it out (counted in that order) */
    size_t active = conc_thread_active_count();
    assert_true(active == 2 || __atomic_load_n(&s.count, __ATOMIC_RELAXED) == 1);
    assert_int_equal(gate_wait(&s.fired, 10), 0);
    assert_true(s.at - t0 >= 0.2);
    assert_true(s.at - t0 < 5);
    assert_true(s.in_timer_thread);
    assert_int_equal(conc_timer_join(tm, 10), 0);
    assert_int_equal(__atomic_load_n(&s.count, __ATOMIC_RELAXED), 1);
    assert_int_equal(conc_timer_cancel(tm), -EALREADY); /* too late: harmless, and said so */
    conc_timer_release(tm);
    assert_int_equal(conc_thread_active_count(), 1);
}

static void cancelled_timer_never_fires(void **state) {
    (void)state;
    struct shot s = {0};
    conc_timer_t *tm;
    assert_int_equal(conc_timer_start(&tm, 0.3, fire, &s), 0);
    assert_int_equal(conc_timer_cancel(tm), 0);
    assert_int_equal(conc_timer_cancel(tm), 0); /* twice is fine */
    /* Its thread ends at once rather than sleeping out the delay; and fn has not run. */
    double t0 = conc_monotonic();
    assert_int_equal(conc_timer_join(tm, 10), 0);
    assert_true(conc_monotonic() - t0 < 5);
    assert_int_equal(s.count, 0);
    assert_false(gate_is_open(&s.fired));
    conc_timer_release(tm);

    /* A long one: cancelled, so the exit-time join does not wait for it either. */
    assert_int_equal(conc_timer_start(&tm, 3600, fire, &s), 0);
    assert_int_equal(conc_timer_cancel(tm), 0);
    conc_timer_release(tm);
    assert_int_equal(conc_shutdown(), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(conc_thread_active_count(), 1);
}

static void released_timer_still_fires(void **state) {
    (void)state;
    struct shot s = {0};
    conc_timer_t *tm;
    assert_int_equal(conc_timer_start(&tm, 0.05, fire, &s), 0);
    conc_timer_release(tm);
    assert_int_equal(gate_wait(&s.fired, 10), 0);
    assert_int_equal(conc_shutdown(), 0); /* the timer thread is non-daemon: joined here */
    assert_int_equal(s.count, 1);
}

static void zero_and_negative_delays_fire_at_once(void **state) {
    (void)state;
    struct shot a = {0}, b = {0};
    conc_timer_t *ta, *tb;
    assert_int_equal(conc_timer_start(&ta, 0, fire, &a), 0);
    assert_int_equal(conc_timer_start(&tb, -1, fire, &b), 0);
    assert_int_equal(gate_wait(&a.fired, 10), 0);
    assert_int_equal(gate_wait(&b.fired, 10), 0);
    assert_int_equal(conc_timer_join(ta, 10), 0);
    assert_int_equal(conc_timer_join(tb, 10), 0);
    conc_timer_release(ta);
    conc_timer_release(tb);
}

static void bad_arguments(void **state) {
    (void)state;
    conc_timer_t *tm;
    struct shot s = {0};
    assert_int_equal(conc_timer_start(&tm, 1, NULL, NULL), -EINVAL);
    assert_int_equal(conc_timer_start(NULL, 1, fire, &s), -EINVAL);
    assert_int_equal(conc_timer_start(&tm, NAN, fire, &s), -EINVAL);
    assert_int_equal(conc_timer_cancel(NULL), -EINVAL);
    conc_timer_release(NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(fires_once_after_the_delay),
               cmocka_unit_test(cancelled_timer_never_fires),
               cmocka_unit_test(released_timer_still_fires),
               cmocka_unit_test(zero_and_negative_delays_fire_at_once),
               cmocka_unit_test(bad_arguments))
