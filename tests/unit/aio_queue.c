/* Async Queue: FIFO / LIFO / priority order, maxsize, timeouts, task_done/join, and
 * cancellation safety - no item lost by a cancelled getter, none added by a cancelled putter. */
#include <stdint.h>
#include "conc.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static int cmp_int(const void *a, const void *b) {
    return I(a) < I(b) ? -1 : I(a) > I(b);
}

static void *orders(void *arg) {
    (void)arg;
    int in[] = {5, 1, 4, 1, 3};
    int fifo[] = {5, 1, 4, 1, 3}, lifo[] = {3, 1, 4, 1, 5}, prio[] = {1, 1, 3, 4, 5};
    int *want[] = {fifo, lifo, prio};
    for (int k = 0; k < 3; k++) {
        conc_aqueue_opts_t o = {0, (conc_aqueue_kind_t)k, cmp_int};
        conc_aqueue_t *q;
        assert_int_equal(conc_aqueue_new(&q, &o), 0);
        for (int i = 0; i < 5; i++) assert_int_equal(conc_aqueue_put(q, V(in[i]), -1), 0);
        assert_int_equal(conc_aqueue_qsize(q), 5);
        for (int i = 0; i < 5; i++) {
            void *v;
            assert_int_equal(conc_aqueue_get(q, &v, -1), 0);
            assert_int_equal(I(v), want[k][i]);
        }
        assert_true(conc_aqueue_empty(q));
        void *v;
        assert_int_equal(conc_aqueue_get(q, &v, 0), -ETIMEDOUT);
        conc_aqueue_free(q);
    }
    /* many items: the ring and the heap grow */
    conc_aqueue_opts_t o = {0, CONC_AQUEUE_PRIORITY, cmp_int};
    conc_aqueue_t *q;
    conc_aqueue_new(&q, &o);
    for (int i = 0; i < 1000; i++) conc_aqueue_put(q, V((i * 7919) % 1000), -1);
    for (int i = 0; i < 1000; i++) {
        void *v;
        conc_aqueue_get(q, &v, -1);
        assert_int_equal(I(v), i);
    }
    conc_aqueue_free(q);
    conc_aqueue_opts_t bad = {0, CONC_AQUEUE_PRIORITY, NULL};
    assert_int_equal(conc_aqueue_new(&q, &bad), -EINVAL);
    return NULL;
}

static void fifo_lifo_and_priority_orders(void **state) {
    (void)state;
    assert_int_equal(conc_run(orders, NULL, NULL), 0);
}

/* ---- producer/consumer with maxsize and join ---- */
static conc_aqueue_t *pq;
static long got_sum;
static size_t max_seen;

