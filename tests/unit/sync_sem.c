/* Semaphore and BoundedSemaphore: counting, timeouts, -EOVERFLOW leaving the value alone,
 * release(n) letting exactly n sleepers through, stress as a lock and as a producer/consumer
 * channel, -EINTR in the main thread. */
#include <limits.h>
#include "sync_util.h"

static void init_flags_and_static_initializer(void **state) {
    (void)state;
    conc_sem_t a = CONC_SEM_INIT(3), b;
    assert_int_equal(conc_sem_value(&a), 3);
    assert_int_equal(conc_sem_release(&a, 5), 0); /* unbounded */
    assert_int_equal(conc_sem_value(&a), 8);
    assert_int_equal(conc_sem_init(&b, 2, CONC_BOUNDED | CONC_PSHARED), 0);
    assert_int_equal(conc_sem_init(&b, 2, 0x10), -EINVAL);
    conc_sem_t c = CONC_BOUNDED_SEM_INIT(1);
    assert_int_equal(conc_sem_release(&c, 1), -EOVERFLOW);
    assert_int_equal(conc_sem_acquire(&c, 0), 0);
    assert_int_equal(conc_sem_release(&c, 1), 0);
    assert_int_equal(conc_sem_value(&c), 1);
}

static void counts_down_then_times_out(void **state) {
    (void)state;
    conc_sem_t s;
    assert_int_equal(conc_sem_init(&s, 2, 0), 0);
    assert_int_equal(conc_sem_acquire(&s, -1), 0);
    assert_int_equal(conc_sem_acquire(&s, 0), 0);
    assert_int_equal(conc_sem_value(&s), 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_sem_acquire(&s, 0), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 < 1);
    t0 = conc_monotonic();
    assert_int_equal(conc_sem_acquire(&s, 0.1), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.1 && took < 5);
    assert_int_equal(conc_sem_value(&s), 0);
    assert_int_equal(conc_sem_release(&s, 1), 0);
    assert_int_equal(conc_sem_value(&s), 1);
    assert_int_equal(conc_sem_release(&s, 0), -EINVAL);
    assert_int_equal(conc_sem_value(&s), 1);
}

static void bounded_release_past_initial_fails_and_changes_nothing(void **state) {
    (void)state;
    conc_sem_t s;
    assert_int_equal(conc_sem_init(&s, 2, CONC_BOUNDED), 0);
    assert_int_equal(conc_sem_release(&s, 1), -EOVERFLOW);
    assert_int_equal(conc_sem_value(&s), 2);
    assert_int_equal(conc_sem_acquire(&s, 0), 0);
    assert_int_equal(conc_sem_release(&s, 2), -EOVERFLOW); /* 1 + 2 > 2: none released */
    assert_int_equal(conc_sem_value(&s), 1);
    assert_int_equal(conc_sem_release(&s, UINT_MAX), -EOVERFLOW);
    assert_int_equal(conc_sem_value(&s), 1);
    assert_int_equal(conc_sem_release(&s, 1), 0);
    assert_int_equal(conc_sem_value(&s), 2);
    /* an unbounded one refuses only to wrap around */
    conc_sem_t u;
    assert_int_equal(conc_sem_init(&u, UINT_MAX - 1, 0), 0);
    assert_int_equal(conc_sem_release(&u, 2), -EOVERFLOW);
    assert_int_equal(conc_sem_value(&u), UINT_MAX - 1);
    assert_int_equal(conc_sem_release(&u, 1), 0);
}

struct gate {
    conc_sem_t s;
    int passed;
};

static void *pass_gate(void *arg) {
    struct gate *g = arg;
    int r = conc_sem_acquire(&g->s, 30);
    if (r == 0) INC(&g->passed);
    return (void *)(intptr_t)r;
}

