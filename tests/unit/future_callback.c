/* Done-callbacks: order, exactly once, before and after completion, added or removed from inside
 * a callback, and releasing the future from a callback. */
#include <stdlib.h>
#include "conc.h"
#include "test.h"

struct rec {
    int order[16];
    int n;
    conc_future_t *seen;
};

struct call {
    struct rec *r;
    int id;
};

static void record(conc_future_t *f, void *arg) {
    struct call *c = arg;
    c->r->order[c->r->n++] = c->id;
    c->r->seen = f;
    assert_true(conc_future_done(f)); /* the outcome is visible to callbacks */
}

static void callbacks_run_once_in_order(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    struct rec r = {0};
    struct call c[4] = {{&r, 1}, {&r, 2}, {&r, 3}, {&r, 4}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(conc_future_add_done_callback(f, record, &c[i]), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(conc_future_set_result(f, NULL), 0);
    assert_int_equal(r.n, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(r.order[i], i + 1);
    assert_ptr_equal(r.seen, f);
    /* completing again runs nothing again */
    assert_false(conc_future_cancel(f));
    assert_int_equal(r.n, 4);
    conc_future_release(f);
}

static void callback_added_after_done_runs_at_once(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    struct rec r = {0};
    struct call c = {&r, 7};
    conc_future_set_error(f, -EIO);
    assert_int_equal(conc_future_add_done_callback(f, record, &c), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.order[0], 7);
    conc_future_release(f);
}

struct adder {
    struct rec *r;
    struct call inner;
};

static void add_from_callback(conc_future_t *f, void *arg) {
    struct adder *a = arg;
    a->r->order[a->r->n++] = 100;
    /* the future is done: the new callback runs now, inside this one, exactly once */
    assert_int_equal(conc_future_add_done_callback(f, record, &a->inner), 0);
    assert_int_equal(a->r->order[a->r->n - 1], a->inner.id);
}

static void callback_added_from_a_callback_runs_once(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    struct rec r = {0};
    struct adder a = {&r, {&r, 5}};
    struct call after = {&r, 6};
    conc_future_add_done_callback(f, add_from_callback, &a);
    conc_future_add_done_callback(f, record, &after);
    conc_future_set_result(f, NULL);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[0], 100);
    assert_int_equal(r.order[1], 5);
    assert_int_equal(r.order[2], 6);
    conc_future_release(f);
}

static int released;
static void release_it(conc_future_t *f, void *arg) {
    (void)arg;
    conc_future_release(f);
    released++;
}
static void still_called(conc_future_t *f, void *arg) {
    (void)arg;
    /* an earlier callback dropped the caller's reference: the completer keeps one meanwhile */
    assert_true(conc_future_done(f));
    released++;
}

static void callback_may_release_the_last_reference(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    released = 0;
    conc_future_add_done_callback(f, release_it, NULL);
    conc_future_add_done_callback(f, still_called, NULL);
    conc_future_add_done_callback(f, still_called, NULL);
    assert_int_equal(conc_future_set_result(f, NULL), 0); /* f is gone after this (ASan) */
    assert_int_equal(released, 3);

    /* the same when the callback is added to a done future */
    f = conc_future_new();
    conc_future_cancel(f);
    conc_future_add_done_callback(f, release_it, NULL);
    assert_int_equal(released, 4);
}

static void remove_done_callback_unregisters_every_match(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    struct rec r = {0};
    struct call a = {&r, 1}, b = {&r, 2}, c = {&r, 3};
    conc_future_add_done_callback(f, record, &a);
    conc_future_add_done_callback(f, record, &b);
    conc_future_add_done_callback(f, record, &a);
    conc_future_add_done_callback(f, record, &c);
    assert_int_equal(conc_future_remove_done_callback(f, record, &a), 2);
    assert_int_equal(conc_future_remove_done_callback(f, record, &a), 0);
    /* the inline slot is free again but the order stays FIFO */
    struct call d = {&r, 4};
    conc_future_add_done_callback(f, record, &d);
    conc_future_set_result(f, NULL);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[0], 2);
    assert_int_equal(r.order[1], 3);
    assert_int_equal(r.order[2], 4);
    assert_int_equal(conc_future_remove_done_callback(f, record, &b), 0); /* already ran */
    conc_future_release(f);
}

static void remove_first_then_add_keeps_order(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    struct rec r = {0};
    struct call a = {&r, 1}, b = {&r, 2};
    conc_future_add_done_callback(f, record, &a);
    assert_int_equal(conc_future_remove_done_callback(f, record, &a), 1);
    conc_future_add_done_callback(f, record, &b);
    conc_future_add_done_callback(f, record, &a);
    conc_future_cancel(f);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.order[0], 2);
    assert_int_equal(r.order[1], 1);
    conc_future_release(f);
}

static void pending_callbacks_are_dropped_with_the_future(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    struct rec r = {0};
    struct call c[5] = {{&r, 1}, {&r, 2}, {&r, 3}, {&r, 4}, {&r, 5}};
    for (int i = 0; i < 5; i++) conc_future_add_done_callback(f, record, &c[i]);
    conc_future_release(f); /* never completed: nothing runs, nothing leaks (ASan) */
    assert_int_equal(r.n, 0);
}

CONC_TEST_MAIN(cmocka_unit_test(callbacks_run_once_in_order),
               cmocka_unit_test(callback_added_after_done_runs_at_once),
               cmocka_unit_test(callback_added_from_a_callback_runs_once),
               cmocka_unit_test(callback_may_release_the_last_reference),
               cmocka_unit_test(remove_done_callback_unregisters_every_match),
               cmocka_unit_test(remove_first_then_add_keeps_order),
               cmocka_unit_test(pending_callbacks_are_dropped_with_the_future))