static void *producer(void *arg) {
    int n = I(arg);
    for (int i = 1; i <= n; i++) {
        assert_int_equal(conc_aqueue_put(pq, V(i), -1), 0);
        if (conc_aqueue_qsize(pq) > max_seen) max_seen = conc_aqueue_qsize(pq);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (;;) {
        void *v;
        if (conc_aqueue_get(pq, &v, -1) < 0) return NULL; /* cancelled at the end */
        got_sum += I(v);
        if (I(v) % 7 == 0) conc_sleep(0);
        conc_aqueue_task_done(pq);
    }
}

static void *pipeline(void *arg) {
    (void)arg;
    conc_aqueue_opts_t o = {.maxsize = 4};
    conc_aqueue_new(&pq, &o);
    got_sum = 0;
    max_seen = 0;
    conc_task_t *c1 = conc_task_spawn(NULL, consumer, NULL, NULL);
    conc_task_t *c2 = conc_task_spawn(NULL, consumer, NULL, NULL);
    conc_task_t *p = conc_task_spawn(NULL, producer, V(1000), NULL);
    conc_await(conc_task_future(p), NULL);
    assert_int_equal(conc_aqueue_join(pq, 30), 0);
    assert_int_equal(got_sum, 1000L * 1001 / 2);
    assert_true(max_seen <= 4);
    conc_task_cancel(c1);
    conc_task_cancel(c2);
    conc_await(conc_task_future(c1), NULL);
    conc_await(conc_task_future(c2), NULL);
    conc_task_uncancel();
    conc_task_uncancel();
    assert_int_equal(conc_aqueue_task_done(pq), -EOVERFLOW);
    conc_task_release(c1);
    conc_task_release(c2);
    conc_task_release(p);
    conc_aqueue_free(pq);
    return NULL;
}

static void producers_and_consumers_with_maxsize_and_join(void **state) {
    (void)state;
    assert_int_equal(conc_run(pipeline, NULL, NULL), 0);
}

/* ---- cancellation safety ---- */
static int getter_result;
static void *getter_value;
static void *getter(void *arg) {
    (void)arg;
    getter_value = NULL;
    getter_result = conc_aqueue_get(pq, &getter_value, -1);
    return NULL;
}

static int putter_result;
static void *putter(void *arg) {
    putter_result = conc_aqueue_put(pq, arg, -1);
    return NULL;
}

static void *cancel_safety(void *arg) {
    (void)arg;
    conc_aqueue_opts_t o = {.maxsize = 1};
    conc_aqueue_new(&pq, &o);
    /* a getter cancelled while waiting: the item put afterwards goes to the next getter */
    conc_task_t *g1 = conc_task_spawn(NULL, getter, NULL, NULL);
    conc_sleep(0);
    conc_task_cancel(g1);
    conc_await(conc_task_future(g1), NULL);
    conc_task_uncancel();
    assert_int_equal(getter_result, -ECANCELED);
    assert_int_equal(conc_aqueue_put(pq, V(11), -1), 0);
    assert_int_equal(conc_aqueue_qsize(pq), 1); /* not lost in the cancelled getter */
    void *v;
    assert_int_equal(conc_aqueue_get(pq, &v, 0), 0);
    assert_int_equal(I(v), 11);
    conc_task_release(g1);
    /* a getter handed an item and then cancelled before it runs: it still returns the item */
    g1 = conc_task_spawn(NULL, getter, NULL, NULL);
    conc_sleep(0);
    conc_aqueue_put(pq, V(12), -1);
    conc_task_cancel(g1);
    conc_await(conc_task_future(g1), NULL);
    conc_task_uncancel();
    assert_int_equal(getter_result, 0);
    assert_int_equal(I(getter_value), 12);
    assert_true(conc_aqueue_empty(pq));
    conc_task_release(g1);
    /* a putter cancelled while the queue is full: its item is not added */
    conc_aqueue_put(pq, V(1), -1);
    conc_task_t *p1 = conc_task_spawn(NULL, putter, V(2), NULL);
    conc_sleep(0);
    conc_task_cancel(p1);
    conc_await(conc_task_future(p1), NULL);
    conc_task_uncancel();
    assert_int_equal(putter_result, -ECANCELED);
    assert_int_equal(conc_aqueue_get(pq, &v, 0), 0);
    assert_int_equal(I(v), 1);
    assert_int_equal(conc_aqueue_get(pq, &v, 0), -ETIMEDOUT);
    conc_task_release(p1);
    /* a full queue times out a put, and a waiting putter is admitted by a get, in order */
    conc_aqueue_put(pq, V(1), -1);
    assert_int_equal(conc_aqueue_put(pq, V(2), 0), -ETIMEDOUT);
    assert_int_equal(conc_aqueue_put(pq, V(2), 0.01), -ETIMEDOUT);
    p1 = conc_task_spawn(NULL, putter, V(3), NULL);
    conc_sleep(0);
    assert_int_equal(conc_aqueue_get(pq, &v, -1), 0);
    assert_int_equal(I(v), 1);
    assert_int_equal(conc_aqueue_qsize(pq), 1); /* the putter's item moved in */
    assert_int_equal(conc_aqueue_get(pq, &v, -1), 0);
    assert_int_equal(I(v), 3);
    conc_await(conc_task_future(p1), NULL);
    assert_int_equal(putter_result, 0);
    conc_task_release(p1);
    for (int i = 0; i < 4; i++) conc_aqueue_task_done(pq); /* 11, 12, 1, 1 */
    assert_int_equal(conc_aqueue_join(pq, 0), -ETIMEDOUT); /* and 3 */
    conc_aqueue_task_done(pq);
    assert_int_equal(conc_aqueue_join(pq, 0), 0);
    conc_aqueue_free(pq);
    return NULL;
}

static void cancelled_getters_and_putters_lose_nothing(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_safety, NULL, NULL), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(fifo_lifo_and_priority_orders),
               cmocka_unit_test(producers_and_consumers_with_maxsize_and_join),
               cmocka_unit_test(cancelled_getters_and_putters_lose_nothing))