static void release_n_lets_exactly_n_through(void **state) {
    (void)state;
    struct gate g = {CONC_SEM_INIT(0), 0};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) t[i] = start_thread(pass_gate, &g);
    WAIT_UNTIL(LOAD(&g.s._priv.waiters) == 3);
    assert_int_equal(conc_sem_release(&g.s, 2), 0);
    WAIT_UNTIL(LOAD(&g.passed) == 2);
    /* two units were taken; the third thread cannot have passed */
    WAIT_UNTIL(LOAD(&g.s._priv.waiters) == 1);
    assert_int_equal(conc_sem_value(&g.s), 0);
    assert_int_equal(LOAD(&g.passed), 2);
    assert_int_equal(conc_sem_release(&g.s, 1), 0);
    for (int i = 0; i < 3; i++) assert_int_equal((intptr_t)join_thread(t[i]), 0);
    assert_int_equal(g.passed, 3);
    assert_int_equal(conc_sem_value(&g.s), 0);
}

enum { NTHREADS = 4, ITERS = 20000 };
struct counter {
    conc_sem_t s;
    long n;
};

static void *count_under_sem(void *arg) {
    struct counter *c = arg;
    for (int i = 0; i < ITERS; i++) {
        int r;
        while ((r = conc_sem_acquire(&c->s, (i & 3) ? CONC_FOREVER : 0.0001)) == -ETIMEDOUT) {
        }
        if (r != 0) return (void *)1;
        c->n++;
        if (conc_sem_release(&c->s, 1) != 0) return (void *)2;
    }
    return NULL;
}

static void stress_as_a_lock(void **state) {
    (void)state;
    struct counter c;
    assert_int_equal(conc_sem_init(&c.s, 1, CONC_BOUNDED), 0);
    c.n = 0;
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) t[i] = start_thread(count_under_sem, &c);
    for (int i = 0; i < NTHREADS; i++) assert_null(join_thread(t[i]));
    assert_int_equal(c.n, (long)NTHREADS * ITERS);
    assert_int_equal(conc_sem_value(&c.s), 1);
}

/* Producers release items one or several at a time; consumers take exactly as many. */
struct channel {
    conc_sem_t items;
    long taken;
};

static void *produce(void *arg) {
    struct channel *ch = arg;
    for (int i = 0; i < ITERS;) {
        unsigned n = (unsigned)(i % 3) + 1;
        if (conc_sem_release(&ch->items, n) != 0) return (void *)1;
        i += (int)n;
    }
    return NULL;
}

static void *consume(void *arg) {
    struct channel *ch = arg;
    for (int i = 0; i < ITERS; i++) {
        if (conc_sem_acquire(&ch->items, 30) != 0) return (void *)1;
        __atomic_add_fetch(&ch->taken, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void stress_producers_and_consumers(void **state) {
    (void)state;
    struct channel ch = {CONC_SEM_INIT(0), 0};
    pthread_t t[4];
    t[0] = start_thread(consume, &ch);
    t[1] = start_thread(consume, &ch);
    t[2] = start_thread(produce, &ch);
    t[3] = start_thread(produce, &ch);
    for (int i = 0; i < 4; i++) assert_null(join_thread(t[i]));
    /* each producer released at least ITERS (it may overshoot by up to 2) */
    assert_int_equal(ch.taken, 2L * ITERS);
    assert_true(conc_sem_value(&ch.items) <= 4);
}

static int interrupted_acquire(void *arg) {
    (void)arg;
    conc_sem_t s = CONC_SEM_INIT(0);
    double t0 = conc_monotonic();
    CHECK(conc_sem_acquire(&s, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(conc_sem_value(&s) == 0);
    CHECK(LOAD(&s._priv.waiters) == 0);
    CHECK(conc_sem_acquire(&s, 0.05) == -ETIMEDOUT);
    return 0;
}

static void main_thread_acquire_is_interrupted(void **state) {
    (void)state;
    run_interrupted(interrupted_acquire, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(init_flags_and_static_initializer),
               cmocka_unit_test(counts_down_then_times_out),
               cmocka_unit_test(bounded_release_past_initial_fails_and_changes_nothing),
               cmocka_unit_test(release_n_lets_exactly_n_through),
               cmocka_unit_test(stress_as_a_lock), cmocka_unit_test(stress_producers_and_consumers),
               cmocka_unit_test(main_thread_acquire_is_interrupted))
