/* Barrier: arrival indices, the action (run once per round by the last arriver; non-zero breaks),
 * abort, reset while threads wait, a timeout that breaks it for everyone, n_waiting, many rounds,
 * -EINTR in the main thread. */
#include "sync_util.h"

static void init_checks_parties(void **state) {
    (void)state;
    conc_barrier_t b;
    assert_int_equal(conc_barrier_init(&b, 0, NULL, NULL, 0), -EINVAL);
    assert_int_equal(conc_barrier_init(&b, 3, NULL, NULL, 0x10), -EINVAL);
    assert_int_equal(conc_barrier_init(&b, 3, NULL, NULL, CONC_PSHARED), 0);
    assert_int_equal(conc_barrier_parties(&b), 3);
    assert_int_equal(conc_barrier_n_waiting(&b), 0);
    assert_false(conc_barrier_broken(&b));
}

static int count_call(void *arg) {
    (*(int *)arg)++;
    return 0;
}

static void one_party_passes_alone(void **state) {
    (void)state;
    conc_barrier_t b;
    int calls = 0;
    assert_int_equal(conc_barrier_init(&b, 1, count_call, &calls, 0), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(conc_barrier_wait(&b, 0), 0);
    assert_int_equal(calls, 3);
}

/* Every round: indices 0..n-1 once each; the action runs once, in the thread that got n-1. */
enum { PARTIES = 4, ROUNDS = 200 };
struct rounds {
    conc_barrier_t b;
    unsigned seen[ROUNDS];   /* bit per index */
    int action_runs[ROUNDS]; /* by round */
    pthread_t action_by[ROUNDS];
    pthread_t last_by[ROUNDS]; /* thread that got index PARTIES - 1 */
    int round;                 /* advanced by the action, under the barrier's lock */
};

static int note_action(void *arg) {
    struct rounds *r = arg;
    r->action_runs[r->round]++;
    r->action_by[r->round] = pthread_self();
    r->round++;
    return 0;
}

static void *run_rounds(void *arg) {
    struct rounds *r = arg;
    for (int i = 0; i < ROUNDS; i++) {
        int idx = conc_barrier_wait(&r->b, 30);
        if (idx < 0 || idx >= PARTIES) return (void *)1;
        __atomic_fetch_or(&r->seen[i], 1u << idx, __ATOMIC_RELAXED);
        if (idx == PARTIES - 1) r->last_by[i] = pthread_self();
    }
    return NULL;
}

static void indices_and_action_over_many_rounds(void **state) {
    (void)state;
    struct rounds *r = calloc(1, sizeof *r);
    assert_non_null(r);
    assert_int_equal(conc_barrier_init(&r->b, PARTIES, note_action, r, 0), 0);
    pthread_t t[PARTIES];
    for (int i = 0; i < PARTIES; i++) t[i] = start_thread(run_rounds, r);
    for (int i = 0; i < PARTIES; i++) assert_null(join_thread(t[i]));
    assert_int_equal(r->round, ROUNDS);
    for (int i = 0; i < ROUNDS; i++) {
        assert_int_equal(r->seen[i], (1u << PARTIES) - 1);
        assert_int_equal(r->action_runs[i], 1);
        assert_true(pthread_equal(r->action_by[i], r->last_by[i]));
    }
    assert_int_equal(conc_barrier_n_waiting(&r->b), 0);
    assert_false(conc_barrier_broken(&r->b));
    free(r);
}

static void *wait_30(void *arg) {
    return (void *)(intptr_t)conc_barrier_wait(arg, 30);
}

static int fail_action(void *arg) {
    (*(int *)arg)++;
    return -1;
}

static void failing_action_breaks_the_barrier(void **state) {
    (void)state;
    conc_barrier_t b;
    int calls = 0;
    assert_int_equal(conc_barrier_init(&b, 3, fail_action, &calls, 0), 0);
    pthread_t t[2] = {start_thread(wait_30, &b), start_thread(wait_30, &b)};
    WAIT_UNTIL(conc_barrier_n_waiting(&b) == 2);
    assert_int_equal(conc_barrier_wait(&b, 30), CONC_EBROKEN); /* the last arriver, too */
    for (int i = 0; i < 2; i++) assert_int_equal((intptr_t)join_thread(t[i]), CONC_EBROKEN);
    assert_int_equal(calls, 1);
    assert_true(conc_barrier_broken(&b));
    assert_int_equal(conc_barrier_n_waiting(&b), 0);
    assert_int_equal(conc_barrier_wait(&b, 30), CONC_EBROKEN); /* stays broken */
    assert_int_equal(conc_barrier_reset(&b), 0);
    assert_false(conc_barrier_broken(&b));
}

static void abort_breaks_waiters_until_reset(void **state) {
    (void)state;
    conc_barrier_t b;
    assert_int_equal(conc_barrier_init(&b, 2, NULL, NULL, 0), 0);
    pthread_t t = start_thread(wait_30, &b);
    WAIT_UNTIL(conc_barrier_n_waiting(&b) == 1);
    conc_barrier_abort(&b);
    assert_int_equal((intptr_t)join_thread(t), CONC_EBROKEN);
    assert_true(conc_barrier_broken(&b));
    assert_int_equal(conc_barrier_wait(&b, 0), CONC_EBROKEN);
    assert_int_equal(conc_barrier_reset(&b), 0);
    assert_false(conc_barrier_broken(&b));
    t = start_thread(wait_30, &b);
    int mine = conc_barrier_wait(&b, 30);
    int theirs = (int)(intptr_t)join_thread(t);
    assert_true((mine == 0 && theirs == 1) || (mine == 1 && theirs == 0));
}

static void reset_while_waiting_breaks_them_then_works(void **state) {
    (void)state;
    conc_barrier_t b;
    assert_int_equal(conc_barrier_init(&b, 3, NULL, NULL, 0), 0);
    pthread_t t[3] = {start_thread(wait_30, &b), start_thread(wait_30, &b)};
    WAIT_UNTIL(conc_barrier_n_waiting(&b) == 2);
    assert_int_equal(conc_barrier_reset(&b), 0);
    for (int i = 0; i < 2; i++) assert_int_equal((intptr_t)join_thread(t[i]), CONC_EBROKEN);
    assert_false(conc_barrier_broken(&b));
    assert_int_equal(conc_barrier_n_waiting(&b), 0);
    /* usable again: a full round */
    t[0] = start_thread(wait_30, &b);
    t[1] = start_thread(wait_30, &b);
    t[2] = start_thread(wait_30, &b);
    unsigned seen = 0;
    for (int i = 0; i < 3; i++) {
        intptr_t idx = (intptr_t)join_thread(t[i]);
        assert_true(idx >= 0 && idx < 3);
        seen |= 1u << idx;
    }
    assert_int_equal(seen, 7);
}

static void timeout_breaks_it_for_everyone(void **state) {
    (void)state;
    conc_barrier_t b;
    assert_int_equal(conc_barrier_init(&b, 3, NULL, NULL, 0), 0);
    pthread_t t = start_thread(wait_30, &b);
    WAIT_UNTIL(conc_barrier_n_waiting(&b) == 1);
    double t0 = conc_monotonic();
    assert_int_equal(conc_barrier_wait(&b, 0.1), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.1 && took < 5);
    assert_int_equal((intptr_t)join_thread(t), CONC_EBROKEN);
    assert_true(conc_barrier_broken(&b));
    assert_int_equal(conc_barrier_wait(&b, 0.1), CONC_EBROKEN);
    assert_int_equal(conc_barrier_n_waiting(&b), 0);
}

static void n_waiting_counts_arrivals(void **state) {
    (void)state;
    conc_barrier_t b;
    assert_int_equal(conc_barrier_init(&b, 3, NULL, NULL, 0), 0);
    assert_int_equal(conc_barrier_n_waiting(&b), 0);
    pthread_t t[2];
    t[0] = start_thread(wait_30, &b);
    WAIT_UNTIL(conc_barrier_n_waiting(&b) == 1);
    t[1] = start_thread(wait_30, &b);
    WAIT_UNTIL(conc_barrier_n_waiting(&b) == 2);
    int idx = conc_barrier_wait(&b, 30);
    assert_int_equal(idx, 2);
    for (int i = 0; i < 2; i++) assert_int_equal((intptr_t)join_thread(t[i]), i);
    assert_int_equal(conc_barrier_n_waiting(&b), 0);
}

static int interrupted_wait(void *arg) {
    (void)arg;
    conc_barrier_t b;
    CHECK(conc_barrier_init(&b, 2, NULL, NULL, 0) == 0);
    double t0 = conc_monotonic();
    CHECK(conc_barrier_wait(&b, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    /* as a KeyboardInterrupt in Python: we left the round, nothing is broken */
    CHECK(conc_barrier_n_waiting(&b) == 0);
    CHECK(!conc_barrier_broken(&b));
    CHECK(conc_barrier_wait(&b, 0.05) == -ETIMEDOUT);
    return 0;
}

static void main_thread_wait_is_interrupted(void **state) {
    (void)state;
    run_interrupted(interrupted_wait, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(init_checks_parties), cmocka_unit_test(one_party_passes_alone),
               cmocka_unit_test(indices_and_action_over_many_rounds),
               cmocka_unit_test(failing_action_breaks_the_barrier),
               cmocka_unit_test(abort_breaks_waiters_until_reset),
               cmocka_unit_test(reset_while_waiting_breaks_them_then_works),
               cmocka_unit_test(timeout_breaks_it_for_everyone),
               cmocka_unit_test(n_waiting_counts_arrivals),
               cmocka_unit_test(main_thread_wait_is_interrupted))
