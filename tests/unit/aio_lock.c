/* Async Lock, Event and Semaphore: exclusion, order, timeouts, and cancellation safety - a task
 * cancelled while waiting holds nothing; one cancelled after the hand-over keeps what it got. */
#include <stdint.h>
#include "conc.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static conc_alock_t lock = CONC_ALOCK_INIT;
static int inside, max_inside, order[16], norder;

static void *locker(void *arg) {
    assert_int_equal(conc_alock_acquire(&lock, -1), 0);
    order[norder++] = I(arg);
    inside++;
    if (inside > max_inside) max_inside = inside;
    conc_sleep(0);
    conc_sleep(0.001);
    inside--;
    assert_int_equal(conc_alock_release(&lock), 0);
    return NULL;
}

static void *exclusion(void *arg) {
    (void)arg;
    conc_task_t *ts[8];
    for (int i = 0; i < 8; i++) ts[i] = conc_task_spawn(NULL, locker, V(i), NULL);
    for (int i = 0; i < 8; i++) {
        conc_await(conc_task_future(ts[i]), NULL);
        conc_task_release(ts[i]);
    }
    return NULL;
}

static void the_lock_excludes_and_serves_in_order(void **state) {
    (void)state;
    norder = max_inside = 0;
    assert_int_equal(conc_run(exclusion, NULL, NULL), 0);
    assert_int_equal(max_inside, 1);
    for (int i = 0; i < 8; i++) assert_int_equal(order[i], i);
    assert_false(conc_alock_locked(&lock));
    assert_int_equal(conc_alock_release(&lock), -EPERM);
    assert_int_equal(conc_alock_acquire(&lock, -1), -EPERM); /* outside a task */
}

static int waiter_result;
static bool waiter_holds;
static void *lock_waiter(void *arg) {
    (void)arg;
    waiter_result = conc_alock_acquire(&lock, -1);
    waiter_holds = waiter_result == 0;
    if (waiter_holds) {
        /* a cancellation that came after the hand-over shows up here */
        int r = conc_sleep(0);
        conc_alock_release(&lock);
        if (r == -ECANCELED) return conc_task_error(-ECANCELED);
    }
    return NULL;
}

