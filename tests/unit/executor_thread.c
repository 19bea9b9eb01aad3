/* Thread pool: submit and results, errors, map, shutdown (wait / cancel_futures), closed pools,
 * on-demand threads up to the maximum, and a started future that cannot be cancelled. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

static int twice(const void *arg, size_t len, conc_bytes_t *out) {
    out->data = malloc(len * 2 + 1);
    if (!out->data) return -ENOMEM;
    memcpy(out->data, arg, len);
    memcpy((char *)out->data + len, arg, len);
    out->len = len * 2;
    return 0;
}

static int fail_eio(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    (void)out;
    return -EIO;
}

/* Blocks until the event whose address is the argument is set; counts how many run at once. */
static uint32_t running, peak;
static int block_on(const void *arg, size_t len, conc_bytes_t *out) {
    (void)len;
    (void)out;
    conc_event_t *e;
    memcpy(&e, arg, sizeof e);
    uint32_t now = conc__add(&running, 1);
    uint32_t p = conc__load(&peak);
    while (now > p && !conc__cas(&peak, &p, now)) {
    }
    conc__futex_wake(&running, 64, false);
    int r = conc_event_wait(e, 30);
    conc__sub(&running, 1);
    return r;
}

static void wait_running(uint32_t n) {
    double deadline = conc_monotonic() + 30;
    uint32_t v;
    while ((v = conc__load(&running)) != n) {
        assert_true(conc_monotonic() < deadline);
        conc__wait(&running, v, conc_monotonic() + 0.1, false);
    }
}

static void submit_gives_bytes(void **state) {
    (void)state;
    conc_executor_t *ex;
    assert_int_equal(conc_thread_pool_new(&ex, 2), 0);
    char buf[4] = "abc";
    conc_future_t *f;
    assert_int_equal(conc_executor_submit(ex, twice, buf, 3, &f), 0);
    buf[0] = 'X'; /* the argument was copied */
    assert_int_equal(conc_future_wait(f, 30), 0);
    void *v;
    assert_int_equal(conc_future_result(f, &v), 0);
    conc_bytes_t *b = v;
    assert_int_equal(b->len, 6);
    assert_memory_equal(b->data, "abcabc", 6);
    conc_future_release(f);
    assert_int_equal(conc_executor_submit(ex, fail_eio, NULL, 0, &f), 0);
    assert_int_equal(conc_future_wait(f, 30), 0);
    assert_int_equal(conc_future_result(f, &v), -EIO);
    assert_null(v);
    conc_future_release(f);
    conc_executor_free(ex);
}

static void map_keeps_order(void **state) {
    (void)state;
    conc_executor_t *ex;
    assert_int_equal(conc_thread_pool_new(&ex, 3), 0);
    enum { N = 200 };
    conc_bytes_t args[N];
    char data[N][8];
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++) {
        snprintf(data[i], sizeof data[i], "%d", i);
        args[i] = (conc_bytes_t){data[i], strlen(data[i])};
    }
    assert_int_equal(conc_executor_map(ex, twice, args, N, 16, fs), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(conc_future_wait(fs[i], 30), 0);
        void *v;
        assert_int_equal(conc_future_result(fs[i], &v), 0);
        conc_bytes_t *b = v;
        char want[32];
        snprintf(want, sizeof want, "%d%d", i, i);
        assert_int_equal(b->len, strlen(want));
        assert_memory_equal(b->data, want, b->len);
        conc_future_release(fs[i]);
    }
    conc_executor_free(ex);
}

