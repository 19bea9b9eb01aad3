/* CONC_GIL_BEGIN/END_ALLOW_THREADS: while one thread is blocked inside the block (on a futex word
 * the test controls), another thread runs under the GIL; errno set inside the block survives a
 * re-acquire that has to wait (and so goes through futex waits of its own). */
#include <math.h>
#include <pthread.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

struct shared {
    conc_gil_t g;
    uint32_t in_block; /* A is inside the block */
    uint32_t gate;     /* opened by B: A's "blocking call" returns */
    uint32_t a_back;   /* A has the GIL again */
    int errno_before, errno_after, a_timed_out, held_inside;
    long b_ticks;            /* under the GIL */
    uint32_t a_back_at_gate; /* A was still blocked when B had made its progress */
};

static void wait_flag(uint32_t *w, double deadline, int *timed_out) {
    while (!__atomic_load_n(w, __ATOMIC_ACQUIRE))
        if (conc__wait(w, 0, deadline, false) == -ETIMEDOUT) {
            *timed_out = 1;
            return;
        }
}

static void set_flag(uint32_t *w) {
    __atomic_store_n(w, 1, __ATOMIC_RELEASE);
    conc__futex_wake(w, 1, false);
}

static void *thread_a(void *p) {
    struct shared *s = p;
    conc_gil_acquire(&s->g);
    errno = EDOM;
    CONC_GIL_BEGIN_ALLOW_THREADS(&s->g)
    s->errno_before = errno;
    s->held_inside = conc_gil_held(&s->g);
    set_flag(&s->in_block);
    wait_flag(&s->gate, conc_deadline(30), &s->a_timed_out);
    errno = ENOTTY; /* what the blocking call left */
    CONC_GIL_END_ALLOW_THREADS(&s->g)
    s->errno_after = errno;
    set_flag(&s->a_back);
    conc_gil_release(&s->g);
    return NULL;
}

static void *thread_b(void *p) {
    struct shared *s = p;
    conc_gil_acquire(&s->g);
    for (int i = 0; i < 100000; i++) {
        conc_gil_tick(&s->g);
        s->b_ticks++;
    }
    s->a_back_at_gate = __atomic_load_n(&s->a_back, __ATOMIC_ACQUIRE);
    set_flag(&s->gate);
    /* keep the GIL busy so that A's END_ALLOW_THREADS has to wait for it */
    while (!__atomic_load_n(&s->a_back, __ATOMIC_ACQUIRE)) conc_gil_tick(&s->g);
    conc_gil_release(&s->g);
    return NULL;
}

static void run(const conc_gil_opts_t *o) {
    static struct shared s;
    s = (struct shared){.errno_before = 0};
    assert_int_equal(conc_gil_init(&s.g, o), 0);
    pthread_t a, b;
    int to = 0;
    assert_int_equal(pthread_create(&a, NULL, thread_a, &s), 0);
    wait_flag(&s.in_block, conc_deadline(30), &to);
    assert_false(to);
    /* A is blocked inside the block, having released the GIL: B can run */
    assert_int_equal(pthread_create(&b, NULL, thread_b, &s), 0);
    wait_flag(&s.a_back, conc_deadline(30), &to);
    assert_false(to);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    assert_false(s.a_timed_out);
    assert_int_equal(s.b_ticks, 100000);
    assert_int_equal(s.a_back_at_gate, 0);
    assert_int_equal(s.errno_before, EDOM);
    assert_false(s.held_inside);
    assert_int_equal(s.errno_after, ENOTTY);
    conc_gil_stats_t st;
    assert_int_equal(conc_gil_stats(&s.g, &st), 0);
    assert_true(st.contended >= 1); /* A's re-acquire waited for B */
    assert_int_equal(st.misuse, 0);
    conc_gil_destroy(&s.g);
}

static void other_thread_runs_during_blocking_call(void **state) {
    (void)state;
    run(NULL);
}

static void same_with_io_priority(void **state) {
    (void)state;
    conc_gil_opts_t o = {.io_priority = true};
    run(&o);
}

CONC_TEST_MAIN(cmocka_unit_test(other_thread_runs_during_blocking_call),
               cmocka_unit_test(same_with_io_priority))
