/* The waiter hook of executor backends (conc_work_set_waiter), with a backend of the test's own:
 * conc_future_wait hands a pending future to the hook (which may complete it, or give up and
 * fall back to the ordinary sleep), a done-callback on a pending future calls watch, a done
 * future calls neither, and every wait or watch ends the use that enter began. */
#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "test.h"

struct backend {
    conc_future_t *held[8]; /* futures submitted and not finished */
    size_t n;
    int enters, leaves, waits, watches;
    bool complete_in_wait; /* wait runs the work itself; else it gives up */
};

static int echo(const void *arg, size_t len, conc_bytes_t *out) {
    out->data = malloc(len ? len : 1);
    memcpy(out->data, arg, len);
    out->len = len;
    return 0;
}

static void run_one(struct backend *b, conc_future_t *f) {
    for (size_t i = 0; i < b->n; i++) {
        if (b->held[i] != f) continue;
        b->held[i] = b->held[--b->n];
        if (conc_work_start(f)) {
            char *v = malloc(2);
            memcpy(v, "ok", 2);
            conc_work_finish(f, 0, v, 2);
        } else {
            conc_work_finish(f, -ECANCELED, NULL, 0);
        }
        return;
    }
}

static void hook_enter(void *ctx) {
    ((struct backend *)ctx)->enters++;
}

static int hook_wait(void *ctx, conc_future_t *f, double deadline) {
    (void)deadline;
    struct backend *b = ctx;
    b->waits++;
    b->leaves++;
    if (!b->complete_in_wait) return -EAGAIN;
    run_one(b, f);
    return conc_future_done(f) ? 0 : -EAGAIN;
}

static void hook_watch(void *ctx, conc_future_t *f) {
    (void)f;
    struct backend *b = ctx;
    b->watches++;
    b->leaves++;
}

static const conc_work_waiter_t waiter = {hook_enter, hook_wait, hook_watch};

static int b_submit(void *impl, conc_work_fn fn, const char *name, const conc_bytes_t *args,
                    size_t n, conc_future_t *const *fs) {
    (void)fn;
    (void)name;
    (void)args;
    struct backend *b = impl;
    if (b->n + n > 8) return -EAGAIN;
    for (size_t i = 0; i < n; i++) {
        conc_work_set_waiter(fs[i], &waiter, b);
        b->held[b->n++] = fs[i];
    }
    return 0;
}

static int b_shutdown(void *impl, bool wait, bool cancel_futures) {
    (void)wait;
    (void)cancel_futures;
    struct backend *b = impl;
    while (b->n) run_one(b, b->held[0]);
    return 0;
}

static void b_free(void *impl) {
    (void)impl;
}

static const conc_executor_ops_t ops = {.submit = b_submit, .shutdown = b_shutdown, .free = b_free};

static void on_done(conc_future_t *f, void *arg) {
    (void)f;
    (*(int *)arg)++;
}

static void wait_runs_the_hook(void **state) {
    (void)state;
    struct backend b = {.complete_in_wait = true};
    conc_executor_t *ex;
    assert_int_equal(conc_executor_new(&ex, &ops, &b), 0);
    conc_future_t *f;
    assert_int_equal(conc_executor_submit(ex, echo, "x", 1, &f), 0);
    assert_int_equal(conc_future_wait(f, 5), 0);
    assert_int_equal(b.waits, 1);
    void *v;
    assert_int_equal(conc_future_result(f, &v), 0);
    assert_memory_equal(((conc_bytes_t *)v)->data, "ok", 2);
    /* done: neither wait nor a callback reaches the backend again */
    int called = 0;
    assert_int_equal(conc_future_wait(f, 5), 0);
    assert_int_equal(conc_future_add_done_callback(f, on_done, &called), 0);
    assert_int_equal(called, 1);
    assert_int_equal(b.waits, 1);
    assert_int_equal(b.watches, 0);
    assert_int_equal(b.enters, b.leaves);
    conc_future_release(f);
    conc_executor_free(ex);
}

static void a_hook_that_gives_up_falls_back_to_sleeping(void **state) {
    (void)state;
    struct backend b = {.complete_in_wait = false};
    conc_executor_t *ex;
    assert_int_equal(conc_executor_new(&ex, &ops, &b), 0);
    conc_future_t *f;
    assert_int_equal(conc_executor_submit(ex, echo, "x", 1, &f), 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_future_wait(f, 0.1), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.1 && dt < 5);
    assert_int_equal(conc_future_wait(f, 0), -ETIMEDOUT);
    assert_int_equal(b.waits, 2);
    /* a callback on the pending future: the backend is told nobody may wait */
    int called = 0;
    assert_int_equal(conc_future_add_done_callback(f, on_done, &called), 0);
    assert_int_equal(b.watches, 1);
    assert_int_equal(called, 0);
    run_one(&b, f);
    assert_int_equal(called, 1);
    assert_int_equal(conc_future_wait(f, 0), 0);
    assert_int_equal(b.waits, 2);
    assert_int_equal(b.enters, b.leaves);
    conc_future_release(f);
    conc_executor_free(ex);
}

CONC_TEST_MAIN(cmocka_unit_test(wait_runs_the_hook),
               cmocka_unit_test(a_hook_that_gives_up_falls_back_to_sleeping))
