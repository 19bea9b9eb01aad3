/* The loop and executors: to_thread and run_in_executor awaited by tasks (the default pool and an
 * explicit one), a cancelled await that ends at once while the thread runs on, and the default
 * pool shut down with the loop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static void *square_in_thread(void *arg) {
    return V(I(arg) * I(arg));
}

static void *main_to_thread(void *arg) {
    (void)arg;
    int sum = 0;
    for (int i = 0; i < 10; i++) {
        void *v;
        if (conc_to_thread(square_in_thread, V(i), &v) != 0) return conc_task_error(-EIO);
        sum += I(v);
    }
    return V(sum);
}

static void to_thread_from_a_task(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(main_to_thread, NULL, &res), 0);
    assert_int_equal(I(res), 285);
    assert_int_equal(conc_to_thread(square_in_thread, V(2), &res), -EPERM);
    assert_int_equal(conc_thread_active_count(), 1); /* the default pool went with the loop */
}

static int upper(const void *arg, size_t len, conc_bytes_t *out) {
    out->data = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) ((char *)out->data)[i] = (char)(((const char *)arg)[i] & ~32);
    out->len = len;
    return 0;
}

static conc_executor_t *explicit_pool;

static void *main_run_in_executor(void *arg) {
    (void)arg;
    conc_future_t *f, *g;
    if (conc_loop_run_in_executor(conc_loop_current(), NULL, upper, "abc", 3, &f) != 0)
        return conc_task_error(-EIO);
    if (conc_loop_run_in_executor(conc_loop_current(), explicit_pool, upper, "xyz", 3, &g) != 0)
        return conc_task_error(-EIO);
    void *v, *w;
    int ok = conc_await(f, &v) == 0 && conc_await(g, &w) == 0;
    ok = ok && ((conc_bytes_t *)v)->len == 3 && !memcmp(((conc_bytes_t *)v)->data, "ABC", 3);
    ok = ok && !memcmp(((conc_bytes_t *)w)->data, "XYZ", 3);
    conc_future_release(f);
    conc_future_release(g);
    return V(ok);
}

static void run_in_executor_default_and_explicit(void **state) {
    (void)state;
    assert_int_equal(conc_thread_pool_new(&explicit_pool, 1), 0);
    void *res;
    assert_int_equal(conc_run(main_run_in_executor, NULL, &res), 0);
    assert_int_equal(I(res), 1);
    conc_executor_free(explicit_pool);
}

static conc_event_t started, release_it;
static uint32_t finished;

static void *blocking(void *arg) {
    (void)arg;
    conc_event_set(&started);
    conc_event_wait(&release_it, 30);
    conc__store(&finished, 1);
    return V(7);
}

static void *awaits_blocking(void *arg) {
    (void)arg;
    void *v;
    int r = conc_to_thread(blocking, NULL, &v);
    return V(r);
}

static void *main_cancel(void *arg) {
    (void)arg;
    conc_task_t *t = conc_task_spawn(NULL, awaits_blocking, NULL, NULL);
    while (!conc_event_is_set(&started)) conc_to_thread(square_in_thread, V(1), NULL);
    conc_task_cancel(t);
    void *v;
    int r = conc_await(conc_task_future(t), &v);
    if (r == -ECANCELED) conc_task_uncancel(); /* the child's cancellation, not ours */
    conc_task_release(t);
    /* the await ended while the thread still runs */
    int ok = r == -ECANCELED && !conc__load(&finished);
    conc_event_set(&release_it);
    return V(ok);
}

static void cancelled_await_ends_at_once(void **state) {
    (void)state;
    conc_event_init(&started, 0);
    conc_event_init(&release_it, 0);
    void *res;
    assert_int_equal(conc_run(main_cancel, NULL, &res), 0);
    assert_int_equal(I(res), 1);
    /* the loop's end waited for the default pool */
    assert_int_equal(conc__load(&finished), 1);
}

CONC_TEST_MAIN(cmocka_unit_test(to_thread_from_a_task),
               cmocka_unit_test(run_in_executor_default_and_explicit),
               cmocka_unit_test(cancelled_await_ends_at_once))
