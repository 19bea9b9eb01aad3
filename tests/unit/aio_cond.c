/* Async Condition: notify wakes waiters in order, wait always re-acquires the lock (after a
 * timeout or a cancellation too), a notification is never lost to a cancellation. */
#include <stdint.h>
#include "conc.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static conc_acond_t cond;
static int items, consumed, wait_result;
static bool held_after;

static bool have_items(void *arg) {
    (void)arg;
    return items > 0;
}

static void *consumer(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) {
        conc_acond_acquire(&cond, -1);
        assert_int_equal(conc_acond_wait_for(&cond, have_items, NULL, 10), 0);
        items--;
        consumed++;
        conc_acond_release(&cond);
    }
    return NULL;
}

static void *produce(void *arg) {
    (void)arg;
    conc_acond_init(&cond);
    items = consumed = 0;
    conc_task_t *c = conc_task_spawn(NULL, consumer, NULL, NULL);
    for (int i = 0; i < 5; i++) {
        conc_sleep(0.001);
        conc_acond_acquire(&cond, -1);
        items++;
        conc_acond_notify(&cond, 1);
        conc_acond_release(&cond);
    }
    conc_await(conc_task_future(c), NULL);
    conc_task_release(c);
    assert_int_equal(consumed, 5);
    assert_int_equal(conc_acond_notify(&cond, 1), -EPERM); /* lock not held */
    assert_int_equal(conc_acond_wait(&cond, 1), -EPERM);
    return NULL;
}

static void a_condition_passes_items_from_producer_to_consumer(void **state) {
    (void)state;
    assert_int_equal(conc_run(produce, NULL, NULL), 0);
}

static void *cond_waiter(void *arg) {
    double timeout = *(double *)arg;
    conc_acond_acquire(&cond, -1);
    wait_result = conc_acond_wait(&cond, timeout);
    held_after = conc_alock_locked(cond._priv.lock);
    conc_acond_release(&cond);
    return NULL;
}

static void *cond_cancel(void *arg) {
    (void)arg;
    conc_acond_init(&cond);
    double forever = -1, short_wait = 0.01;
    /* timeout: returns with the lock held */
    conc_task_t *w = conc_task_spawn(NULL, cond_waiter, &short_wait, NULL);
    conc_await(conc_task_future(w), NULL);
    assert_int_equal(wait_result, -ETIMEDOUT);
    assert_true(held_after);
    conc_task_release(w);
    /* cancelled while the lock is held by someone else: re-acquires before returning */
    w = conc_task_spawn(NULL, cond_waiter, &forever, NULL);
    conc_sleep(0);
    conc_acond_acquire(&cond, -1);
    conc_task_cancel(w);
    conc_sleep(0.005); /* w was woken, and waits for the lock we hold */
    assert_false(conc_task_done(w));
    conc_acond_release(&cond);
    assert_int_equal(conc_await(conc_task_future(w), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(wait_result, -ECANCELED);
    assert_true(held_after);
    conc_task_release(w);
    /* notified, then cancelled before it runs: the notification is not lost */
    w = conc_task_spawn(NULL, cond_waiter, &forever, NULL);
    conc_sleep(0);
    conc_acond_acquire(&cond, -1);
    conc_acond_notify(&cond, 1);
    conc_task_cancel(w);
    conc_acond_release(&cond);
    conc_await(conc_task_future(w), NULL);
    conc_task_uncancel();
    assert_int_equal(wait_result, 0);
    assert_true(held_after);
    conc_task_release(w);
    assert_false(conc_alock_locked(cond._priv.lock));
    return NULL;
}

static void wait_reacquires_after_timeout_and_cancellation(void **state) {
    (void)state;
    assert_int_equal(conc_run(cond_cancel, NULL, NULL), 0);
}

static int woke_order[4], nwoke;
static void *ordered_waiter(void *arg) {
    conc_acond_acquire(&cond, -1);
    conc_acond_wait(&cond, -1);
    woke_order[nwoke++] = I(arg);
    conc_acond_release(&cond);
    return NULL;
}

static void *notify_order(void *arg) {
    (void)arg;
    conc_alock_t shared = CONC_ALOCK_INIT;
    conc_acond_init_with(&cond, &shared);
    nwoke = 0;
    conc_task_t *ts[4];
    for (int i = 0; i < 4; i++) ts[i] = conc_task_spawn(NULL, ordered_waiter, V(i), NULL);
    conc_sleep(0);
    conc_acond_acquire(&cond, -1);
    assert_true(conc_alock_locked(&shared));
    conc_acond_notify(&cond, 2);
    conc_acond_release(&cond);
    conc_sleep(0.005);
    assert_int_equal(nwoke, 2);
    conc_acond_acquire(&cond, -1);
    conc_acond_notify_all(&cond);
    conc_acond_release(&cond);
    for (int i = 0; i < 4; i++) {
        conc_await(conc_task_future(ts[i]), NULL);
        conc_task_release(ts[i]);
        assert_int_equal(woke_order[i], i);
    }
    return NULL;
}

static void notify_wakes_in_order(void **state) {
    (void)state;
    assert_int_equal(conc_run(notify_order, NULL, NULL), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(a_condition_passes_items_from_producer_to_consumer),
               cmocka_unit_test(wait_reacquires_after_timeout_and_cancellation),
               cmocka_unit_test(notify_wakes_in_order))
