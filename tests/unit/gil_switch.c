/* Switching between CPU-bound threads that only tick: the switch interval is honoured, the check
 * interval hands over every N ticks, a thread asked to drop does not get the GIL back before the
 * waiter ran (FORCE_SWITCHING), and waiters are served in FIFO order. Runs are time-boxed (each
 * thread stops at a deadline); bounds are wide because the machine is shared and sanitizers slow
 * everything down. */
#include <pthread.h>
#include <sched.h>
#include "conc.h"
#include "test.h"

#define MAXT   3
#define LOGMAX 100000

struct run {
    conc_gil_t g;
    int nthreads, ready;
    double start, end, hard_end;
    int min_log; /* run past end until this many hand-overs were logged (a busy machine) */
    /* under the GIL */
    long ticks[MAXT];
    int runner;   /* thread id + 1 that ran last */
    long run_len; /* ticks in the current run */
    long runs_ok, runs_bad, runs_want;
    long violations; /* forced drop without the other thread having run */
    long drops_seen; /* forced drops observed across a tick */
    int log[LOGMAX], nlog;
    int done;
    int check_order, check_runs;
};

struct arg {
    struct run *r;
    int id;
};

static uint64_t forced(conc_gil_t *g) {
    conc_gil_stats_t st;
    conc_gil_stats(g, &st);
    return st.forced_drops;
}

static void *ticker(void *p) {
    struct arg *a = p;
    struct run *r = a->r;
    int me = a->id + 1;
    __atomic_add_fetch(&r->ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) < r->nthreads) sched_yield();
    conc_gil_acquire(&r->g);
    r->ticks[a->id]++; /* progress: every acquisition is followed by some before the next tick */
    for (long i = 0;; i++) {
        long others = 0;
        uint64_t fd = 0;
        if (r->check_order) {
            for (int k = 0; k < r->nthreads; k++)
                if (k != a->id) others += r->ticks[k];
            fd = forced(&r->g);
        }
        conc_gil_tick(&r->g);
        r->ticks[a->id]++;
        if (r->check_order && forced(&r->g) != fd) {
            long now = 0;
            for (int k = 0; k < r->nthreads; k++)
                if (k != a->id) now += r->ticks[k];
            r->drops_seen++;
            if (now == others) r->violations++;
        }
        if (r->runner != me) {
            if (r->runner && !r->done) {
                if (r->check_runs) r->run_len == r->runs_want ? r->runs_ok++ : r->runs_bad++;
                if (r->nlog < LOGMAX) r->log[r->nlog++] = me;
            }
            r->runner = me;
            r->run_len = 0;
        }
        r->run_len++;
        if ((i & 255) == 0) {
            double now = conc_monotonic();
            if (now >= r->end && (r->nlog >= r->min_log || now >= r->hard_end)) break;
        }
    }
    r->done = 1;
    conc_gil_release(&r->g);
    return NULL;
}

static void run(struct run *r, const conc_gil_opts_t *o, int n, double secs) {
    pthread_t th[MAXT];
    struct arg a[MAXT];
    assert_int_equal(conc_gil_init(&r->g, o), 0);
    r->nthreads = n;
    r->start = conc_monotonic();
    r->end = r->start + secs;
    r->hard_end = r->start + 20;
    if (!r->min_log) r->min_log = 30;
    for (int i = 0; i < n; i++) {
        a[i] = (struct arg){r, i};
        assert_int_equal(pthread_create(&th[i], NULL, ticker, &a[i]), 0);
    }
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
}

