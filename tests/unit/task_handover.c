/* Tasks handing the CPU straight to each other (task/park.c, conc__loop_peek): a parking task may
 * run the next task step and even start the next loop iteration from its own stack. None of that
 * may show: iterations still run in order and only what was ready when they began, and tasks
 * that yield forever starve neither plain callbacks, I/O, timers, thread-safe calls nor a stop. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "internal/loop.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

/* ---- tasks and a callback chain interleave one step per iteration ---- */
static char trace[256];
static int ntrace;
static int chain_left;

static void chain(void *arg) {
    trace[ntrace++] = 'c';
    if (--chain_left > 0) conc_call_soon(arg, chain, arg);
}

static void *tracer(void *arg) {
    for (int i = 0; i < 20; i++) {
        trace[ntrace++] = (char)I(arg);
        assert_int_equal(conc_sleep(0), 0);
    }
    return NULL;
}

static void *tasks_and_chain(void *arg) {
    (void)arg;
    conc_task_t *a = conc_task_spawn(NULL, tracer, V('a'), NULL);
    conc_task_t *b = conc_task_spawn(NULL, tracer, V('b'), NULL);
    chain_left = 20;
    conc_call_soon(conc_loop_current(), chain, conc_loop_current());
    conc_await(conc_task_future(a), NULL);
    conc_await(conc_task_future(b), NULL);
    conc_task_release(a);
    conc_task_release(b);
    return NULL;
}

static void tasks_and_callbacks_keep_iteration_order(void **state) {
    (void)state;
    ntrace = 0;
    assert_int_equal(conc_run(tasks_and_chain, NULL, NULL), 0);
    assert_int_equal(ntrace, 60);
    for (int i = 0; i < 60; i += 3) assert_memory_equal(trace + i, "abc", 3);
}

/* ---- a lone task yielding: each yield is one iteration, other callbacks run in between ---- */
static int ticks;
static void tick(void *arg) {
    ticks++;
    if (ticks < 1000) conc_call_soon(arg, tick, arg);
}

static void *lone_yielder(void *arg) {
    (void)arg;
    conc_call_soon(conc_loop_current(), tick, conc_loop_current());
    for (int i = 0; i < 500; i++) {
        assert_int_equal(ticks, i);
        assert_int_equal(conc_sleep(0), 0);
    }
    return NULL;
}

static void a_lone_task_yields_once_per_iteration(void **state) {
    (void)state;
    ticks = 0;
    assert_int_equal(conc_run(lone_yielder, NULL, NULL), 0);
}

/* ---- yielding forever starves nothing ---- */
static volatile int seen; /* set by what must get through; the yielders stop then */
static long yields;

static void *yield_until_seen(void *arg) {
    (void)arg;
    double end = conc_monotonic() + 20;
    while (!seen && conc_monotonic() < end) {
        assert_int_equal(conc_sleep(0), 0);
        yields++;
    }
    return NULL;
}

static void run_two_yielders(void) {
    conc_task_t *a = conc_task_spawn(NULL, yield_until_seen, NULL, NULL);
    conc_task_t *b = conc_task_spawn(NULL, yield_until_seen, NULL, NULL);
    conc_await(conc_task_future(a), NULL);
    conc_await(conc_task_future(b), NULL);
    conc_task_release(a);
    conc_task_release(b);
}

static void on_readable(void *arg, int fd, unsigned events) {
    (void)arg;
    (void)fd;
    if (events & CONC__IO_READ) seen = 1;
}

static void *io_while_yielding(void *arg) {
    int *p = arg;
    conc_loop_t *loop = conc_loop_current();
    assert_int_equal(conc__loop_watch(loop, p[0], CONC__IO_READ, on_readable, NULL), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    run_two_yielders();
    assert_int_equal(conc__loop_unwatch(loop, p[0]), 0);
    return NULL;
}

static void yielding_tasks_do_not_starve_io(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    seen = 0;
    yields = 0;
    assert_int_equal(conc_run(io_while_yielding, p, NULL), 0);
    assert_true(seen);
    assert_true(yields < 1000); /* polled every 64 callbacks, not after 20 s */
    close(p[0]);
    close(p[1]);
}

static void set_seen(void *arg) {
    (void)arg;
    seen = 1;
}

static void *timer_while_yielding(void *arg) {
    (void)arg;
    conc_call_later(conc_loop_current(), 0.005, set_seen, NULL);
    run_two_yielders();
    return NULL;
}

static void yielding_tasks_do_not_starve_timers(void **state) {
    (void)state;
    seen = 0;
    double t0 = conc_monotonic();
    assert_int_equal(conc_run(timer_while_yielding, NULL, NULL), 0);
    assert_true(seen);
    assert_true(conc_monotonic() - t0 < 10);
}

static void *push_from_thread(void *arg) {
    conc_call_soon_threadsafe(arg, set_seen, NULL);
    return NULL;
}

static void *threadsafe_while_yielding(void *arg) {
    (void)arg;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, push_from_thread, conc_loop_current()), 0);
    run_two_yielders();
    pthread_join(th, NULL);
    return NULL;
}

static void yielding_tasks_do_not_starve_threadsafe_calls(void **state) {
    (void)state;
    seen = 0;
    double t0 = conc_monotonic();
    assert_int_equal(conc_run(threadsafe_while_yielding, NULL, NULL), 0);
    assert_true(seen);
    assert_true(conc_monotonic() - t0 < 10);
}

static void *yield_forever(void *arg) {
    (void)arg;
    while (conc_sleep(0) == 0) {
    }
    return NULL;
}

static void stop_it(void *arg) {
    conc_loop_stop(arg);
}

static void a_stop_ends_the_run_while_tasks_yield(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    assert_non_null(loop);
    conc_task_t *a = conc_task_spawn(loop, yield_forever, NULL, NULL);
    conc_task_t *b = conc_task_spawn(loop, yield_forever, NULL, NULL);
    conc_call_later(loop, 0.005, stop_it, loop);
    assert_int_equal(conc_loop_run(loop), 0);
    assert_false(conc_task_done(a));
    assert_false(conc_task_done(b));
    conc_loop_free(loop); /* cancels them: their sleep returns -ECANCELED */
    assert_true(conc_task_done(a));
    assert_true(conc_task_done(b));
    conc_task_release(a);
    conc_task_release(b);
}

CONC_TEST_MAIN(cmocka_unit_test(tasks_and_callbacks_keep_iteration_order),
               cmocka_unit_test(a_lone_task_yields_once_per_iteration),
               cmocka_unit_test(yielding_tasks_do_not_starve_io),
               cmocka_unit_test(yielding_tasks_do_not_starve_timers),
               cmocka_unit_test(yielding_tasks_do_not_starve_threadsafe_calls),
               cmocka_unit_test(a_stop_ends_the_run_while_tasks_yield))
