/* wait_for, gather, shield and wait_futures. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static void *sleep_then(void *arg) {
    double d = I(arg) / 1000.0; /* ms */
    int r = conc_sleep(d);
    if (r < 0) return conc_task_error(r);
    return V(I(arg));
}

static bool slow_cleanup_done;
static void *slow_to_cancel(void *arg) {
    (void)arg;
    if (conc_sleep(3600) == -ECANCELED) {
        conc_task_uncancel();
        conc_sleep(0.03);
        slow_cleanup_done = true;
        return conc_task_error(-ECANCELED);
    }
    return NULL;
}

static void *fail_after(void *arg) {
    conc_sleep(I(arg) / 1000.0);
    return conc_task_error(-EIO);
}

/* ---- wait_for ---- */
static void *wait_for_cases(void *arg) {
    (void)arg;
    /* completes in time */
    conc_task_t *t = conc_task_spawn(NULL, sleep_then, V(5), NULL);
    void *v;
    assert_int_equal(conc_wait_for(conc_task_future(t), 10, &v), 0);
    assert_int_equal(I(v), 5);
    conc_task_release(t);
    /* times out: the inner task is cancelled and has finished when wait_for returns */
    slow_cleanup_done = false;
    t = conc_task_spawn(NULL, slow_to_cancel, NULL, NULL);
    double t0 = conc_monotonic();
    assert_int_equal(conc_wait_for(conc_task_future(t), 0.05, &v), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 >= 0.05);
    assert_true(slow_cleanup_done); /* bpo-32751 */
    assert_true(conc_task_done(t));
    assert_true(conc_future_cancelled(conc_task_future(t)));
    conc_task_release(t);
    /* the caller is not cancelled by its own timeout: it goes on */
    assert_int_equal(conc_task_cancelling(conc_task_current()), 0);
    assert_int_equal(conc_sleep(0.001), 0);
    /* a plain future is cancelled on timeout */
    conc_future_t *f = conc_future_new();
    assert_int_equal(conc_wait_for(f, 0.01, NULL), -ETIMEDOUT);
    assert_true(conc_future_cancelled(f));
    conc_future_release(f);
    /* a done future: its outcome at once, even with timeout 0 */
    f = conc_future_new();
    conc_future_set_result(f, V(4));
    assert_int_equal(conc_wait_for(f, 0, &v), 0);
    assert_int_equal(I(v), 4);
    conc_future_release(f);
    /* an error passes through */
    t = conc_task_spawn(NULL, fail_after, V(1), NULL);
    assert_int_equal(conc_wait_for(conc_task_future(t), 5, &v), -EIO);
    conc_task_release(t);
    return V(1);
}

static void wait_for_times_out_cancels_and_waits_for_the_inner_task(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(wait_for_cases, NULL, &res), 0);
    assert_int_equal(I(res), 1);
}

/* gh-86296: the outer task is cancelled while wait_for waits; whatever the inner does, the
 * cancellation comes out of wait_for, even when the inner completes in the same instant. */
struct race {
    conc_future_t *f;
    int r;
};

static void *wait_for_plain(void *arg) {
    struct race *rc = arg;
    rc->r = conc_wait_for(rc->f, 10, NULL);
    return V(rc->r);
}

