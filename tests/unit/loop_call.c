/* call_soon: FIFO order, the one-iteration snapshot, cancellation, stop, conc_loop_current, -EBUSY
 * for nested runs, and freeing a loop with callbacks still pending. */
#include <math.h>
#include <stdlib.h>
#include "conc.h"
#include "test.h"

struct log {
    conc_loop_t *loop;
    int order[64];
    int n;
};

struct item {
    struct log *log;
    int id;
};

static void note(void *arg) {
    struct item *it = arg;
    it->log->order[it->log->n++] = it->id;
}

static void stop_loop(void *arg) {
    conc_loop_stop(arg);
}

static void callbacks_run_in_fifo_order(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    assert_non_null(loop);
    struct log log = {loop, {0}, 0};
    struct item it[20];
    for (int i = 0; i < 20; i++) {
        it[i] = (struct item){&log, i};
        assert_non_null(conc_call_soon(loop, note, &it[i]));
    }
    conc_call_soon(loop, stop_loop, loop);
    assert_int_equal(conc_loop_run(loop), 0);
    assert_int_equal(log.n, 20);
    for (int i = 0; i < 20; i++) assert_int_equal(log.order[i], i);
    conc_loop_free(loop);
}

/* Each callback records the iteration it ran in (counted by a callback that re-schedules itself):
 * one scheduled from a callback runs in the next iteration, never the current one. */
struct iter {
    conc_loop_t *loop;
    int iteration;
    int child_ran_in;
    int parent_ran_in;
};

static void ticker(void *arg) {
    struct iter *s = arg;
    s->iteration++;
    if (s->iteration < 10)
        conc_call_soon(s->loop, ticker, s);
    else
        conc_loop_stop(s->loop);
}

static void child(void *arg) {
    struct iter *s = arg;
    s->child_ran_in = s->iteration;
}

static void parent(void *arg) {
    struct iter *s = arg;
    s->parent_ran_in = s->iteration;
    conc_call_soon(s->loop, child, s);
}

static void call_soon_from_a_callback_runs_next_iteration(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    struct iter s = {loop, 0, -1, -1};
    conc_call_soon(loop, ticker, &s); /* runs first in each iteration: it counts them */
    conc_call_soon(loop, parent, &s);
    assert_int_equal(conc_loop_run(loop), 0);
    assert_int_equal(s.parent_ran_in, 1);
    assert_int_equal(s.child_ran_in, 2);
    conc_loop_free(loop);
}

static void cancelled_call_soon_does_not_run(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    struct log log = {loop, {0}, 0};
    struct item a = {&log, 1}, b = {&log, 2}, c = {&log, 3};
    conc_call_soon(loop, note, &a);
    conc_handle_t *hb = conc_call_soon(loop, note, &b);
    conc_call_soon(loop, note, &c);
    conc_handle_cancel(hb);
    conc_call_soon(loop, stop_loop, loop);
    conc_loop_run(loop);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.order[0], 1);
    assert_int_equal(log.order[1], 3);
    conc_loop_free(loop);
}

/* A callback cancels one scheduled after it in the same iteration, and itself (a no-op). */
struct canceller {
    conc_handle_t *victim, *self;
};
static void cancel_victim(void *arg) {
    struct canceller *c = arg;
    conc_handle_cancel(c->victim);
    conc_handle_cancel(c->self);
}

static void cancel_from_a_callback_in_the_same_iteration(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    struct log log = {loop, {0}, 0};
    struct item v = {&log, 1}, w = {&log, 2};
    struct canceller c;
    c.self = conc_call_soon(loop, cancel_victim, &c);
    c.victim = conc_call_soon(loop, note, &v);
    conc_call_soon(loop, note, &w);
    conc_call_soon(loop, stop_loop, loop);
    conc_loop_run(loop);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.order[0], 2);
    conc_loop_free(loop);
}

static conc_loop_t *seen_current;
static int nested_rc, nested_other_rc, nested_until_rc;
static void check_current(void *arg) {
    seen_current = conc_loop_current();
    nested_rc = conc_loop_run(arg);
    conc_loop_t *other = conc_loop_new();
    nested_other_rc = conc_loop_run(other);
    conc_future_t *f = conc_future_new();
    nested_until_rc = conc_loop_run_until_complete(other, f);
    conc_future_release(f);
    conc_loop_free(other);
    conc_loop_stop(arg);
}

