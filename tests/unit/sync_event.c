/* Event: set/clear/is_set, timeouts, set waking every waiter (also when clear follows at once, as
 * in Python), many set/clear rounds between two threads, -EINTR in the main thread. */
#include "sync_util.h"

static void set_clear_and_poll(void **state) {
    (void)state;
    conc_event_t e = CONC_EVENT_INIT, f;
    assert_int_equal(conc_event_init(&f, CONC_PSHARED), 0);
    assert_int_equal(conc_event_init(&f, 0x8), -EINVAL);
    assert_false(conc_event_is_set(&e));
    double t0 = conc_monotonic();
    assert_int_equal(conc_event_wait(&e, 0), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 < 1);
    conc_event_set(&e);
    assert_true(conc_event_is_set(&e));
    conc_event_set(&e); /* idempotent */
    assert_true(conc_event_is_set(&e));
    assert_int_equal(conc_event_wait(&e, 0), 0);
    assert_int_equal(conc_event_wait(&e, CONC_FOREVER), 0);
    conc_event_clear(&e);
    assert_false(conc_event_is_set(&e));
    conc_event_clear(&e);
    assert_false(conc_event_is_set(&e));
    assert_int_equal(conc_event_wait(&e, 0), -ETIMEDOUT);
}

static void timeout_waits_at_least_the_timeout(void **state) {
    (void)state;
    conc_event_t e = CONC_EVENT_INIT;
    double t0 = conc_monotonic();
    assert_int_equal(conc_event_wait(&e, 0.1), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.1 && took < 5);
    assert_int_equal(LOAD(&e._priv.waiters), 0);
}

struct crowd {
    conc_event_t e;
    int ok;
};

static void *wait_for_it(void *arg) {
    struct crowd *c = arg;
    if (conc_event_wait(&c->e, 30) == 0) INC(&c->ok);
    return NULL;
}

static void set_wakes_every_waiter(void **state) {
    (void)state;
    struct crowd c = {CONC_EVENT_INIT, 0};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) t[i] = start_thread(wait_for_it, &c);
    WAIT_UNTIL(LOAD(&c.e._priv.waiters) == 3);
    conc_event_set(&c.e);
    for (int i = 0; i < 3; i++) join_thread(t[i]);
    assert_int_equal(c.ok, 3);
    assert_int_equal(LOAD(&c.e._priv.waiters), 0);
}

static void set_then_clear_still_wakes_the_waiters(void **state) {
    (void)state;
    struct crowd c = {CONC_EVENT_INIT, 0};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) t[i] = start_thread(wait_for_it, &c);
    WAIT_UNTIL(LOAD(&c.e._priv.waiters) == 3);
    conc_event_set(&c.e);
    conc_event_clear(&c.e);
    for (int i = 0; i < 3; i++) join_thread(t[i]);
    assert_int_equal(c.ok, 3);
    assert_false(conc_event_is_set(&c.e));
}

enum { ROUNDS = 5000 };
struct pingpong {
    conc_event_t ping, pong;
    long seen; /* written before set, read after wait */
};

static void *pong_side(void *arg) {
    struct pingpong *p = arg;
    for (long i = 0; i < ROUNDS; i++) {
        if (conc_event_wait(&p->ping, 30) != 0) return (void *)1;
        conc_event_clear(&p->ping);
        if (p->seen != i) return (void *)2;
        p->seen = -i;
        conc_event_set(&p->pong);
    }
    return NULL;
}

static void ping_pong_between_two_threads(void **state) {
    (void)state;
    struct pingpong p = {CONC_EVENT_INIT, CONC_EVENT_INIT, 0};
    pthread_t t = start_thread(pong_side, &p);
    for (long i = 0; i < ROUNDS; i++) {
        p.seen = i;
        conc_event_set(&p.ping);
        assert_int_equal(conc_event_wait(&p.pong, 30), 0);
        conc_event_clear(&p.pong);
        assert_int_equal(p.seen, -i);
    }
    assert_null(join_thread(t));
}

static int interrupted_wait(void *arg) {
    (void)arg;
    conc_event_t e = CONC_EVENT_INIT;
    double t0 = conc_monotonic();
    CHECK(conc_event_wait(&e, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(LOAD(&e._priv.waiters) == 0);
    CHECK(conc_event_wait(&e, 0.05) == -ETIMEDOUT);
    conc_event_set(&e);
    CHECK(conc_event_wait(&e, 30) == 0);
    return 0;
}

static void main_thread_wait_is_interrupted(void **state) {
    (void)state;
    run_interrupted(interrupted_wait, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(set_clear_and_poll),
               cmocka_unit_test(timeout_waits_at_least_the_timeout),
               cmocka_unit_test(set_wakes_every_waiter),
               cmocka_unit_test(set_then_clear_still_wakes_the_waiters),
               cmocka_unit_test(ping_pong_between_two_threads),
               cmocka_unit_test(main_thread_wait_is_interrupted))