static void *outer_cancel_race(void *arg) {
    (void)arg;
    for (int i = 0; i < 20; i++) {
        struct race rc = {conc_future_new(), 1};
        conc_task_t *w = conc_task_spawn(NULL, wait_for_plain, &rc, NULL);
        conc_sleep(0);
        /* the inner future completes and the outer is cancelled before it resumes */
        conc_future_set_result(rc.f, V(1));
        conc_task_cancel(w);
        assert_int_equal(conc_await(conc_task_future(w), NULL), -ECANCELED);
        conc_task_uncancel();
        assert_int_equal(rc.r, -ECANCELED);
        conc_task_release(w);
        conc_future_release(rc.f);
    }
    /* and a plain outer cancellation during the wait */
    struct race rc = {conc_future_new(), 1};
    conc_task_t *w = conc_task_spawn(NULL, wait_for_plain, &rc, NULL);
    conc_sleep(0.01);
    conc_task_cancel(w);
    assert_int_equal(conc_await(conc_task_future(w), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(rc.r, -ECANCELED);
    assert_true(conc_future_cancelled(rc.f));
    conc_task_release(w);
    conc_future_release(rc.f);
    return NULL;
}

static void wait_for_never_swallows_an_outer_cancellation(void **state) {
    (void)state;
    assert_int_equal(conc_run(outer_cancel_race, NULL, NULL), 0);
}

/* ---- gather ---- */
static void *gather_ok(void *arg) {
    (void)arg;
    conc_task_t *ts[5];
    conc_future_t *fs[5];
    for (int i = 0; i < 5; i++) {
        ts[i] = conc_task_spawn(NULL, sleep_then, V(10 - 2 * i), NULL);
        fs[i] = conc_task_future(ts[i]);
    }
    assert_int_equal(conc_gather(fs, 5, false), 0);
    for (int i = 0; i < 5; i++) {
        void *v;
        assert_int_equal(conc_future_result(fs[i], &v), 0);
        assert_int_equal(I(v), 10 - 2 * i); /* results by position, whatever the finishing order */
        conc_task_release(ts[i]);
    }
    assert_int_equal(conc_gather(NULL, 0, false), 0);
    return NULL;
}

static void gather_collects_results_in_order(void **state) {
    (void)state;
    assert_int_equal(conc_run(gather_ok, NULL, NULL), 0);
}

static void *gather_errors(void *arg) {
    (void)arg;
    conc_task_t *slow = conc_task_spawn(NULL, sleep_then, V(3600 * 1000), NULL);
    conc_task_t *bad = conc_task_spawn(NULL, fail_after, V(5), NULL);
    conc_future_t *fs[2] = {conc_task_future(slow), conc_task_future(bad)};
    assert_int_equal(conc_gather(fs, 2, false), -EIO); /* at the first error */
    assert_false(conc_task_done(slow));                /* the others keep running */
    conc_task_cancel(slow);
    assert_int_equal(conc_await(fs[0], NULL), -ECANCELED);
    conc_task_uncancel();
    /* return_errors: waits for all, outcomes in the futures */
    void *v;
    conc_task_t *a = conc_task_spawn(NULL, fail_after, V(1), NULL);
    conc_task_t *b = conc_task_spawn(NULL, sleep_then, V(20), NULL);
    conc_future_t *gs[2] = {conc_task_future(a), conc_task_future(b)};
    assert_int_equal(conc_gather(gs, 2, true), 0);
    assert_int_equal(conc_future_result(gs[0], NULL), -EIO);
    assert_int_equal(conc_future_result(gs[1], &v), 0);
    assert_int_equal(I(v), 20);
    conc_task_release(slow);
    conc_task_release(bad);
    conc_task_release(a);
    conc_task_release(b);
    return NULL;
}

static void gather_returns_the_first_error_or_waits_for_all(void **state) {
    (void)state;
    assert_int_equal(conc_run(gather_errors, NULL, NULL), 0);
}

static int gather_ret;
static void *gatherer(void *arg) {
    conc_future_t **fs = arg;
    gather_ret = conc_gather(fs, 3, false);
    return NULL;
}

static void *gather_cancelled(void *arg) {
    (void)arg;
    slow_cleanup_done = false;
    conc_task_t *ts[3] = {conc_task_spawn(NULL, slow_to_cancel, NULL, NULL),
                          conc_task_spawn(NULL, sleep_then, V(3600 * 1000), NULL),
                          conc_task_spawn(NULL, sleep_then, V(1), NULL)};
    conc_future_t *fs[3] = {conc_task_future(ts[0]), conc_task_future(ts[1]),
                            conc_task_future(ts[2])};
    conc_task_t *g = conc_task_spawn(NULL, gatherer, fs, NULL);
    assert_int_equal(conc_await(fs[2], NULL), 0); /* ts[2] done; not a sleep (a busy machine) */
    conc_task_cancel(g);
    assert_int_equal(conc_await(conc_task_future(g), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(gather_ret, -ECANCELED);
    /* every child was cancelled and had finished when gather returned */
    assert_true(slow_cleanup_done);
    assert_true(conc_future_cancelled(fs[0]));
    assert_true(conc_future_cancelled(fs[1]));
    assert_int_equal(conc_future_result(fs[2], NULL), 0);
    for (int i = 0; i < 3; i++) conc_task_release(ts[i]);
    conc_task_release(g);
    return NULL;
}

static void cancelling_gather_cancels_the_children_and_waits(void **state) {
    (void)state;
    assert_int_equal(conc_run(gather_cancelled, NULL, NULL), 0);
}

/* gather over futures completed by other threads */
struct bunch {
    conc_future_t *fs[8];
};
static void *complete_all(void *arg) {
    struct bunch *b = arg;
    for (int i = 0; i < 8; i++) conc_future_set_result(b->fs[i], V(i));
    return NULL;
}
static void *gather_cross(void *arg) {
    (void)arg;
    for (int round = 0; round < 20; round++) {
        struct bunch b;
        for (int i = 0; i < 8; i++) b.fs[i] = conc_future_new();
        pthread_t th;
        pthread_create(&th, NULL, complete_all, &b);
        assert_int_equal(conc_gather(b.fs, 8, false), 0);
        pthread_join(th, NULL);
        for (int i = 0; i < 8; i++) conc_future_release(b.fs[i]);
    }
    return NULL;
}

static void gather_futures_completed_by_threads(void **state) {
    (void)state;
    assert_int_equal(conc_run(gather_cross, NULL, NULL), 0);
}

/* ---- shield ---- */
static int shielded_result;
static void *await_shielded(void *arg) {
    conc_future_t *s = conc_shield(arg);
    shielded_result = conc_await(s, NULL);
    conc_future_release(s);
    return NULL;
}

static void *await_gate(void *arg) {
    void *v;
    int r = conc_await(arg, &v);
    return r ? conc_task_error(r) : v;
}

static void *shield_cases(void *arg) {
    (void)arg;
    conc_future_t *gate = conc_future_new();
    conc_task_t *inner = conc_task_spawn(NULL, await_gate, gate, NULL);
    conc_task_t *w = conc_task_spawn(NULL, await_shielded, conc_task_future(inner), NULL);
    conc_sleep(0.005);
    conc_task_cancel(w);
    assert_int_equal(conc_await(conc_task_future(w), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(shielded_result, -ECANCELED);
    conc_sleep(0.005);
    assert_false(conc_task_done(inner)); /* untouched */
    conc_future_set_result(gate, V(30));
    void *v;
    assert_int_equal(conc_await(conc_task_future(inner), &v), 0);
    assert_int_equal(I(v), 30);
    /* and a shield passes the outcome through */
    conc_future_t *s = conc_shield(conc_task_future(inner));
    assert_int_equal(conc_await(s, &v), 0);
    assert_int_equal(I(v), 30);
    conc_future_release(s);
    conc_future_release(gate);
    conc_task_release(inner);
    conc_task_release(w);
    return NULL;
}

static void shield_keeps_the_cancellation_from_the_inner_work(void **state) {
    (void)state;
    assert_int_equal(conc_run(shield_cases, NULL, NULL), 0);
}

/* ---- wait_futures ---- */
static void *wait_cases(void *arg) {
    (void)arg;
    conc_future_t *gate = conc_future_new();
    conc_task_t *fast = conc_task_spawn(NULL, sleep_then, V(1), NULL);
    conc_task_t *slow = conc_task_spawn(NULL, await_gate, gate, NULL);
    conc_task_t *bad = conc_task_spawn(NULL, fail_after, V(50), NULL);
    conc_future_t *fs[3] = {conc_task_future(fast), conc_task_future(slow), conc_task_future(bad)};
    assert_true(conc_wait_futures(fs, 3, -1, CONC_FIRST_COMPLETED) >= 1);
    assert_true(conc_future_done(fs[0]));
    assert_int_equal(conc_wait_futures(fs, 3, -1, CONC_FIRST_EXCEPTION), 2);
    assert_true(conc_future_done(fs[2]));
    assert_false(conc_future_done(fs[1]));
    /* a timeout cancels nothing */
    assert_int_equal(conc_wait_futures(fs, 3, 0.01, CONC_ALL_COMPLETED), -ETIMEDOUT);
    assert_false(conc_future_done(fs[1]));
    assert_int_equal(conc_wait_futures(fs, 3, 0, CONC_ALL_COMPLETED), -ETIMEDOUT); /* a poll */
    conc_future_set_result(gate, NULL);
    assert_int_equal(conc_wait_futures(fs, 3, -1, CONC_ALL_COMPLETED), 3);
    assert_int_equal(conc_wait_futures(fs, 3, 0, CONC_ALL_COMPLETED), 3);
    assert_int_equal(conc_wait_futures(fs, 3, -1, 99), -EINVAL);
    conc_future_release(gate);
    conc_task_release(fast);
    conc_task_release(slow);
    conc_task_release(bad);
    return NULL;
}

static void wait_futures_first_completed_first_exception_all(void **state) {
    (void)state;
    assert_int_equal(conc_run(wait_cases, NULL, NULL), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(wait_for_times_out_cancels_and_waits_for_the_inner_task),
               cmocka_unit_test(wait_for_never_swallows_an_outer_cancellation),
               cmocka_unit_test(gather_collects_results_in_order),
               cmocka_unit_test(gather_returns_the_first_error_or_waits_for_all),
               cmocka_unit_test(cancelling_gather_cancels_the_children_and_waits),
               cmocka_unit_test(gather_futures_completed_by_threads),
               cmocka_unit_test(shield_keeps_the_cancellation_from_the_inner_work),
               cmocka_unit_test(wait_futures_first_completed_first_exception_all))
