/* Timers: order, never early, cancellation, a heap that does not grow with cancelled timers, and
 * a self-rescheduling callback that cannot starve them. */
#include <math.h>
#include <stdlib.h>
#include "conc.h"
#include "internal/loop.h"
#include "test.h"

struct timed {
    conc_loop_t *loop;
    double when; /* due time */
    double ran;  /* conc_loop_time() inside the callback */
    int *order, *n, id;
};

static void fire(void *arg) {
    struct timed *t = arg;
    t->ran = conc_loop_time(t->loop);
    t->order[(*t->n)++] = t->id;
}

static void stop_loop(void *arg) {
    conc_loop_stop(arg);
}

static void timers_fire_in_deadline_order_never_early(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    double delays[] = {0.05, 0.01, 0.03, 0.0, 0.02, 0.04, -1.0};
    int expect[] = {6, 3, 1, 4, 2, 5, 0};
    enum { N = 7 };
    struct timed t[N];
    int order[N], n = 0;
    double now = conc_loop_time(loop);
    for (int i = 0; i < N; i++) {
        t[i] = (struct timed){loop, now + delays[i], -1, order, &n, i};
        assert_non_null(conc_call_at(loop, t[i].when, fire, &t[i]));
    }
    conc_call_at(loop, now + 0.06, stop_loop, loop);
    double t0 = conc_monotonic();
    assert_int_equal(conc_loop_run(loop), 0);
    assert_true(conc_monotonic() - t0 < 10);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(order[i], expect[i]);
        assert_true(t[i].ran >= t[i].when); /* never early */
    }
    conc_loop_free(loop);
}

static void call_later_is_never_early(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    enum { N = 5 };
    struct timed t[N];
    int order[N], n = 0;
    for (int i = 0; i < N; i++) {
        double delay = 0.003 * (i + 1);
        t[i] = (struct timed){loop, conc_monotonic() + delay, -1, order, &n, i};
        assert_non_null(conc_call_later(loop, delay, fire, &t[i]));
    }
    conc_call_later(loop, 0.05, stop_loop, loop);
    conc_loop_run(loop);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(order[i], i);
        assert_true(t[i].ran >= t[i].when); /* due >= the time read before the call */
    }
    conc_loop_free(loop);
}

static void equal_deadlines_fire_in_call_order(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    enum { N = 40 };
    struct timed t[N];
    int order[N], n = 0;
    double when = conc_loop_time(loop) + 0.01;
    for (int i = 0; i < N; i++) {
        t[i] = (struct timed){loop, when, -1, order, &n, i};
        conc_call_at(loop, when, fire, &t[i]);
    }
    conc_call_at(loop, when, stop_loop, loop);
    conc_loop_run(loop);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) assert_int_equal(order[i], i);
    conc_loop_free(loop);
}

static void cancelled_timer_does_not_run(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    struct timed a, b, c;
    int order[3], n = 0;
    double now = conc_loop_time(loop);
    a = (struct timed){loop, now + 0.01, -1, order, &n, 1};
    b = (struct timed){loop, now + 0.02, -1, order, &n, 2};
    c = (struct timed){loop, now + 0.03, -1, order, &n, 3};
    conc_call_at(loop, a.when, fire, &a);
    conc_handle_t *hb = conc_call_at(loop, b.when, fire, &b);
    conc_handle_t *hc = conc_call_at(loop, c.when, fire, &c);
    conc_handle_cancel(hb);
    conc_call_at(loop, now + 0.04, stop_loop, loop);
    conc_handle_cancel(hc);
    conc_loop_run(loop);
    assert_int_equal(n, 1);
    assert_int_equal(order[0], 1);
    assert_int_equal(conc__loop_timer_count(loop, NULL), 0);
    conc_loop_free(loop);
}

static int never;
static void must_not_run(void *arg) {
    (void)arg;
    never++;
}

/* Arming and cancelling timeouts in a loop keeps the heap at most about twice its live timers. */
static void arm_and_cancel(conc_loop_t *loop, int rounds, size_t *max_n, size_t *max_cap) {
    for (int i = 0; i < rounds; i++) {
        conc_handle_t *h = conc_call_later(loop, 1000 + i, must_not_run, NULL);
        assert_non_null(h);
        conc_handle_cancel(h);
        size_t cap, n = conc__loop_timer_count(loop, &cap);
        if (n > *max_n) *max_n = n;
        if (cap > *max_cap) *max_cap = cap;
    }
}

struct churn {
    conc_loop_t *loop;
    size_t max_n, max_cap;
};

static void churn_in_callback(void *arg) {
    struct churn *c = arg;
    arm_and_cancel(c->loop, 100000, &c->max_n, &c->max_cap);
    conc_loop_stop(c->loop);
}

static void cancelled_timers_do_not_grow_the_heap(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    /* some live timers among the cancelled ones */
    for (int i = 0; i < 50; i++) conc_call_later(loop, 3600, must_not_run, NULL);
    size_t max_n = 0, max_cap = 0;
    arm_and_cancel(loop, 100000, &max_n, &max_cap);
    assert_true(max_n <= 2 * 50 + 2);
    assert_true(max_cap <= 4 * 64);
    /* and from inside a callback, in one iteration */
    struct churn c = {loop, 0, 0};
    conc_call_soon(loop, churn_in_callback, &c);
    conc_loop_run(loop);
    assert_true(c.max_n <= 2 * 50 + 2);
    assert_true(c.max_cap <= 4 * 64);
    assert_int_equal(never, 0);
    conc_loop_free(loop);
}

/* The snapshot rule: a callback that re-schedules itself forever still lets a timer fire. */
struct spinner {
    conc_loop_t *loop;
    long spins;
};
static void spin(void *arg) {
    struct spinner *s = arg;
    s->spins++;
    conc_call_soon(s->loop, spin, s);
}

static void self_rescheduling_callback_does_not_starve_timers(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    struct spinner s = {loop, 0};
    conc_call_soon(loop, spin, &s);
    double t0 = conc_monotonic();
    conc_call_later(loop, 0.05, stop_loop, loop);
    assert_int_equal(conc_loop_run(loop), 0); /* a hang here is the failure (ctest timeout) */
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.05);
    assert_true(took < 10);
    assert_true(s.spins > 1);
    conc_loop_free(loop); /* the pending spin is dropped */
}

struct chain {
    conc_loop_t *loop;
    int left;
};
static void timer_chain(void *arg) {
    struct chain *c = arg;
    if (--c->left == 0)
        conc_loop_stop(c->loop);
    else
        assert_non_null(conc_call_later(c->loop, 0, timer_chain, c));
}

static void timer_scheduled_from_a_timer_runs(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    struct chain c = {loop, 1000};
    conc_call_later(loop, 0, timer_chain, &c);
    conc_loop_run(loop);
    assert_int_equal(c.left, 0);
    conc_loop_free(loop);
}

CONC_TEST_MAIN(cmocka_unit_test(timers_fire_in_deadline_order_never_early),
               cmocka_unit_test(call_later_is_never_early),
               cmocka_unit_test(equal_deadlines_fire_in_call_order),
               cmocka_unit_test(cancelled_timer_does_not_run),
               cmocka_unit_test(cancelled_timers_do_not_grow_the_heap),
               cmocka_unit_test(self_rescheduling_callback_does_not_starve_timers),
               cmocka_unit_test(timer_scheduled_from_a_timer_runs))
