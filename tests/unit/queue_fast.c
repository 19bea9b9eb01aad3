/* The Queue's fast paths and what they must not break (src/queue/batch.c, put.c, get.c):
 * - the linger state a side learns after waits: a stream (more than one message waiting after each
 *   linger) raises the delay to a bounded maximum, the first wait that finds only one drops it to
 *   zero, and a ping-pong (always one) stays at zero but for a rare short probe; a stream between
 *   processes followed by a ping-pong on the same queues, so a learned linger holds nothing back;
 * - wake-ups across processes when both sides really sleep in the kernel (the commit is a release
 *   store on x86, ordered by the lock release: a lost wake-up shows as a get timing out);
 * - timeouts while the side's lock is held by a live process (the deadline is read from the clock
 *   only once a call must wait). */
#include "ipc_util.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc/time.h"
#include "internal/queue.h"

#define DELAY(s) ((s)&0xffffu)

static void stream_raises_bounded(void **state) {
    (void)state;
    uint32_t s = 0;
    conc__queue_learn(&s, true);
    assert_true(DELAY(s) > 0);
    uint32_t prev = DELAY(s);
    for (int i = 0; i < 100; i++) {
        conc__queue_learn(&s, true);
        assert_true(DELAY(s) >= prev); /* never shrinks while batches form */
        prev = DELAY(s);
    }
    assert_true(DELAY(s) > 4);
    assert_true(DELAY(s) <= 64); /* a microsecond or so of pauses, never more */
    conc__queue_learn(&s, false);
    assert_int_equal(DELAY(s), 0);
}

static void ping_pong_stays_at_zero(void **state) {
    (void)state;
    uint32_t s = 0;
    int lingering = 0;
    for (int i = 0; i < 10000; i++) {
        conc__queue_learn(&s, false);
        lingering += DELAY(s) != 0;
    }
    assert_true(lingering > 0);           /* it does try again now and then */
    assert_true(lingering <= 10000 / 32); /* but seldom */
}

enum { STREAM = 20000, ROUNDS = 2000 };

static void stream_then_ping_pong(void **state) {
    (void)state;
    conc_queue_t *to, *back;
    assert_int_equal(conc_queue_new(&to, NULL), 0);
    assert_int_equal(conc_queue_new(&back, NULL), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the child takes the stream, then echoes every message */
        for (long i = 0; i < STREAM + ROUNDS; i++) {
            void *buf;
            size_t len;
            if (conc_queue_get(to, &buf, &len, 30) != 0 || len != sizeof i) _exit(1);
            long v;
            memcpy(&v, buf, sizeof v);
            free(buf);
            if (v != i) _exit(2);
            if (i >= STREAM && conc_queue_put(back, &v, sizeof v, 30) != 0) _exit(3);
        }
        _exit(0);
    }
    for (long i = 0; i < STREAM; i++) assert_int_equal(conc_queue_put(to, &i, sizeof i, 30), 0);
    for (long i = STREAM; i < STREAM + ROUNDS; i++) {
        assert_int_equal(conc_queue_put(to, &i, sizeof i, 30), 0);
        void *buf;
        size_t len;
        assert_int_equal(conc_queue_get(back, &buf, &len, 30), 0);
        assert_int_equal(len, sizeof i);
        long v;
        memcpy(&v, buf, sizeof v);
        free(buf);
        assert_int_equal(v, i);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    conc_queue_free(to);
    conc_queue_free(back);
}

/* Spin (no syscall) for longer than a waiter spins before it sleeps in the kernel (wake.c). */
static void busy(double seconds) {
    double end = conc_monotonic() + seconds;
    while (conc_monotonic() < end) {
    }
}

static void sleeping_round_trips(void **state) {
    (void)state;
    enum { N = 1000 };
    conc_queue_t *to, *back;
    assert_int_equal(conc_queue_new(&to, NULL), 0);
    assert_int_equal(conc_queue_new(&back, NULL), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < N; i++) {
            void *buf;
            size_t len;
            if (conc_queue_get(to, &buf, &len, 10) != 0) _exit(1);
            free(buf);
            busy(50e-6);
            if (conc_queue_put(back, &i, sizeof i, 10) != 0) _exit(2);
        }
        _exit(0);
    }
    double t0 = conc_monotonic();
    for (int i = 0; i < N; i++) {
        busy(50e-6);
        assert_int_equal(conc_queue_put(to, &i, sizeof i, 10), 0);
        void *buf;
        size_t len;
        assert_int_equal(conc_queue_get(back, &buf, &len, 10), 0); /* -ETIMEDOUT: a lost wake-up */
        int v;
        memcpy(&v, buf, sizeof v);
        free(buf);
        assert_int_equal(v, i);
    }
    assert_true(conc_monotonic() - t0 < 20);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    conc_queue_free(to);
    conc_queue_free(back);
}

static int stop_pipe[2];

static void stop_and_hang(const char *where) {
    (void)where;
    if (write(stop_pipe[1], "s", 1) != 1) _exit(3);
    for (;;) pause();
}

/* A child stopped inside a put or get holds that side's lock, alive: the parent's call on the
 * same side times out on the lock, after its timeout and not long after. */
static void timeout_on_held_lock(bool put) {
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, NULL), 0);
    if (!put) assert_int_equal(conc_queue_put(q, "x", 1, 5), 0);
    assert_int_equal(pipe(stop_pipe), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc__queue_test_stop = stop_and_hang;
        void *buf;
        size_t len;
        if (put)
            conc_queue_put(q, "yy", 2, 5);
        else
            conc_queue_get(q, &buf, &len, 5);
        _exit(4); /* never reached: the hook hangs */
    }
    char c;
    assert_int_equal(read(stop_pipe[0], &c, 1), 1);
    double t0 = conc_monotonic();
    void *buf;
    size_t len;
    int r = put ? conc_queue_put(q, "z", 1, 0.3) : conc_queue_get(q, &buf, &len, 0.3);
    double took = conc_monotonic() - t0;
    assert_int_equal(r, -ETIMEDOUT);
    assert_true(took >= 0.3);
    assert_true(took < 5);
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    conc_queue_free(q);
}

static void put_times_out_on_held_lock(void **state) {
    (void)state;
    timeout_on_held_lock(true);
}

static void get_times_out_on_held_lock(void **state) {
    (void)state;
    timeout_on_held_lock(false);
}

CONC_TEST_MAIN(cmocka_unit_test(stream_raises_bounded), cmocka_unit_test(ping_pong_stays_at_zero),
               cmocka_unit_test(stream_then_ping_pong), cmocka_unit_test(sleeping_round_trips),
               cmocka_unit_test(put_times_out_on_held_lock),
               cmocka_unit_test(get_times_out_on_held_lock))
