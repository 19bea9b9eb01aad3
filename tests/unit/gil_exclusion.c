/* Mutual exclusion: threads increment a plain (non-atomic) counter only while holding the GIL,
 * ticking, yielding and releasing around "blocking calls" in between, under every switching mode.
 * The total must be exact, and under TSan the counter must not be reported as a race: the GIL's
 * hand-overs have to carry the happens-before. */
#include <pthread.h>
#include <sched.h>
#include "conc.h"
#include "test.h"

#define THREADS 4
#define ROUNDS  200000

struct shared {
    conc_gil_t g;
    long counter; /* protected by the GIL only */
    long in_gil;  /* threads inside the GIL's critical section: must stay 0 or 1 */
    int bad;
    int ready; /* threads started: they begin together */
};

static void *worker(void *arg) {
    struct shared *s = arg;
    __atomic_add_fetch(&s->ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) < THREADS) sched_yield();
    conc_gil_acquire(&s->g);
    for (int i = 0; i < ROUNDS; i++) {
        conc_gil_tick(&s->g);
        if (s->in_gil++ != 0) s->bad = 1;
        long v = s->counter;
        for (volatile int k = 0; k < 20; k++) {
        }
        s->counter = v + 1;
        s->in_gil--;
        if (i % 1000 == 999) conc_gil_yield(&s->g);
        if (i % 500 == 250) {
            CONC_GIL_BEGIN_ALLOW_THREADS(&s->g)
            for (volatile int k = 0; k < 100; k++) {
            }
            CONC_GIL_END_ALLOW_THREADS(&s->g)
        }
        if (i % 3000 == 1500) {
            conc_gil_release(&s->g);
            conc_gil_acquire(&s->g);
        }
    }
    conc_gil_release(&s->g);
    return NULL;
}

static void run(const conc_gil_opts_t *opts) {
    struct shared s = {.counter = 0};
    assert_int_equal(conc_gil_init(&s.g, opts), 0);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, worker, &s), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    assert_int_equal(s.counter, (long)THREADS * ROUNDS);
    assert_int_equal(s.bad, 0);
    conc_gil_stats_t st;
    assert_int_equal(conc_gil_stats(&s.g, &st), 0);
    print_message(
        "switches %lu forced %lu yields %lu contended %lu p50 %.1fus p99 %.1fus max %.1fus\n",
        (unsigned long)st.switches, (unsigned long)st.forced_drops, (unsigned long)st.yields,
        (unsigned long)st.contended, st.wait_p50 * 1e6, st.wait_p99 * 1e6, st.wait_max * 1e6);
    assert_int_equal(st.misuse, 0);
    assert_true(st.acquires >= st.contended);
    assert_true(st.switches <= st.acquires);
    conc_gil_destroy(&s.g);
}

static void exact_count_time_based(void **state) {
    (void)state;
    conc_gil_opts_t o = {.switch_interval = 0.0002};
    run(&o);
}

static void exact_count_check_interval(void **state) {
    (void)state;
    conc_gil_opts_t o = {.switch_interval = 0.0002, .check_interval = 37};
    run(&o);
}

static void exact_count_io_priority(void **state) {
    (void)state;
    conc_gil_opts_t o = {.switch_interval = 0.0002, .io_priority = true};
    run(&o);
}

static void exact_count_defaults(void **state) {
    (void)state;
    run(NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(exact_count_time_based),
               cmocka_unit_test(exact_count_check_interval),
               cmocka_unit_test(exact_count_io_priority), cmocka_unit_test(exact_count_defaults))
