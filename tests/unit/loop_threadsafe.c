/* call_soon_threadsafe and stop from other threads: every call runs exactly once and in order per
 * thread, and a loop asleep in epoll_wait (with a timer an hour away) wakes at once. The loop
 * announces each sleep through the internal sleep hook, after it published that it may sleep:
 * the other threads wait for that, not for a guessed delay. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include "conc.h"
#include "internal/loop.h"
#include "test.h"

struct sleeps {
    uint32_t seq; /* bumped each time the loop is about to block */
};

static void on_sleep(void *arg) {
    struct sleeps *s = arg;
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_ACQ_REL);
    conc__futex_wake(&s->seq, INT32_MAX, false);
}

/* Wait until the loop has gone to sleep more than `seen` times; returns the new count. */
static uint32_t wait_sleep(struct sleeps *s, uint32_t seen) {
    uint32_t v;
    double deadline = conc_deadline(30);
    while ((v = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE)) <= seen)
        if (conc__wait(&s->seq, v, deadline, false) == -ETIMEDOUT) fail_msg("loop never slept");
    return v;
}

static int never;
static void must_not_run(void *arg) {
    (void)arg;
    never++;
}

static void stop_loop(void *arg) {
    conc_loop_stop(arg);
}

/* ---- many producers ---- */
#define NTHREADS 4
#define NCALLS   2000
struct many {
    conc_loop_t *loop;
    struct sleeps sleeps;
    int ran[NTHREADS * NCALLS];
    int last[NTHREADS];
    int total;
    int out_of_order;
};
struct producer {
    struct many *m;
    int t;
};
struct token {
    struct many *m;
    int t, i;
};
static struct token tokens[NTHREADS * NCALLS];

static void count_call(void *arg) {
    struct token *k = arg;
    struct many *m = k->m;
    assert_ptr_equal(conc_loop_current(), m->loop);
    m->ran[k->t * NCALLS + k->i]++;
    if (k->i <= m->last[k->t]) m->out_of_order++;
    m->last[k->t] = k->i;
    if (++m->total == NTHREADS * NCALLS) conc_loop_stop(m->loop);
}

static void *produce(void *arg) {
    struct producer *p = arg;
    wait_sleep(&p->m->sleeps, 0);
    for (int i = 0; i < NCALLS; i++) {
        struct token *k = &tokens[p->t * NCALLS + i];
        *k = (struct token){p->m, p->t, i};
        if (!conc_call_soon_threadsafe(p->m->loop, count_call, k)) fail_msg("ENOMEM");
    }
    return NULL;
}

static void calls_from_many_threads_run_exactly_once(void **state) {
    (void)state;
    struct many *m = calloc(1, sizeof *m);
    m->loop = conc_loop_new();
    for (int t = 0; t < NTHREADS; t++) m->last[t] = -1;
    conc__loop_set_sleep_hook(m->loop, on_sleep, &m->sleeps);
    conc_call_later(m->loop, 3600, must_not_run, NULL); /* the loop sleeps on this one */
    pthread_t th[NTHREADS];
    struct producer p[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        p[t] = (struct producer){m, t};
        pthread_create(&th[t], NULL, produce, &p[t]);
    }
    double t0 = conc_monotonic();
    assert_int_equal(conc_loop_run(m->loop), 0);
    assert_true(conc_monotonic() - t0 < 20);
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    assert_int_equal(m->total, NTHREADS * NCALLS);
    for (int i = 0; i < NTHREADS * NCALLS; i++) assert_int_equal(m->ran[i], 1);
    assert_int_equal(m->out_of_order, 0);
    assert_int_equal(never, 0);
    conc_loop_free(m->loop);
    free(m);
}

/* ---- wake-up latency, many times over ---- */
#define ROUNDS 200
struct pingpong {
    conc_loop_t *loop;
    struct sleeps sleeps;
    int calls;
    double worst;
    double sent;
};

static void pong(void *arg) {
    struct pingpong *pp = arg;
    double sent;
    __atomic_load(&pp->sent, &sent, __ATOMIC_ACQUIRE);
    double lat = conc_monotonic() - sent;
    if (lat > pp->worst) pp->worst = lat;
    if (++pp->calls == ROUNDS) conc_loop_stop(pp->loop);
}

static void *ping_when_asleep(void *arg) {
    struct pingpong *pp = arg;
    uint32_t seen = 0;
    for (int i = 0; i < ROUNDS; i++) {
        seen = wait_sleep(&pp->sleeps, seen); /* the loop is in, or about to enter, epoll_wait */
        double now = conc_monotonic();
        __atomic_store(&pp->sent, &now, __ATOMIC_RELEASE);
        conc_call_soon_threadsafe(pp->loop, pong, pp);
    }
    return NULL;
}