static void shutdown_cancels_pending_and_closes(void **state) {
    (void)state;
    conc_executor_t *ex;
    assert_int_equal(conc_thread_pool_new(&ex, 1), 0);
    conc_event_t e;
    conc_event_init(&e, 0);
    conc_event_t *pe = &e;
    conc_future_t *first, *rest[5];
    assert_int_equal(conc_executor_submit(ex, block_on, &pe, sizeof pe, &first), 0);
    wait_running(1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(conc_executor_submit(ex, block_on, &pe, sizeof pe, &rest[i]), 0);
    /* started: cannot be cancelled */
    assert_false(conc_future_cancel(first));
    assert_int_equal(conc_executor_shutdown(ex, false, true), 0);
    for (int i = 0; i < 5; i++) {
        assert_true(conc_future_cancelled(rest[i]));
        assert_int_equal(conc_future_result(rest[i], NULL), -ECANCELED);
        conc_future_release(rest[i]);
    }
    conc_future_t *late = NULL;
    assert_int_equal(conc_executor_submit(ex, twice, "a", 1, &late), CONC_ECLOSED);
    assert_null(late);
    conc_bytes_t a = {"a", 1};
    assert_int_equal(conc_executor_map(ex, twice, &a, 1, 1, &late), CONC_ECLOSED);
    assert_false(conc_future_done(first));
    conc_event_set(&e);
    assert_int_equal(conc_executor_shutdown(ex, true, false), 0);
    assert_true(conc_future_done(first)); /* wait: every started work is done */
    assert_int_equal(conc_future_result(first, NULL), 0);
    conc_future_release(first);
    conc_executor_free(ex);
}

static void shutdown_wait_runs_what_is_queued(void **state) {
    (void)state;
    conc_executor_t *ex;
    assert_int_equal(conc_thread_pool_new(&ex, 2), 0);
    conc_future_t *fs[20];
    for (int i = 0; i < 20; i++)
        assert_int_equal(conc_executor_submit(ex, twice, "x", 1, &fs[i]), 0);
    assert_int_equal(conc_executor_shutdown(ex, true, false), 0);
    for (int i = 0; i < 20; i++) {
        assert_true(conc_future_done(fs[i]));
        assert_int_equal(conc_future_result(fs[i], NULL), 0);
        conc_future_release(fs[i]);
    }
    conc_executor_free(ex);
}

static void threads_grow_to_the_maximum(void **state) {
    (void)state;
    conc_executor_t *ex;
    assert_int_equal(conc_thread_pool_new(&ex, 0), 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t max = cores + 4 < 32 ? (uint32_t)cores + 4 : 32;
    conc_event_t e;
    conc_event_init(&e, 0);
    conc_event_t *pe = &e;
    enum { N = 40 };
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(conc_executor_submit(ex, block_on, &pe, sizeof pe, &fs[i]), 0);
    wait_running(max);
    size_t before = conc_thread_active_count();
    conc_event_set(&e);
    for (int i = 0; i < N; i++) {
        assert_int_equal(conc_future_wait(fs[i], 30), 0);
        assert_int_equal(conc_future_result(fs[i], NULL), 0);
        conc_future_release(fs[i]);
    }
    assert_int_equal(conc__load(&peak), max);
    assert_true(before >= max + 1);
    conc_executor_free(ex);
    assert_int_equal(conc_thread_active_count(), 1);
}

static void released_future_while_running(void **state) {
    (void)state;
    conc_executor_t *ex;
    assert_int_equal(conc_thread_pool_new(&ex, 1), 0);
    conc_event_t e;
    conc_event_init(&e, 0);
    conc_event_t *pe = &e;
    conc_future_t *f;
    assert_int_equal(conc_executor_submit(ex, block_on, &pe, sizeof pe, &f), 0);
    wait_running(1);
    conc_future_release(f); /* nobody wants it any more: the pool still holds it */
    conc_event_set(&e);
    conc_executor_free(ex);
}

static void bad_arguments(void **state) {
    (void)state;
    conc_executor_t *ex;
    conc_future_t *f;
    assert_int_equal(conc_thread_pool_new(&ex, 1), 0);
    assert_int_equal(conc_executor_submit(ex, NULL, NULL, 0, &f), -EINVAL);
    assert_int_equal(conc_executor_submit(ex, twice, NULL, 3, &f), -EINVAL);
    assert_int_equal(conc_executor_map(ex, twice, NULL, 0, 1, NULL), 0);
    conc_executor_free(ex);
    conc_executor_free(NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(submit_gives_bytes), cmocka_unit_test(map_keeps_order),
               cmocka_unit_test(shutdown_cancels_pending_and_closes),
               cmocka_unit_test(shutdown_wait_runs_what_is_queued),
               cmocka_unit_test(threads_grow_to_the_maximum),
               cmocka_unit_test(released_future_while_running), cmocka_unit_test(bad_arguments))
