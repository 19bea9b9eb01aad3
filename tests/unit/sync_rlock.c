/* RLock: recursion, ownership (-EPERM for others), timeouts, hand-over to a sleeping waiter, a
 * stress count with nested acquires, -EINTR in the main thread. */
#include "sync_util.h"
#include "internal/sync.h"

static void init_and_static_initializer(void **state) {
    (void)state;
    conc_rlock_t a = CONC_RLOCK_INIT, b;
    assert_int_equal(conc_rlock_release(&a), -EPERM);
    assert_int_equal(conc_rlock_init(&b, 0), 0);
    assert_int_equal(conc_rlock_init(&b, CONC_PSHARED), 0);
    assert_int_equal(conc_rlock_init(&b, 0x40), -EINVAL);
}

static void recursion_counts_levels(void **state) {
    (void)state;
    conc_rlock_t r = CONC_RLOCK_INIT;
    for (int i = 0; i < 3; i++) assert_int_equal(conc_rlock_acquire(&r, -1), 0);
    assert_int_equal(conc_rlock_acquire(&r, 0), 0); /* re-entry never waits */
    for (int i = 0; i < 4; i++) assert_int_equal(conc_rlock_release(&r), 0);
    assert_int_equal(conc_rlock_release(&r), -EPERM);
    assert_int_equal(LOAD(&r._priv.word), 0);
}

struct probe {
    conc_rlock_t *r;
    int release, poll, timed;
    double took;
};

static void *probe_from_other_thread(void *arg) {
    struct probe *p = arg;
    p->release = conc_rlock_release(p->r);
    p->poll = conc_rlock_acquire(p->r, 0);
    double t0 = conc_monotonic();
    p->timed = conc_rlock_acquire(p->r, 0.1);
    p->took = conc_monotonic() - t0;
    return NULL;
}

static void other_threads_can_neither_release_nor_enter(void **state) {
    (void)state;
    conc_rlock_t r = CONC_RLOCK_INIT;
    assert_int_equal(conc_rlock_acquire(&r, -1), 0);
    assert_int_equal(conc_rlock_acquire(&r, -1), 0);
    struct probe p = {&r, 0, 0, 0, 0};
    join_thread(start_thread(probe_from_other_thread, &p));
    assert_int_equal(p.release, -EPERM);
    assert_int_equal(p.poll, -ETIMEDOUT);
    assert_int_equal(p.timed, -ETIMEDOUT);
    assert_true(p.took >= 0.1 && p.took < 5);
    /* still ours, at depth 2 */
    assert_int_equal(conc_rlock_release(&r), 0);
    assert_int_equal(conc_rlock_release(&r), 0);
    assert_int_equal(conc_rlock_release(&r), -EPERM);
}

struct taker {
    conc_rlock_t *r;
    int got;
};

static void *take_twice_forever(void *arg) {
    struct taker *t = arg;
    int r1 = conc_rlock_acquire(t->r, CONC_FOREVER);
    int r2 = conc_rlock_acquire(t->r, CONC_FOREVER);
    STORE(&t->got, 1);
    int r3 = conc_rlock_release(t->r), r4 = conc_rlock_release(t->r);
    return (void *)(intptr_t)(r1 || r2 || r3 || r4);
}

static void sleeping_waiter_gets_it_on_last_release(void **state) {
    (void)state;
    conc_rlock_t r = CONC_RLOCK_INIT;
    struct taker t = {&r, 0};
    assert_int_equal(conc_rlock_acquire(&r, -1), 0);
    assert_int_equal(conc_rlock_acquire(&r, -1), 0);
    pthread_t th = start_thread(take_twice_forever, &t);
    WAIT_UNTIL(LOAD(&r._priv.word) & CONC__MUTEX_WAITERS);
    assert_int_equal(conc_rlock_release(&r), 0); /* depth 1: still held */
    assert_int_equal(LOAD(&t.got), 0);
    assert_int_equal(conc_rlock_release(&r), 0);
    assert_null(join_thread(th));
    assert_int_equal(LOAD(&t.got), 1);
    assert_int_equal(LOAD(&r._priv.word), 0);
}

enum { NTHREADS = 4, ITERS = 20000 };
struct counter {
    conc_rlock_t r;
    long n;
};

static void *count_nested(void *arg) {
    struct counter *c = arg;
    for (int i = 0; i < ITERS; i++) {
        if (conc_rlock_acquire(&c->r, CONC_FOREVER) != 0) return (void *)1;
        if (conc_rlock_acquire(&c->r, (i & 1) ? 0 : CONC_FOREVER) != 0) return (void *)2;
        c->n++;
        if (conc_rlock_release(&c->r) != 0 || conc_rlock_release(&c->r) != 0) return (void *)3;
    }
    return NULL;
}

static void stress_exact_count(void **state) {
    (void)state;
    struct counter c = {CONC_RLOCK_INIT, 0};
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) t[i] = start_thread(count_nested, &c);
    for (int i = 0; i < NTHREADS; i++) assert_null(join_thread(t[i]));
    assert_int_equal(c.n, (long)NTHREADS * ITERS);
    assert_int_equal(LOAD(&c.r._priv.word), 0);
}

static void *hold_forever(void *arg) {
    struct taker *t = arg;
    conc_rlock_acquire(t->r, -1);
    STORE(&t->got, 1);
    /* wait until the main thread has finished, then let go */
    while (LOAD(&t->got) != 2) sched_yield();
    conc_rlock_release(t->r);
    return NULL;
}

static int interrupted_acquire(void *arg) {
    (void)arg;
    conc_rlock_t r = CONC_RLOCK_INIT;
    struct taker t = {&r, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, hold_forever, &t) == 0);
    while (LOAD(&t.got) != 1) sched_yield();
    double t0 = conc_monotonic();
    CHECK(conc_rlock_acquire(&r, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(conc_rlock_release(&r) == -EPERM); /* we got nothing */
    CHECK(conc_rlock_acquire(&r, 0.05) == -ETIMEDOUT);
    STORE(&t.got, 2);
    pthread_join(th, NULL);
    CHECK(conc_rlock_acquire(&r, 0) == 0);
    CHECK(conc_rlock_release(&r) == 0);
    return 0;
}

static void main_thread_acquire_is_interrupted(void **state) {
    (void)state;
    run_interrupted(interrupted_acquire, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(init_and_static_initializer),
               cmocka_unit_test(recursion_counts_levels),
               cmocka_unit_test(other_threads_can_neither_release_nor_enter),
               cmocka_unit_test(sleeping_waiter_gets_it_on_last_release),
               cmocka_unit_test(stress_exact_count),
               cmocka_unit_test(main_thread_acquire_is_interrupted))