static void call_soon_threadsafe_wakes_a_sleeping_loop(void **state) {
    (void)state;
    struct pingpong pp = {.loop = conc_loop_new()};
    conc__loop_set_sleep_hook(pp.loop, on_sleep, &pp.sleeps);
    conc_call_later(pp.loop, 3600, must_not_run, NULL);
    pthread_t th;
    pthread_create(&th, NULL, ping_when_asleep, &pp);
    assert_int_equal(conc_loop_run(pp.loop), 0); /* a lost wake-up hangs here: ctest fails it */
    pthread_join(th, NULL);
    assert_int_equal(pp.calls, ROUNDS);
    assert_true(pp.worst < 5);
    conc_loop_free(pp.loop);
}

/* ---- stopping from another thread ---- */
struct stopper {
    conc_loop_t *loop;
    struct sleeps sleeps;
    bool direct;
};

static void *stop_when_asleep(void *arg) {
    struct stopper *s = arg;
    wait_sleep(&s->sleeps, 0);
    if (s->direct)
        conc_loop_stop(s->loop);
    else
        conc_call_soon_threadsafe(s->loop, stop_loop, s->loop);
    return NULL;
}

static void stop_from_thread(bool direct) {
    struct stopper s = {.loop = conc_loop_new(), .direct = direct};
    conc__loop_set_sleep_hook(s.loop, on_sleep, &s.sleeps);
    conc_call_later(s.loop, 3600, must_not_run, NULL);
    pthread_t th;
    pthread_create(&th, NULL, stop_when_asleep, &s);
    double t0 = conc_monotonic();
    assert_int_equal(conc_loop_run(s.loop), 0);
    assert_true(conc_monotonic() - t0 < 10);
    pthread_join(th, NULL);
    conc_loop_free(s.loop);
}

static void stop_via_call_soon_threadsafe_from_another_thread(void **state) {
    (void)state;
    stop_from_thread(false);
}

static void conc_loop_stop_from_another_thread(void **state) {
    (void)state;
    stop_from_thread(true);
}

/* ---- the safety net: call_soon / call_later from another thread while the loop runs ---- */
struct foreign {
    conc_loop_t *loop;
    struct sleeps sleeps;
    double due;
    double ran_at;
    int soon_ran;
};

static void foreign_soon(void *arg) {
    struct foreign *f = arg;
    f->soon_ran++;
}

static void foreign_timer(void *arg) {
    struct foreign *f = arg;
    f->ran_at = conc_loop_time(f->loop);
    conc_loop_stop(f->loop);
}

static void *schedule_from_outside(void *arg) {
    struct foreign *f = arg;
    wait_sleep(&f->sleeps, 0);
    conc_call_soon(f->loop, foreign_soon, f);
    f->due = conc_monotonic() + 0.02;
    conc_call_at(f->loop, f->due, foreign_timer, f);
    return NULL;
}

static void call_soon_and_call_at_from_another_thread_are_routed_safely(void **state) {
    (void)state;
    struct foreign f = {.loop = conc_loop_new()};
    conc__loop_set_sleep_hook(f.loop, on_sleep, &f.sleeps);
    conc_call_later(f.loop, 3600, must_not_run, NULL);
    pthread_t th;
    pthread_create(&th, NULL, schedule_from_outside, &f);
    assert_int_equal(conc_loop_run(f.loop), 0);
    pthread_join(th, NULL);
    assert_int_equal(f.soon_ran, 1);
    assert_true(f.ran_at >= f.due);
    conc_loop_free(f.loop);
}

/* A callback pushed from another thread before the loop runs is run by the next run. */
static void *push_before_run(void *arg) {
    conc_call_soon_threadsafe(arg, stop_loop, arg);
    return NULL;
}

static void threadsafe_call_before_run_is_kept(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    pthread_t th;
    pthread_create(&th, NULL, push_before_run, loop);
    pthread_join(th, NULL);
    conc_call_later(loop, 3600, must_not_run, NULL);
    assert_int_equal(conc_loop_run(loop), 0);
    conc_loop_free(loop);
}

CONC_TEST_MAIN(cmocka_unit_test(calls_from_many_threads_run_exactly_once),
               cmocka_unit_test(call_soon_threadsafe_wakes_a_sleeping_loop),
               cmocka_unit_test(stop_via_call_soon_threadsafe_from_another_thread),
               cmocka_unit_test(conc_loop_stop_from_another_thread),
               cmocka_unit_test(call_soon_and_call_at_from_another_thread_are_routed_safely),
               cmocka_unit_test(threadsafe_call_before_run_is_kept))
