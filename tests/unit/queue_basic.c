/* Queue in one thread: FIFO order and exact bytes, qsize/empty/full, maxsize and ring-byte limits
 * with put and get timeouts, close, the JoinableQueue counters, and what bad arguments get. */
#include "ipc_util.h"
#include "internal/queue.h"

static conc_queue_t *make(size_t maxsize, size_t ring, bool joinable) {
    conc_queue_opts_t o = {.maxsize = maxsize, .ring_bytes = ring, .joinable = joinable};
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, &o), 0);
    return q;
}

static void expect(conc_queue_t *q, const void *want, size_t n) {
    void *buf;
    size_t len;
    assert_int_equal(conc_queue_get(q, &buf, &len, 5), 0);
    assert_int_equal(len, n);
    if (n) assert_memory_equal(buf, want, n);
    free(buf);
}

static void fifo(void **state) {
    (void)state;
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, NULL), 0); /* SimpleQueue */
    assert_true(conc_queue_empty(q));
    assert_false(conc_queue_full(q));
    char msg[64];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(msg, sizeof msg, "message %d", i);
        assert_int_equal(conc_queue_put(q, msg, (size_t)n, 0), 0);
    }
    assert_int_equal(conc_queue_qsize(q), 1000);
    assert_int_equal(conc_queue_put(q, NULL, 0, 0), 0); /* an empty message is a message */
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(msg, sizeof msg, "message %d", i);
        expect(q, msg, (size_t)n);
    }
    expect(q, NULL, 0);
    assert_true(conc_queue_empty(q));
    conc_queue_free(q);
}

/* Many laps of a small ring, with lengths that wrap records across its end at every offset. */
static void wraps_around(void **state) {
    (void)state;
    conc_queue_t *q = make(0, 4096, false);
    unsigned char buf[512], *got;
    size_t len;
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(i * 37) % sizeof buf;
        for (size_t k = 0; k < n; k++) buf[k] = (unsigned char)(i + k);
        assert_int_equal(conc_queue_put(q, buf, n, 0), 0);
        if (i % 3 == 0) assert_int_equal(conc_queue_put(q, buf, n, 0), 0);
        assert_int_equal(conc_queue_get(q, (void **)&got, &len, 0), 0);
        free(got);
        if (i % 3 == 0) {
            assert_int_equal(conc_queue_get(q, (void **)&got, &len, 0), 0);
            assert_int_equal(len, n);
            assert_memory_equal(got, buf, n);
            free(got);
        }
    }
    assert_true(conc_queue_empty(q));
    conc_queue_free(q);
}

