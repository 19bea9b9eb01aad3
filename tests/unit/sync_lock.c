/* Lock: acquire/release, -EPERM, timeouts, release from another thread, sleeping waiters, a stress
 * count with plain and timed acquirers, progress for every thread under hammering, -EINTR in the
 * main thread. */
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

/* Threads that release and re-take the lock at once, doing nothing in between: a lock that lets the
 * nearest thread barge in forever would leave one of them at zero. Each must reach GOAL
 * acquisitions while the others keep hammering; the bound is generous (sanitizers, a busy host)
 * but finite. With impatient set, the last thread uses short timeouts and gives up now and then,
 * even after it has asked for a hand-off, and must still get its turn. */
enum { RACERS = 3, GOAL = 2000 };
struct race {
    conc_lock_t l;
    long n[RACERS];
    int racers;
    bool impatient;
    double end;
};
struct racer {
    struct race *r;
    int i;
};

static bool race_over(struct race *r) {
    if (conc_monotonic() > r->end) return true;
    for (int i = 0; i < r->racers; i++)
        if (__atomic_load_n(&r->n[i], __ATOMIC_RELAXED) < GOAL) return false;
    return true;
}

static void *race(void *arg) {
    struct racer *me = arg;
    struct race *r = me->r;
    bool timed = r->impatient && me->i == r->racers - 1;
    while (!race_over(r)) {
        int rc = conc_lock_acquire(&r->l, timed ? 0.002 : CONC_FOREVER);
        if (rc == -ETIMEDOUT && timed) continue;
        if (rc != 0) return (void *)1;
        __atomic_store_n(&r->n[me->i], r->n[me->i] + 1, __ATOMIC_RELAXED);
        conc_lock_release(&r->l);
    }
    return NULL;
}

static void run_race(int racers, bool impatient) {
    struct race r = {CONC_LOCK_INIT, {0}, racers, impatient, conc_monotonic() + 30};
    struct racer who[RACERS];
    pthread_t t[RACERS];
    for (int i = 0; i < racers; i++) {
        who[i] = (struct racer){&r, i};
        t[i] = start_thread(race, &who[i]);
    }
    for (int i = 0; i < racers; i++) assert_null(join_thread(t[i]));
    for (int i = 0; i < racers; i++) assert_true(r.n[i] >= GOAL);
    assert_false(conc_lock_locked(&r.l));
}

static void two_hammering_threads_both_progress(void **state) {
    (void)state;
    run_race(2, false);
}

static void a_timed_waiter_among_hammering_threads_progresses(void **state) {
    (void)state;
    run_race(3, true);
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
               cmocka_unit_test(two_hammering_threads_both_progress),
               cmocka_unit_test(a_timed_waiter_among_hammering_threads_progresses),
               cmocka_unit_test(main_thread_acquire_is_interrupted))