static void current_loop_and_nested_run_is_ebusy(void **state) {
    (void)state;
    assert_null(conc_loop_current());
    conc_loop_t *loop = conc_loop_new();
    conc_call_soon(loop, check_current, loop);
    assert_int_equal(conc_loop_run(loop), 0);
    assert_ptr_equal(seen_current, loop);
    assert_int_equal(nested_rc, -EBUSY);
    assert_int_equal(nested_other_rc, -EBUSY);
    assert_int_equal(nested_until_rc, -EBUSY);
    assert_null(conc_loop_current());
    /* and the loop can run again */
    conc_call_soon(loop, stop_loop, loop);
    assert_int_equal(conc_loop_run(loop), 0);
    conc_loop_free(loop);
}

static int stopper_ran, after_stop_ran;
static void stop_then_more(void *arg) {
    stopper_ran++;
    conc_loop_stop(arg);
}
static void after_stop(void *arg) {
    (void)arg;
    after_stop_ran++;
}
static void reschedule_after(void *arg) {
    conc_call_soon(arg, after_stop, NULL);
}

static void stop_finishes_the_iteration_and_keeps_the_rest(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    conc_call_soon(loop, stop_then_more, loop);
    conc_call_soon(loop, after_stop, NULL);       /* same iteration: runs */
    conc_call_soon(loop, reschedule_after, loop); /* schedules one for the next run */
    assert_int_equal(conc_loop_run(loop), 0);
    assert_int_equal(stopper_ran, 1);
    assert_int_equal(after_stop_ran, 1);
    /* stop before run: one iteration, which runs what was ready */
    conc_loop_stop(loop);
    assert_int_equal(conc_loop_run(loop), 0);
    assert_int_equal(after_stop_ran, 2);
    conc_loop_free(loop);
}

static int never;
static void must_not_run(void *arg) {
    (void)arg;
    never++;
}

static void free_drops_pending_callbacks_unrun(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    for (int i = 0; i < 100; i++) conc_call_soon(loop, must_not_run, NULL);
    for (int i = 0; i < 100; i++) conc_call_later(loop, i % 2 ? 0 : 100, must_not_run, NULL);
    for (int i = 0; i < 10; i++) conc_call_soon_threadsafe(loop, must_not_run, NULL);
    conc_handle_cancel(conc_call_later(loop, 5, must_not_run, NULL));
    conc_loop_free(loop); /* ASan: nothing leaks */
    assert_int_equal(never, 0);
    conc_loop_free(NULL);
}

static void invalid_arguments(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    errno = 0;
    assert_null(conc_call_soon(loop, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    assert_null(conc_call_soon(NULL, must_not_run, NULL));
    assert_null(conc_call_soon_threadsafe(NULL, must_not_run, NULL));
    assert_null(conc_call_later(loop, NAN, must_not_run, NULL));
    assert_null(conc_call_at(loop, NAN, must_not_run, NULL));
    assert_int_equal(conc_loop_run(NULL), -EINVAL);
    assert_int_equal(conc_loop_run_until_complete(loop, NULL), -EINVAL);
    conc_handle_cancel(NULL);
    conc_loop_stop(NULL);
    conc_loop_free(loop);
}

static void loop_time_is_the_monotonic_clock(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    double a = conc_monotonic(), t = conc_loop_time(loop), b = conc_monotonic();
    assert_true(a <= t && t <= b);
    conc_loop_free(loop);
}

CONC_TEST_MAIN(cmocka_unit_test(callbacks_run_in_fifo_order),
               cmocka_unit_test(call_soon_from_a_callback_runs_next_iteration),
               cmocka_unit_test(cancelled_call_soon_does_not_run),
               cmocka_unit_test(cancel_from_a_callback_in_the_same_iteration),
               cmocka_unit_test(current_loop_and_nested_run_is_ebusy),
               cmocka_unit_test(stop_finishes_the_iteration_and_keeps_the_rest),
               cmocka_unit_test(free_drops_pending_callbacks_unrun),
               cmocka_unit_test(invalid_arguments),
               cmocka_unit_test(loop_time_is_the_monotonic_clock))
