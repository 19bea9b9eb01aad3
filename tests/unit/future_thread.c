/* Futures between threads: completion wakes sleeping waiters, racing completers (exactly one wins),
 * callbacks registered while another thread completes (each runs exactly once). */
#include <math.h>
#include <pthread.h>
#include "conc.h"
#include "internal/future.h"
#include "test.h"

/* Wait until the main thread sleeps in conc_future_wait (it sets the waiters bit first), then
 * complete: the futex wake is what ends the wait. */
static void *complete_when_waited(void *arg) {
    conc_future_t *f = arg;
    while (!(__atomic_load_n(&f->state, __ATOMIC_ACQUIRE) & CONC__F_WAITERS))
        conc__wait(&f->state, CONC__F_PENDING, conc_deadline(0.001), false);
    static int v = 9;
    conc_future_set_result(f, &v);
    return NULL;
}

static void completion_in_another_thread_wakes_wait(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, complete_when_waited, f), 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_future_wait(f, 30), 0);
    assert_true(conc_monotonic() - t0 < 10);
    void *v;
    assert_int_equal(conc_future_result(f, &v), 0);
    assert_int_equal(*(int *)v, 9);
    pthread_join(th, NULL);
    conc_future_release(f);
}

#define NWAITERS 4
static void *waiter(void *arg) {
    conc_future_t *f = arg;
    return (void *)(intptr_t)conc_future_wait(f, 30);
}

static void completion_wakes_every_waiter(void **state) {
    (void)state;
    conc_future_t *f = conc_future_new();
    pthread_t th[NWAITERS];
    for (int i = 0; i < NWAITERS; i++) pthread_create(&th[i], NULL, waiter, f);
    /* until someone sleeps on it; the others may or may not have started: all must return 0 */
    while (!(__atomic_load_n(&f->state, __ATOMIC_ACQUIRE) & CONC__F_WAITERS))
        conc__wait(&f->state, CONC__F_PENDING, conc_deadline(0.001), false);
    conc_future_cancel(f);
    for (int i = 0; i < NWAITERS; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_int_equal((intptr_t)r, 0);
    }
    conc_future_release(f);
}

#define NRACERS 6
#define ROUNDS  300
struct race {
    conc_future_t *f;
    uint32_t go;
    int id;
    int won;
    int ids[NRACERS];
};
struct racer {
    struct race *r;
    int id;
};

static void wait_go(uint32_t *go) {
    while (!__atomic_load_n(go, __ATOMIC_ACQUIRE)) conc__wait(go, 0, INFINITY, false);
}

static void *race_to_complete(void *arg) {
    struct racer *me = arg;
    wait_go(&me->r->go);
    int r;
    switch (me->id % 3) {
    case 0: r = conc_future_set_result(me->r->f, &me->r->ids[me->id]); break;
    case 1: r = conc_future_set_error(me->r->f, -1000 - me->id); break;
    default: r = conc_future_cancel(me->r->f) ? 0 : -EINVAL; break;
    }
    if (r == 0) {
        __atomic_add_fetch(&me->r->won, 1, __ATOMIC_ACQ_REL);
        __atomic_store_n(&me->r->id, me->id, __ATOMIC_RELEASE);
    } else {
        assert_int_equal(r, -EINVAL);
    }
    return NULL;
}

static void racing_completers_exactly_one_wins(void **state) {
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        struct race r = {.f = conc_future_new()};
        struct racer me[NRACERS];
        pthread_t th[NRACERS];
        for (int i = 0; i < NRACERS; i++) {
            me[i] = (struct racer){&r, i};
            r.ids[i] = i;
            pthread_create(&th[i], NULL, race_to_complete, &me[i]);
        }
        __atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
        conc__futex_wake(&r.go, NRACERS, false);
        for (int i = 0; i < NRACERS; i++) pthread_join(th[i], NULL);
        assert_int_equal(r.won, 1);
        void *v;
        int rc = conc_future_result(r.f, &v);
        switch (r.id % 3) {
        case 0:
            assert_int_equal(rc, 0);
            assert_int_equal(*(int *)v, r.id);
            break;
        case 1: assert_int_equal(rc, -1000 - r.id); break;
        default: assert_int_equal(rc, -ECANCELED); assert_true(conc_future_cancelled(r.f));
        }
        conc_future_release(r.f);
    }
}

#define NCB 64
struct cbrace {
    conc_future_t *f;
    uint32_t go;
    int ran[NCB];
};

static void count(conc_future_t *f, void *arg) {
    (void)f;
    __atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
}

static void *add_many(void *arg) {
    struct cbrace *c = arg;
    wait_go(&c->go);
    for (int i = 0; i < NCB; i++)
        assert_int_equal(conc_future_add_done_callback(c->f, count, &c->ran[i]), 0);
    return NULL;
}

static void *complete_now(void *arg) {
    struct cbrace *c = arg;
    wait_go(&c->go);
    conc_future_set_result(c->f, NULL);
    return NULL;
}

static void callbacks_added_during_completion_run_once(void **state) {
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        struct cbrace c = {.f = conc_future_new()};
        pthread_t a, b, d;
        pthread_create(&a, NULL, add_many, &c);
        pthread_create(&d, NULL, add_many, &c);
        pthread_create(&b, NULL, complete_now, &c);
        __atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
        conc__futex_wake(&c.go, 3, false);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        pthread_join(d, NULL);
        for (int i = 0; i < NCB; i++)
            assert_int_equal(__atomic_load_n(&c.ran[i], __ATOMIC_RELAXED), 2);
        conc_future_release(c.f);
    }
}

CONC_TEST_MAIN(cmocka_unit_test(completion_in_another_thread_wakes_wait),
               cmocka_unit_test(completion_wakes_every_waiter),
               cmocka_unit_test(racing_completers_exactly_one_wins),
               cmocka_unit_test(callbacks_added_during_completion_run_once))
