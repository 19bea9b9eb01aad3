/* Queue between threads: many producers and consumers with every message delivered exactly once
 * and each producer's messages in order; a sleeping get woken by a put and a sleeping put by a
 * get; close waking this process's blocked calls; SIGINT ending a blocked get in the main thread. */
/* TEST_TIMEOUT: 120 */
#include "ipc_util.h"
#include "internal/queue.h"

#define THREADS 4
#define PER     5000

static conc_queue_t *q;

static void *producer(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int s = 0; s < PER; s++) {
        int pair[2] = {id, s};
        /* every 50th message large enough to be spilled, so both paths interleave */
        static __thread char big[40000];
        if (s % 50 == 0) {
            memcpy(big, pair, sizeof pair);
            if (conc_queue_put(q, big, sizeof big, 30) != 0) return (void *)1;
        } else if (conc_queue_put(q, pair, sizeof pair, 30) != 0) {
            return (void *)1;
        }
    }
    return NULL;
}

static unsigned char seen[THREADS][PER];

static void *consumer(void *arg) {
    (void)arg;
    int mine_last[THREADS];
    for (int i = 0; i < THREADS; i++) mine_last[i] = -1;
    for (;;) {
        void *buf;
        size_t n;
        if (conc_queue_get(q, &buf, &n, 30) != 0) return (void *)1;
        if (n == 0) {
            free(buf);
            return NULL;
        }
        int pair[2];
        memcpy(pair, buf, sizeof pair);
        free(buf);
        if (pair[0] < 0 || pair[0] >= THREADS || pair[1] < 0 || pair[1] >= PER) return (void *)2;
        if (n != (pair[1] % 50 == 0 ? 40000u : sizeof pair)) return (void *)3;
        /* one producer's messages reach any one consumer in order */
        if (pair[1] <= mine_last[pair[0]]) return (void *)4;
        mine_last[pair[0]] = pair[1];
        if (__atomic_exchange_n(&seen[pair[0]][pair[1]], 1, __ATOMIC_RELAXED)) return (void *)5;
    }
}

static void many_to_many(void **state) {
    (void)state;
    conc_queue_opts_t o = {.maxsize = 64, .ring_bytes = 65536};
    assert_int_equal(conc_queue_new(&q, &o), 0);
    pthread_t p[THREADS], c[THREADS];
    for (int i = 0; i < THREADS; i++) c[i] = start_thread(consumer, NULL);
    for (int i = 0; i < THREADS; i++) p[i] = start_thread(producer, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++) assert_null(join_thread(p[i]));
    for (int i = 0; i < THREADS; i++) assert_int_equal(conc_queue_put(q, NULL, 0, 30), 0);
    for (int i = 0; i < THREADS; i++) assert_null(join_thread(c[i]));
    for (int i = 0; i < THREADS; i++)
        for (int s = 0; s < PER; s++) assert_int_equal(seen[i][s], 1);
    assert_true(conc_queue_empty(q));
    conc_queue_free(q);
}

static uint32_t asleep;

static void *get_one(void *arg) {
    (void)arg;
    STORE(&asleep, 1);
    void *buf;
    size_t n;
    int r = conc_queue_get(q, &buf, &n, 30);
    if (r == 0) free(buf);
    return (void *)(intptr_t)r;
}

static void *put_one(void *arg) {
    (void)arg;
    STORE(&asleep, 1);
    return (void *)(intptr_t)conc_queue_put(q, "p", 1, 30);
}

/* Waking needs no sleep to set up: the other thread is blocked or about to be, either works. */
static void wakeups(void **state) {
    (void)state;
    conc_queue_opts_t o = {.maxsize = 1};
    assert_int_equal(conc_queue_new(&q, &o), 0);
    STORE(&asleep, 0);
    pthread_t t = start_thread(get_one, NULL);
    WAIT_UNTIL(LOAD(&asleep));
    assert_int_equal(conc_queue_put(q, "x", 1, 5), 0);
    assert_int_equal((intptr_t)join_thread(t), 0);

    assert_int_equal(conc_queue_put(q, "full", 4, 0), 0);
    STORE(&asleep, 0);
    t = start_thread(put_one, NULL);
    WAIT_UNTIL(LOAD(&asleep));
    void *buf;
    size_t n;
    assert_int_equal(conc_queue_get(q, &buf, &n, 5), 0);
    free(buf);
    assert_int_equal((intptr_t)join_thread(t), 0);
    assert_int_equal(conc_queue_qsize(q), 1);
    conc_queue_free(q);
}

static void close_wakes_blocked(void **state) {
    (void)state;
    conc_queue_opts_t o = {.maxsize = 1};
    assert_int_equal(conc_queue_new(&q, &o), 0);
    assert_int_equal(conc_queue_put(q, "full", 4, 0), 0);
    STORE(&asleep, 0);
    pthread_t t = start_thread(put_one, NULL);
    WAIT_UNTIL(LOAD(&asleep));
    conc_queue_close(q);
    assert_int_equal((intptr_t)join_thread(t), CONC_ECLOSED);
    void *buf;
    size_t n;
    assert_int_equal(conc_queue_get(q, &buf, &n, 0), 0); /* what is buffered is still there */
    free(buf);
    STORE(&asleep, 0);
    t = start_thread(get_one, NULL);
    assert_int_equal((intptr_t)join_thread(t), CONC_ECLOSED);
    conc_queue_free(q);
}

/* A fork child inherits the handle's count of sleeping threads but not the threads: its close must
 * not wait for them. */
static int child_closes(void *arg) {
    (void)arg;
    double t0 = conc_monotonic();
    conc_queue_close(q);
    CHECK(conc_monotonic() - t0 < 0.5);
    CHECK(conc_queue_put(q, "c", 1, 0) == CONC_ECLOSED);
    return 0;
}

static void close_in_fork_child(void **state) {
    (void)state;
    assert_int_equal(conc_queue_new(&q, NULL), 0);
    STORE(&asleep, 0);
    pthread_t t = start_thread(get_one, NULL);
    WAIT_UNTIL(LOAD(&asleep));
    WAIT_UNTIL(__atomic_load_n(&q->h->gseq, __ATOMIC_ACQUIRE) & 1); /* in the kernel, or nearly */
    pid_t pid = fork_body(child_closes, NULL);
    assert_int_equal(reap(pid), 0);
    assert_int_equal(conc_queue_put(q, "x", 1, 0), 0); /* the parent's handle is still open */
    assert_int_equal((intptr_t)join_thread(t), 0);
    conc_queue_free(q);
}

static int interrupted_get(void *arg) {
    (void)arg;
    void *buf;
    size_t n;
    double t0 = conc_monotonic();
    CHECK(conc_queue_get(q, &buf, &n, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(conc_queue_put(q, "x", 1, 0) == 0); /* nothing left behind */
    CHECK(conc_queue_get(q, &buf, &n, 0) == 0);
    free(buf);
    return 0;
}

static void sigint_interrupts(void **state) {
    (void)state;
    assert_int_equal(conc_queue_new(&q, NULL), 0);
    run_interrupted(interrupted_get, NULL);
    conc_queue_free(q);
}

CONC_TEST_MAIN(cmocka_unit_test(many_to_many), cmocka_unit_test(wakeups),
               cmocka_unit_test(close_wakes_blocked), cmocka_unit_test(close_in_fork_child),
               cmocka_unit_test(sigint_interrupts))
