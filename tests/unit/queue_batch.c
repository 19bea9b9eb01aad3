/* The linger state a Queue side learns after waits (src/queue/batch.c): a stream (more than one
 * message waiting after each linger) raises the delay to a bounded maximum, the first wait that
 * finds only one drops it to zero, and a ping-pong (always one) stays at zero but for a rare
 * short probe. Also: a stream between processes followed by a ping-pong on the same queues, so
 * that a learned linger never holds a message back. */
#include "ipc_util.h"
#include <sys/wait.h>
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

CONC_TEST_MAIN(cmocka_unit_test(stream_raises_bounded), cmocka_unit_test(ping_pong_stays_at_zero),
               cmocka_unit_test(stream_then_ping_pong))
