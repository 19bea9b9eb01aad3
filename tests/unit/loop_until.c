/* run_until_complete: futures completed by a timer, by another thread, cancelled, failed, already
 * done, and a loop stopped before the future completes. */
#include <pthread.h>
#include <stdlib.h>
#include "conc.h"
#include "internal/loop.h"
#include "test.h"

struct fut_timer {
    conc_future_t *f;
    int kind;
};
static int value = 77;

static void complete_it(void *arg) {
    struct fut_timer *t = arg;
    switch (t->kind) {
    case 0: conc_future_set_result(t->f, &value); break;
    case 1: conc_future_set_error(t->f, -EPIPE); break;
    default: conc_future_cancel(t->f); break;
    }
}

static int until_timer(int kind) {
    conc_loop_t *loop = conc_loop_new();
    conc_future_t *f = conc_future_new();
    struct fut_timer t = {f, kind};
    conc_call_later(loop, 0.01, complete_it, &t);
    int rc = conc_loop_run_until_complete(loop, f);
    assert_true(conc_future_done(f));
    if (kind == 0) {
        void *v;
        assert_int_equal(conc_future_result(f, &v), 0);
        assert_ptr_equal(v, &value);
    }
    conc_future_release(f);
    conc_loop_free(loop);
    return rc;
}

static void future_completed_by_a_timer(void **state) {
    (void)state;
    assert_int_equal(until_timer(0), 0);
}

static void future_failed_returns_its_error(void **state) {
    (void)state;
    assert_int_equal(until_timer(1), -EPIPE);
}

static void future_cancelled_returns_ecanceled(void **state) {
    (void)state;
    assert_int_equal(until_timer(2), -ECANCELED);
}

static void future_already_done(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    conc_future_t *f = conc_future_new();
    conc_future_set_error(f, -EIO);
    assert_int_equal(conc_loop_run_until_complete(loop, f), -EIO);
    assert_null(conc_loop_current());
    conc_future_release(f);
    conc_loop_free(loop);
}

struct sleeps {
    uint32_t seq;
};
static void on_sleep(void *arg) {
    struct sleeps *s = arg;
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_ACQ_REL);
    conc__futex_wake(&s->seq, INT32_MAX, false);
}

struct remote {
    conc_future_t *f;
    struct sleeps sleeps;
    bool wait_for_sleep;
    int kind;
};

static void *complete_remotely(void *arg) {
    struct remote *r = arg;
    if (r->wait_for_sleep) {
        uint32_t v;
        while ((v = __atomic_load_n(&r->sleeps.seq, __ATOMIC_ACQUIRE)) == 0)
            conc__wait(&r->sleeps.seq, v, conc_deadline(30), false);
    }
    if (r->kind == 0)
        conc_future_set_result(r->f, &value);
    else
        conc_future_set_error(r->f, -ENOSPC);
    return NULL;
}

static void never_cb(void *arg) {
    (void)arg;
    fail_msg("the far timer fired");
}

static void future_completed_by_another_thread(void **state) {
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        conc_loop_t *loop = conc_loop_new();
        struct remote r = {.f = conc_future_new(), .wait_for_sleep = true, .kind = kind};
        conc__loop_set_sleep_hook(loop, on_sleep, &r.sleeps);
        conc_call_later(loop, 3600, never_cb, NULL);
        pthread_t th;
        pthread_create(&th, NULL, complete_remotely, &r);
        double t0 = conc_monotonic();
        int rc = conc_loop_run_until_complete(loop, r.f);
        assert_true(conc_monotonic() - t0 < 10);
        assert_int_equal(rc, kind == 0 ? 0 : -ENOSPC);
        pthread_join(th, NULL);
        conc_future_release(r.f);
        conc_loop_free(loop);
    }
}

/* The completing thread runs the loop's done-callback while the loop may be returning: the loop
 * must wait for it, or it would touch a freed loop (ASan/TSan catch it). */
static void completion_racing_with_return(void **state) {
    (void)state;
    for (int i = 0; i < 300; i++) {
        conc_loop_t *loop = conc_loop_new();
        struct remote r = {.f = conc_future_new(), .kind = 0};
        pthread_t th;
        pthread_create(&th, NULL, complete_remotely, &r);
        assert_int_equal(conc_loop_run_until_complete(loop, r.f), 0);
        conc_loop_free(loop);
        pthread_join(th, NULL);
        conc_future_release(r.f);
    }
}

static void stop_loop(void *arg) {
    conc_loop_stop(arg);
}

static void stopped_before_the_future_completes(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    conc_future_t *f = conc_future_new();
    conc_call_soon(loop, stop_loop, loop);
    assert_int_equal(conc_loop_run_until_complete(loop, f), -EAGAIN);
    conc_loop_free(loop);
    /* the loop's callback was taken back: completing now touches no freed loop */
    assert_int_equal(conc_future_set_result(f, NULL), 0);
    conc_future_release(f);
}

static void run_again_after_run_until_complete(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    for (int i = 0; i < 3; i++) {
        conc_future_t *f = conc_future_new();
        struct fut_timer t = {f, 0};
        conc_call_soon(loop, complete_it, &t);
        assert_int_equal(conc_loop_run_until_complete(loop, f), 0);
        conc_future_release(f);
    }
    conc_call_soon(loop, stop_loop, loop);
    assert_int_equal(conc_loop_run(loop), 0);
    conc_loop_free(loop);
}

CONC_TEST_MAIN(cmocka_unit_test(future_completed_by_a_timer),
               cmocka_unit_test(future_failed_returns_its_error),
               cmocka_unit_test(future_cancelled_returns_ecanceled),
               cmocka_unit_test(future_already_done),
               cmocka_unit_test(future_completed_by_another_thread),
               cmocka_unit_test(completion_racing_with_return),
               cmocka_unit_test(stopped_before_the_future_completes),
               cmocka_unit_test(run_again_after_run_until_complete))
