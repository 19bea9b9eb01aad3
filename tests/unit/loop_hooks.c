/* The internal hooks other modules hang on a loop: on-free hooks (run first, most recent first,
 * with the loop still usable - even runnable), per-module slots, and freeing a running loop being
 * refused rather than crashing. */
#include <stdlib.h>
#include "conc.h"
#include "internal/loop.h"
#include "test.h"

struct trace {
    int order[8];
    int n;
    int ran_in_hook;
    int dropped;
};

static void stop_loop(void *arg) {
    conc_loop_stop(arg);
}

static void ran(void *arg) {
    ((struct trace *)arg)->ran_in_hook++;
}

static void dropped(void *arg) {
    ((struct trace *)arg)->dropped++;
}

static struct trace *tr;

static void hook_a(conc_loop_t *loop, void *arg) {
    (void)loop;
    tr->order[tr->n++] = (int)(intptr_t)arg;
}

/* What conc_run does with leftover tasks: schedule their cancellation and let the loop run it. */
static void hook_runs_the_loop(conc_loop_t *loop, void *arg) {
    tr->order[tr->n++] = (int)(intptr_t)arg;
    conc_call_soon(loop, ran, tr);
    conc_call_soon(loop, stop_loop, loop);
    assert_int_equal(conc_loop_run(loop), 0);
    /* scheduled now, never run: freed with the loop */
    conc_call_soon(loop, dropped, tr);
    conc_call_later(loop, 10, dropped, tr);
}

static void on_free_hooks_run_first_most_recent_first(void **state) {
    (void)state;
    struct trace t = {0};
    tr = &t;
    conc_loop_t *loop = conc_loop_new();
    assert_int_equal(conc__loop_on_free(loop, hook_a, (void *)1), 0);
    assert_int_equal(conc__loop_on_free(loop, hook_runs_the_loop, (void *)2), 0);
    assert_int_equal(conc__loop_on_free(loop, hook_a, (void *)3), 0);
    conc_call_soon(loop, dropped, &t);
    conc_loop_free(loop);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.order[0], 3);
    assert_int_equal(t.order[1], 2);
    assert_int_equal(t.order[2], 1);
    assert_int_equal(t.ran_in_hook, 1);
    assert_int_equal(t.dropped, 1); /* the callback pending before free ran in the hook's run */
}

static void slots_start_null_and_keep_a_pointer(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    assert_null(*conc__loop_slot(loop, CONC__LOOP_SLOT_TASK));
    assert_null(*conc__loop_slot(loop, CONC__LOOP_SLOT_IO));
    int x;
    *conc__loop_slot(loop, CONC__LOOP_SLOT_TASK) = &x;
    assert_ptr_equal(*conc__loop_slot(loop, CONC__LOOP_SLOT_TASK), &x);
    assert_null(*conc__loop_slot(loop, CONC__LOOP_SLOT_IO));
    conc_loop_free(loop);
}

static void try_free(void *arg) {
    conc_loop_free(arg); /* running: refused */
    conc_loop_stop(arg);
}

static void freeing_a_running_loop_is_refused(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    conc_call_soon(loop, try_free, loop);
    assert_int_equal(conc_loop_run(loop), 0);
    conc_loop_free(loop);
}

CONC_TEST_MAIN(cmocka_unit_test(on_free_hooks_run_first_most_recent_first),
               cmocka_unit_test(slots_start_null_and_keep_a_pointer),
               cmocka_unit_test(freeing_a_running_loop_is_refused))
