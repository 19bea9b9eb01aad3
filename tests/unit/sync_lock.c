/* Lock: acquire/release, -EPERM, timeouts, release from another thread, sleeping waiters, a stress
 * count with plain and timed acquirers, -EINTR in the main thread. */
#include "sync_util.h"
#include "internal/sync.h"

static void init_and_static_initializer(void **state) {
    (void)state;
    conc_lock_t a = CONC_LOCK_INIT, b;
    assert_false(conc_lock_locked(&a));
    assert_int_equal(conc_lock_init(&b, 0), 0);
    assert_int_equal(conc_lock_init(&b, CONC_PSHARED), 0);
    assert_int_equal(conc_lock_init(&b, 0x80), -EINVAL);
    assert_int_equal(conc_lock_init(&b, CONC_BOUNDED), -EINVAL);
}

static void acquire_release_and_eperm(void **state) {
    (void)state;
    conc_lock_t l = CONC_LOCK_INIT;
    assert_int_equal(conc_lock_release(&l), -EPERM);
    assert_int_equal(conc_lock_acquire(&l, CONC_FOREVER), 0);
    assert_true(conc_lock_locked(&l));
    assert_int_equal(conc_lock_release(&l), 0);
    assert_false(conc_lock_locked(&l));
    assert_int_equal(conc_lock_release(&l), -EPERM);
    assert_false(conc_lock_locked(&l));
    assert_int_equal(conc_lock_acquire(&l, 0), 0);
    assert_int_equal(conc_lock_release(&l), 0);
}

static void poll_on_a_held_lock_times_out_at_once(void **state) {
    (void)state;
    conc_lock_t l = CONC_LOCK_INIT;
    assert_int_equal(conc_lock_acquire(&l, CONC_FOREVER), 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_lock_acquire(&l, 0), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 < 1);
    assert_true(conc_lock_locked(&l));
    assert_int_equal(conc_lock_release(&l), 0);
}

static void timeout_waits_at_least_the_timeout(void **state) {
    (void)state;
    conc_lock_t l = CONC_LOCK_INIT;
    assert_int_equal(conc_lock_acquire(&l, -1), 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_lock_acquire(&l, 0.1), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.1);
    assert_true(took < 5);
    assert_int_equal(conc_lock_release(&l), 0);
}

static void *release_it(void *arg) {
    return (void *)(intptr_t)conc_lock_release(arg);
}

static void another_thread_may_release(void **state) {
    (void)state;
    conc_lock_t l = CONC_LOCK_INIT;
    assert_int_equal(conc_lock_acquire(&l, -1), 0);
    assert_int_equal((intptr_t)join_thread(start_thread(release_it, &l)), 0);
    assert_false(conc_lock_locked(&l));
    /* and a thread blocked in acquire is let in by another thread's release */
    assert_int_equal(conc_lock_acquire(&l, -1), 0);
    pthread_t t = start_thread(release_it, &l);
    assert_int_equal(conc_lock_acquire(&l, 30), 0);
    assert_int_equal((intptr_t)join_thread(t), 0);
    assert_int_equal(conc_lock_release(&l), 0);
}

struct sleeper {
    conc_lock_t *l;
    int got;
};

static void *acquire_forever(void *arg) {
    struct sleeper *s = arg;
    int r = conc_lock_acquire(s->l, CONC_FOREVER);
    STORE(&s->got, 1);
    if (r == 0) conc_lock_release(s->l);
    return (void *)(intptr_t)r;
}

static void sleeping_waiter_is_woken_by_release(void **state) {
    (void)state;
    conc_lock_t l = CONC_LOCK_INIT;
    struct sleeper s = {&l, 0};
    assert_int_equal(conc_lock_acquire(&l, -1), 0);
    pthread_t t = start_thread(acquire_forever, &s);
    /* the waiter has given up spinning and announced itself */
    WAIT_UNTIL(LOAD(&l._priv.word) & CONC__MUTEX_WAITERS);
    assert_int_equal(LOAD(&s.got), 0);
    assert_int_equal(conc_lock_release(&l), 0);
    assert_int_equal((intptr_t)join_thread(t), 0);
    assert_int_equal(LOAD(&s.got), 1);
    assert_false(conc_lock_locked(&l));
}

/* N threads, some blocking forever, some with tiny timeouts that keep giving up: the count is exact
 * and nobody is left asleep on a free lock (a wake-up lost by a leaving waiter would hang here). */
enum { NTHREADS = 4, ITERS = 20000 };
struct counter {
    conc_lock_t l;
    long n;
    long timeouts;
};

static void *count_forever(void *arg) {
    struct counter *c = arg;
    for (int i = 0; i < ITERS; i++) {
        if (conc_lock_acquire(&c->l, CONC_FOREVER) != 0) return (void *)1;
        c->n++;
        conc_lock_release(&c->l);
    }
    return NULL;
}

static void *count_impatiently(void *arg) {
    struct counter *c = arg;
    for (int i = 0; i < ITERS;) {
        int r = conc_lock_acquire(&c->l, (i & 1) ? 0.0001 : 0);
        if (r == -ETIMEDOUT) {
            __atomic_add_fetch(&c->timeouts, 1, __ATOMIC_RELAXED);
            continue;
        }
        if (r != 0) return (void *)1;
        c->n++;
        i++;
        conc_lock_release(&c->l);
    }
    return NULL;
}

static void stress_exact_count(void **state) {
    (void)state;
    struct counter c = {CONC_LOCK_INIT, 0, 0};
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        t[i] = start_thread(i % 2 ? count_impatiently : count_forever, &c);
    for (int i = 0; i < NTHREADS; i++) assert_null(join_thread(t[i]));
    assert_int_equal(c.n, (long)NTHREADS * ITERS);
    assert_false(conc_lock_locked(&c.l));
}

static int interrupted_acquire(void *arg) {
    (void)arg;
    conc_lock_t l = CONC_LOCK_INIT;
    CHECK(conc_lock_acquire(&l, -1) == 0);
    double t0 = conc_monotonic();
    CHECK(conc_lock_acquire(&l, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(conc_lock_locked(&l));
    /* the interrupt was consumed: the next wait times out normally */
    CHECK(conc_lock_acquire(&l, 0.05) == -ETIMEDOUT);
    CHECK(conc_lock_release(&l) == 0);
    return 0;
}

static void main_thread_acquire_is_interrupted(void **state) {
    (void)state;
    run_interrupted(interrupted_acquire, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(init_and_static_initializer),
               cmocka_unit_test(acquire_release_and_eperm),
               cmocka_unit_test(poll_on_a_held_lock_times_out_at_once),
               cmocka_unit_test(timeout_waits_at_least_the_timeout),
               cmocka_unit_test(another_thread_may_release),
               cmocka_unit_test(sleeping_waiter_is_woken_by_release),
               cmocka_unit_test(stress_exact_count),
               cmocka_unit_test(main_thread_acquire_is_interrupted))