static void switch_interval_is_honoured(void **state) {
    (void)state;
    static struct run r;
    run(&r, NULL, 2, 0.3);
    conc_gil_stats_t st;
    assert_int_equal(conc_gil_stats(&r.g, &st), 0);
    print_message("ticks %ld/%ld switches %lu forced %lu requests %lu p50 %.2fms p99 %.2fms "
                  "max %.2fms\n",
                  r.ticks[0], r.ticks[1], (unsigned long)st.switches,
                  (unsigned long)st.forced_drops, (unsigned long)st.drop_requests,
                  st.wait_p50 * 1e3, st.wait_p99 * 1e3, st.wait_max * 1e3);
    /* both make progress: each got a fair part of the ticks */
    long total = r.ticks[0] + r.ticks[1];
    assert_true(r.ticks[0] > total / 10 && r.ticks[1] > total / 10);
    /* 0.3 s / 5 ms = 60 hand-overs if everything were punctual; a hand-over needs a waiter to
     * have waited a whole interval, so there can't be many more. A busy machine makes fewer: the
     * run goes on until there were 30, and then at least one per 100 ms is asked for. */
    double secs = conc_monotonic() - r.start;
    assert_true(st.switches >= 20);
    assert_true((double)st.switches <= secs / 0.005 + 5);
    assert_true((double)st.switches >= secs / 0.1);
    assert_true(st.forced_drops >= st.switches - 3);
    assert_true(st.forced_drops <= st.drop_requests);
    assert_true(st.acquires >= st.contended && st.contended >= st.switches - 2);
    /* every wait is at least an interval: a waiter asks only after a whole interval */
    assert_true(st.wait_p50 >= 0.0049 && st.wait_p50 <= st.wait_p99 && st.wait_p99 <= st.wait_max);
    assert_true(st.wait_p50 < 0.2);
    assert_true(st.wait_mean >= 0.0049 && st.wait_mean <= st.wait_max);
    conc_gil_destroy(&r.g);
}

static void check_interval_hands_over_every_n_ticks(void **state) {
    (void)state;
    static struct run r;
    r.check_runs = 1;
    r.runs_want = 100;
    conc_gil_opts_t o = {.switch_interval = 10, .check_interval = 100};
    run(&r, &o, 2, 0.3);
    conc_gil_stats_t st;
    assert_int_equal(conc_gil_stats(&r.g, &st), 0);
    print_message("ticks %ld/%ld switches %lu yields %lu runs ok %ld bad %ld\n", r.ticks[0],
                  r.ticks[1], (unsigned long)st.switches, (unsigned long)st.yields, r.runs_ok,
                  r.runs_bad);
    assert_true(r.runs_ok >= 20);
    assert_true(r.runs_bad <= 2 + r.runs_ok / 20);
    /* every run that ended in a hand-over ended by a check-interval yield (a thread may tick
     * alone for a while at the start, before the other one queues: no yields then) */
    assert_true(st.yields >= (uint64_t)r.runs_ok &&
                st.yields <= (uint64_t)(r.runs_ok + r.runs_bad) + 2);
    assert_int_equal(st.forced_drops, 0); /* the 10 s interval never ran out */
    conc_gil_destroy(&r.g);
}

static void dropping_thread_does_not_win_its_release_back(void **state) {
    (void)state;
    static struct run r;
    r.check_order = 1;
    conc_gil_opts_t o = {.switch_interval = 0.001};
    run(&r, &o, 2, 0.3);
    print_message("forced drops seen %ld, violations %ld\n", r.drops_seen, r.violations);
    assert_true(r.drops_seen >= 10);
    assert_int_equal(r.violations, 0);
    conc_gil_destroy(&r.g);
}

static void waiters_are_served_in_fifo_order(void **state) {
    (void)state;
    static struct run r;
    conc_gil_opts_t o = {.switch_interval = 0.001};
    run(&r, &o, 3, 0.3);
    int out_of_turn = 0, checked = 0;
    for (int i = 6; i < r.nlog; i++, checked++)
        if (r.log[i] != r.log[i - 3]) out_of_turn++;
    print_message("hand-overs %d, out of turn %d\n", r.nlog, out_of_turn);
    assert_true(checked >= 10);
    assert_int_equal(out_of_turn, 0);
    conc_gil_destroy(&r.g);
}

CONC_TEST_MAIN(cmocka_unit_test(switch_interval_is_honoured),
               cmocka_unit_test(check_interval_hands_over_every_n_ticks),
               cmocka_unit_test(dropping_thread_does_not_win_its_release_back),
               cmocka_unit_test(waiters_are_served_in_fifo_order))