static void *cancel_waiting(void *arg) {
    (void)arg;
    /* cancelled while waiting: does not get the lock */
    assert_int_equal(conc_alock_acquire(&lock, -1), 0);
    conc_task_t *w = conc_task_spawn(NULL, lock_waiter, NULL, NULL);
    conc_sleep(0);
    conc_task_cancel(w);
    assert_int_equal(conc_await(conc_task_future(w), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(waiter_result, -ECANCELED);
    assert_false(waiter_holds);
    assert_int_equal(conc_alock_release(&lock), 0);
    assert_false(conc_alock_locked(&lock)); /* not handed to the cancelled waiter */
    conc_task_release(w);
    /* cancelled right after the hand-over: it owns the lock, and releases it */
    assert_int_equal(conc_alock_acquire(&lock, -1), 0);
    w = conc_task_spawn(NULL, lock_waiter, NULL, NULL);
    conc_sleep(0);
    conc_alock_release(&lock); /* handed to w */
    assert_true(conc_alock_locked(&lock));
    conc_task_cancel(w);
    assert_int_equal(conc_await(conc_task_future(w), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(waiter_result, 0);
    assert_true(waiter_holds);
    assert_false(conc_alock_locked(&lock));
    conc_task_release(w);
    return NULL;
}

static void a_cancelled_waiter_never_holds_the_lock_unknowingly(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_waiting, NULL, NULL), 0);
}

static void *lock_timeouts(void *arg) {
    (void)arg;
    assert_int_equal(conc_alock_acquire(&lock, 0), 0);
    assert_int_equal(conc_alock_acquire(&lock, 0), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(conc_alock_acquire(&lock, 0.02), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 >= 0.02);
    assert_int_equal(conc_alock_release(&lock), 0);
    assert_false(conc_alock_locked(&lock));
    return NULL;
}

static void lock_acquire_times_out(void **state) {
    (void)state;
    assert_int_equal(conc_run(lock_timeouts, NULL, NULL), 0);
}

/* ---- Event ---- */
static conc_aevent_t ev = CONC_AEVENT_INIT;
static int woken;
static void *event_waiter(void *arg) {
    (void)arg;
    if (conc_aevent_wait(&ev, -1) == 0) woken++;
    return NULL;
}

static void *event_cases(void *arg) {
    (void)arg;
    conc_aevent_init(&ev);
    woken = 0;
    conc_task_t *ts[5];
    for (int i = 0; i < 5; i++) ts[i] = conc_task_spawn(NULL, event_waiter, NULL, NULL);
    conc_sleep(0);
    assert_int_equal(woken, 0);
    conc_aevent_set(&ev);
    conc_aevent_clear(&ev); /* too late to take it back from the woken waiters */
    for (int i = 0; i < 5; i++) {
        conc_await(conc_task_future(ts[i]), NULL);
        conc_task_release(ts[i]);
    }
    assert_int_equal(woken, 5);
    assert_false(conc_aevent_is_set(&ev));
    assert_int_equal(conc_aevent_wait(&ev, 0.01), -ETIMEDOUT);
    conc_aevent_set(&ev);
    assert_int_equal(conc_aevent_wait(&ev, 0), 0);
    return NULL;
}

static void an_event_wakes_every_waiter(void **state) {
    (void)state;
    assert_int_equal(conc_run(event_cases, NULL, NULL), 0);
}

/* ---- Semaphore ---- */
static conc_asem_t sem;
static int sem_result;
static void *sem_waiter(void *arg) {
    (void)arg;
    sem_result = conc_asem_acquire(&sem, -1);
    return NULL;
}

static void *sem_cases(void *arg) {
    (void)arg;
    assert_int_equal(conc_asem_init(&sem, 2, CONC_BOUNDED), 0);
    assert_int_equal(conc_asem_release(&sem), -EOVERFLOW);
    assert_int_equal(conc_asem_acquire(&sem, -1), 0);
    assert_int_equal(conc_asem_acquire(&sem, 0), 0);
    assert_true(conc_asem_locked(&sem));
    assert_int_equal(conc_asem_acquire(&sem, 0), -ETIMEDOUT);
    /* a cancelled waiter consumes no permit */
    conc_task_t *w = conc_task_spawn(NULL, sem_waiter, NULL, NULL);
    conc_sleep(0);
    conc_task_cancel(w);
    conc_await(conc_task_future(w), NULL);
    conc_task_uncancel();
    assert_int_equal(sem_result, -ECANCELED);
    assert_int_equal(conc_asem_release(&sem), 0);
    assert_int_equal(conc_asem_value(&sem), 1);
    conc_task_release(w);
    /* a waiter gets the released permit directly */
    assert_int_equal(conc_asem_acquire(&sem, -1), 0);
    w = conc_task_spawn(NULL, sem_waiter, NULL, NULL);
    conc_sleep(0);
    assert_int_equal(conc_asem_release(&sem), 0);
    assert_int_equal(conc_asem_value(&sem), 0);
    conc_await(conc_task_future(w), NULL);
    assert_int_equal(sem_result, 0);
    conc_task_release(w);
    assert_int_equal(conc_asem_release(&sem), 0);
    assert_int_equal(conc_asem_release(&sem), 0);
    assert_int_equal(conc_asem_release(&sem), -EOVERFLOW);
    assert_int_equal(conc_asem_value(&sem), 2);
    return NULL;
}

static void semaphore_permits_and_cancellation(void **state) {
    (void)state;
    assert_int_equal(conc_run(sem_cases, NULL, NULL), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(the_lock_excludes_and_serves_in_order),
               cmocka_unit_test(a_cancelled_waiter_never_holds_the_lock_unknowingly),
               cmocka_unit_test(lock_acquire_times_out),
               cmocka_unit_test(an_event_wakes_every_waiter),
               cmocka_unit_test(semaphore_permits_and_cancellation))
