/* conc_as_completed: each future once, in finishing order (done ones first), -ETIMEDOUT when none
 * finishes in time, CONC_ECLOSED at the end, a fresh iteration after that, futures released by a
 * caller that broke out early. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "test.h"

static void plain_futures_in_finishing_order(void **state) {
    (void)state;
    enum { N = 5 };
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++) fs[i] = conc_future_new();
    conc_future_set_result(fs[3], NULL); /* done before the iteration: first */
    size_t idx;
    assert_int_equal(conc_as_completed(fs, N, 1, &idx), 0);
    assert_int_equal(idx, 3);
    double t0 = conc_monotonic();
    assert_int_equal(conc_as_completed(fs, N, 0.2, &idx), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    assert_int_equal(conc_as_completed(fs, N, 0, &idx), -ETIMEDOUT);
    conc_future_set_error(fs[1], -EIO);
    conc_future_cancel(fs[4]);
    conc_future_set_result(fs[0], NULL);
    conc_future_set_result(fs[2], NULL);
    size_t want[] = {1, 4, 0, 2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(conc_as_completed(fs, N, 1, &idx), 0);
        assert_int_equal(idx, want[i]);
    }
    assert_int_equal(conc_as_completed(fs, N, 1, &idx), CONC_ECLOSED);
    /* a new iteration over the same (all done) futures reports them all again */
    bool seen[N] = {0};
    for (int i = 0; i < N; i++) {
        assert_int_equal(conc_as_completed(fs, N, 0, &idx), 0);
        assert_false(seen[idx]);
        seen[idx] = true;
    }
    assert_int_equal(conc_as_completed(fs, N, 0, &idx), CONC_ECLOSED);
    for (int i = 0; i < N; i++) conc_future_release(fs[i]);
    assert_int_equal(conc_as_completed(NULL, 0, 0, &idx), CONC_ECLOSED);
}

static int echo(const void *arg, size_t len, conc_bytes_t *out) {
    out->data = malloc(len ? len : 1);
    memcpy(out->data, arg, len);
    out->len = len;
    return 0;
}

static void pool_results_each_once(void **state) {
    (void)state;
    conc_executor_t *ex;
    assert_int_equal(conc_thread_pool_new(&ex, 4), 0);
    enum { N = 300 };
    conc_bytes_t args[N];
    int vals[N];
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        args[i] = (conc_bytes_t){&vals[i], sizeof vals[i]};
    }
    conc_future_t **fs = malloc(N * sizeof *fs);
    assert_int_equal(conc_executor_map(ex, echo, args, N, 1, fs), 0);
    int count[N] = {0};
    size_t idx;
    int r, got = 0;
    while ((r = conc_as_completed(fs, N, 30, &idx)) == 0) {
        assert_true(idx < N);
        assert_true(conc_future_done(fs[idx]));
        void *v;
        assert_int_equal(conc_future_result(fs[idx], &v), 0);
        assert_memory_equal(((conc_bytes_t *)v)->data, &vals[idx], sizeof(int));
        count[idx]++;
        got++;
    }
    assert_int_equal(r, CONC_ECLOSED);
    assert_int_equal(got, N);
    for (int i = 0; i < N; i++) assert_int_equal(count[i], 1);
    for (int i = 0; i < N; i++) conc_future_release(fs[i]);
    free(fs);
    conc_executor_free(ex);
}

static void break_out_and_release(void **state) {
    (void)state;
    conc_future_t **fs = malloc(3 * sizeof *fs);
    for (int i = 0; i < 3; i++) fs[i] = conc_future_new();
    conc_future_set_result(fs[1], NULL);
    size_t idx;
    assert_int_equal(conc_as_completed(fs, 3, 1, &idx), 0);
    assert_int_equal(idx, 1);
    /* abandon the iteration: release everything, free the array */
    for (int i = 0; i < 3; i++) conc_future_set_result(fs[i], NULL);
    for (int i = 0; i < 3; i++) conc_future_release(fs[i]);
    free(fs);
    /* more iterations than the thread keeps: the abandoned one is dropped safely */
    for (int k = 0; k < 6; k++) {
        conc_future_t *g = conc_future_new();
        assert_int_equal(conc_as_completed(&g, 1, 0, &idx), -ETIMEDOUT);
        conc_future_release(g);
    }
}

CONC_TEST_MAIN(cmocka_unit_test(plain_futures_in_finishing_order),
               cmocka_unit_test(pool_results_each_once), cmocka_unit_test(break_out_and_release))