static void maxsize_and_put_timeout(void **state) {
    (void)state;
    conc_queue_t *q = make(3, 0, false);
    for (int i = 0; i < 3; i++) assert_int_equal(conc_queue_put(q, "x", 1, 0), 0);
    assert_true(conc_queue_full(q));
    assert_int_equal(conc_queue_put(q, "x", 1, 0), -ETIMEDOUT); /* queue.Full */
    double t0 = conc_monotonic();
    assert_int_equal(conc_queue_put(q, "x", 1, 0.2), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    expect(q, "x", 1);
    assert_false(conc_queue_full(q));
    assert_int_equal(conc_queue_put(q, "y", 1, 0), 0);
    assert_int_equal(conc_queue_qsize(q), 3);
    conc_queue_free(q);
}

/* No maxsize: the ring's bytes are the bound, and a put waits for room within its timeout. */
static void ring_bytes_bound(void **state) {
    (void)state;
    conc_queue_t *q = make(0, 4096, false);
    char msg[200] = {0};
    int n = 0;
    while (conc_queue_put(q, msg, sizeof msg, 0) == 0) n++;
    assert_true(n >= 15 && n <= 20);  /* 4096 / (8 + 200) */
    assert_false(conc_queue_full(q)); /* full() is about maxsize, as in Python */
    double t0 = conc_monotonic();
    assert_int_equal(conc_queue_put(q, msg, sizeof msg, 0.1), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 >= 0.1);
    expect(q, msg, sizeof msg);
    assert_int_equal(conc_queue_put(q, msg, sizeof msg, 0), 0);
    conc_queue_free(q);
}

static void get_timeout(void **state) {
    (void)state;
    conc_queue_t *q = make(0, 0, false);
    void *buf = (void *)1;
    size_t len = 7;
    assert_int_equal(conc_queue_get(q, &buf, &len, 0), -ETIMEDOUT); /* queue.Empty */
    assert_null(buf);
    assert_int_equal(len, 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_queue_get(q, &buf, &len, 0.2), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    conc_queue_free(q);
}

/* close: this process puts no more; what is buffered can still be taken, then CONC_ECLOSED
 * instead of a wait. */
static void close_semantics(void **state) {
    (void)state;
    conc_queue_t *q = make(0, 0, false);
    assert_int_equal(conc_queue_put(q, "a", 1, 0), 0);
    assert_int_equal(conc_queue_put(q, "b", 1, 0), 0);
    conc_queue_close(q);
    conc_queue_close(q); /* twice is harmless */
    assert_int_equal(conc_queue_put(q, "c", 1, 0), CONC_ECLOSED);
    assert_int_equal(conc_queue_put(q, "c", 1, -1), CONC_ECLOSED);
    expect(q, "a", 1);
    expect(q, "b", 1);
    void *buf;
    size_t len;
    assert_int_equal(conc_queue_get(q, &buf, &len, -1), CONC_ECLOSED);
    conc_queue_free(q);
    conc_queue_close(NULL);
    conc_queue_free(NULL);
}

static void joinable(void **state) {
    (void)state;
    conc_queue_t *q = make(0, 0, true);
    assert_int_equal(conc_queue_join(q, 0), 0); /* nothing put */
    assert_int_equal(conc_queue_task_done(q), -EOVERFLOW);
    assert_int_equal(conc_queue_put(q, "a", 1, 0), 0);
    assert_int_equal(conc_queue_put(q, "b", 1, 0), 0);
    assert_int_equal(conc_queue_join(q, 0), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(conc_queue_join(q, 0.1), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 >= 0.1);
    expect(q, "a", 1);
    assert_int_equal(conc_queue_task_done(q), 0);
    assert_int_equal(conc_queue_join(q, 0), -ETIMEDOUT); /* "b" is not done */
    /* As in Python, task_done counts items put, not items got. */
    assert_int_equal(conc_queue_task_done(q), 0);
    assert_int_equal(conc_queue_join(q, 0), 0);
    assert_int_equal(conc_queue_task_done(q), -EOVERFLOW);
    expect(q, "b", 1);
    conc_queue_free(q);

    conc_queue_t *s = make(0, 0, false);
    assert_int_equal(conc_queue_task_done(s), -EINVAL);
    assert_int_equal(conc_queue_join(s, 0), -EINVAL);
    conc_queue_free(s);
}

static void bad_arguments(void **state) {
    (void)state;
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(NULL, NULL), -EINVAL);
    conc_queue_opts_t o = {.ring_bytes = ((size_t)1 << 30) + 1};
    assert_int_equal(conc_queue_new(&q, &o), -EINVAL);
    assert_null(q);
    o.ring_bytes = 1; /* rounded up to the smallest ring */
    assert_int_equal(conc_queue_new(&q, &o), 0);
    assert_int_equal(q->units * 8, CONC__Q_MIN_RING);
    void *buf;
    size_t len;
    assert_int_equal(conc_queue_put(NULL, "x", 1, 0), -EINVAL);
    assert_int_equal(conc_queue_put(q, NULL, 1, 0), -EINVAL);
    assert_int_equal(conc_queue_put(q, "x", CONC_QUEUE_MAX_MESSAGE + 1, 0), -EMSGSIZE);
    assert_int_equal(conc_queue_get(NULL, &buf, &len, 0), -EINVAL);
    assert_int_equal(conc_queue_get(q, NULL, &len, 0), -EINVAL);
    assert_int_equal(conc_queue_get(q, &buf, NULL, 0), -EINVAL);
    assert_int_equal(conc_queue_qsize(NULL), 0);
    assert_true(conc_queue_empty(NULL));
    assert_false(conc_queue_full(NULL));
    assert_int_equal(conc_queue_task_done(NULL), -EINVAL);
    assert_int_equal(conc_queue_join(NULL, 0), -EINVAL);
    conc_queue_free(q);
}

/* Any process holding the queue can write its memory: a scribbled record is CONC_EPROTO, with
 * nothing consumed and nothing huge allocated, and never a crash. */
static void scribbled_record(void **state) {
    (void)state;
    conc_queue_t *q = make(0, 4096, false);
    assert_int_equal(conc_queue_put(q, "hello", 5, 0), 0);
    uint64_t bad = (uint64_t)1 << 40; /* an inline length far past the ring */
    memcpy(q->ring, &bad, sizeof bad);
    void *buf;
    size_t len;
    assert_int_equal(conc_queue_get(q, &buf, &len, 0), CONC_EPROTO);
    assert_int_equal(conc_queue_qsize(q), 1);
    bad = 5;
    memcpy(q->ring, &bad, sizeof bad);
    expect(q, "hello", 5);
    conc_queue_free(q);
}

CONC_TEST_MAIN(cmocka_unit_test(fifo), cmocka_unit_test(wraps_around),
               cmocka_unit_test(maxsize_and_put_timeout), cmocka_unit_test(ring_bytes_bound),
               cmocka_unit_test(get_timeout), cmocka_unit_test(close_semantics),
               cmocka_unit_test(joinable), cmocka_unit_test(bad_arguments),
               cmocka_unit_test(scribbled_record))
