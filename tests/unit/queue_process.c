/* Queues handed to children (conc_process_opts_t.pass) under each start method: the child talks
 * through the very same queue (requests one way, replies the other), a JoinableQueue's task_done
 * in a child releases the parent's join, and several producer and consumer processes share one
 * queue with every message delivered exactly once. */
/* TEST_TIMEOUT: 120 */
#include "process_util.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) return __LINE__ % 200 + 1;                                                    \
    } while (0)

/* Echo: take messages from queue 0 and put them, reversed, on queue 1 until "stop". */
static int echo(const void *arg, size_t len) {
    (void)arg, (void)len;
    conc_queue_t *in = conc_passed_queue(0), *out = conc_passed_queue(1);
    CHECK(in && out && !conc_passed_queue(2) && !conc_passed_conn(0));
    for (;;) {
        char *buf;
        size_t n;
        CHECK(conc_queue_get(in, (void **)&buf, &n, 30) == 0);
        if (n == 4 && !memcmp(buf, "stop", 4)) {
            free(buf);
            break;
        }
        for (size_t i = 0; i < n / 2; i++) {
            char c = buf[i];
            buf[i] = buf[n - 1 - i];
            buf[n - 1 - i] = c;
        }
        CHECK(conc_queue_put(out, buf, n, 30) == 0);
        free(buf);
    }
    conc_queue_close(out);
    CHECK(conc_queue_put(out, "x", 1, 0) == CONC_ECLOSED);
    return 0;
}
CONC_TARGET(echo)

static void expect_reply(conc_queue_t *out, int j, double timeout) {
    char msg[32], want[32];
    int n = snprintf(msg, sizeof msg, "abc-%d", j);
    for (int k = 0; k < n; k++) want[k] = msg[n - 1 - k];
    void *got;
    size_t len;
    assert_int_equal(conc_queue_get(out, &got, &len, timeout), 0);
    assert_int_equal(len, (size_t)n);
    assert_memory_equal(got, want, (size_t)n);
    free(got);
}

static void echoes(conc_start_method_t m) {
    conc_queue_t *in, *out;
    conc_queue_opts_t o = {.maxsize = 4};
    assert_int_equal(conc_queue_new(&in, &o), 0);
    assert_int_equal(conc_queue_new(&out, NULL), 0);
    conc_obj_t pass[] = {CONC_OBJ_QUEUE(in), CONC_OBJ_QUEUE(out)};
    conc_process_opts_t po = opts_for(m);
    po.pass = pass;
    po.n_pass = 2;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "echo", NULL, 0, &po), 0);
    int replies = 0;
    for (int i = 0; i < 200; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "abc-%d", i);
        /* the bounded queue makes us wait for the child now and then */
        assert_int_equal(conc_queue_put(in, msg, (size_t)n, 30), 0);
        if (i % 2) expect_reply(out, replies++, 30); /* keep some in flight */
    }
    assert_int_equal(conc_queue_put(in, "stop", 4, 30), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
    while (replies < 200) expect_reply(out, replies++, 0); /* the rest, in order, child gone */
    assert_true(conc_queue_empty(out));
    conc_queue_free(in);
    conc_queue_free(out);
}
PER_METHOD(echoes)

/* JoinableQueue: the child's task_done calls release the parent's join. */
static int worker(const void *arg, size_t len) {
    (void)arg, (void)len;
    conc_queue_t *q = conc_passed_queue(0);
    CHECK(q);
    for (int i = 0; i < 50; i++) {
        void *buf;
        size_t n;
        CHECK(conc_queue_get(q, &buf, &n, 30) == 0);
        free(buf);
        CHECK(conc_queue_task_done(q) == 0);
    }
    return 0;
}
CONC_TARGET(worker)

static void joined(conc_start_method_t m) {
    conc_queue_t *q;
    conc_queue_opts_t o = {.joinable = true};
    assert_int_equal(conc_queue_new(&q, &o), 0);
    conc_obj_t pass[] = {CONC_OBJ_QUEUE(q)};
    conc_process_opts_t po = opts_for(m);
    po.pass = pass;
    po.n_pass = 1;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "worker", NULL, 0, &po), 0);
    for (int i = 0; i < 50; i++) assert_int_equal(conc_queue_put(q, "job", 3, 30), 0);
    assert_int_equal(conc_queue_join(q, 30), 0);
    assert_int_equal(conc_queue_task_done(q), -EOVERFLOW);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
    conc_queue_free(q);
}
PER_METHOD(joined)

/* Producers put (id, seq) pairs; consumers forward what they get to a results queue until they
 * get a poison pill; the parent checks each pair arrived exactly once. */
#define PRODUCERS 3
#define CONSUMERS 3
#define PER       400

static int producer(const void *arg, size_t len) {
    int id;
    CHECK(len == sizeof id);
    memcpy(&id, arg, sizeof id);
    conc_queue_t *q = conc_passed_queue(0);
    CHECK(q);
    for (int s = 0; s < PER; s++) {
        int pair[2] = {id, s};
        CHECK(conc_queue_put(q, pair, sizeof pair, 30) == 0);
    }
    return 0;
}
CONC_TARGET(producer)

static int consumer(const void *arg, size_t len) {
    (void)arg, (void)len;
    conc_queue_t *q = conc_passed_queue(0), *res = conc_passed_queue(1);
    CHECK(q && res);
    for (;;) {
        void *buf;
        size_t n;
        CHECK(conc_queue_get(q, &buf, &n, 30) == 0);
        if (n == 0) {
            free(buf);
            return 0;
        }
        CHECK(n == 2 * sizeof(int));
        CHECK(conc_queue_put(res, buf, n, 30) == 0);
        free(buf);
    }
}
CONC_TARGET(consumer)

static void many_to_many(conc_start_method_t m) {
    conc_queue_t *q, *res;
    conc_queue_opts_t o = {.maxsize = 16};
    assert_int_equal(conc_queue_new(&q, &o), 0);
    assert_int_equal(conc_queue_new(&res, NULL), 0);
    conc_obj_t pass[] = {CONC_OBJ_QUEUE(q), CONC_OBJ_QUEUE(res)};
    conc_process_opts_t po = opts_for(m);
    po.pass = pass;
    po.n_pass = 2;
    conc_process_t *ps[PRODUCERS + CONSUMERS];
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(conc_process_start(&ps[i], "producer", &i, sizeof i, &po), 0);
    for (int i = 0; i < CONSUMERS; i++)
        assert_int_equal(conc_process_start(&ps[PRODUCERS + i], "consumer", NULL, 0, &po), 0);
    static unsigned char seen[PRODUCERS][PER];
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < PRODUCERS * PER; k++) {
        void *buf;
        size_t n;
        assert_int_equal(conc_queue_get(res, &buf, &n, 30), 0);
        assert_int_equal(n, 2 * sizeof(int));
        int pair[2];
        memcpy(pair, buf, sizeof pair);
        free(buf);
        assert_true(pair[0] >= 0 && pair[0] < PRODUCERS && pair[1] >= 0 && pair[1] < PER);
        assert_int_equal(seen[pair[0]][pair[1]], 0);
        seen[pair[0]][pair[1]] = 1;
    }
    for (int i = 0; i < CONSUMERS; i++) assert_int_equal(conc_queue_put(q, NULL, 0, 30), 0);
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        assert_int_equal(conc_process_join(ps[i], 30), 0);
        int code = -1;
        assert_int_equal(conc_process_exitcode(ps[i], &code), 0);
        assert_int_equal(code, 0);
        conc_process_free(ps[i]);
    }
    assert_true(conc_queue_empty(q) && conc_queue_empty(res));
    conc_queue_free(q);
    conc_queue_free(res);
}
PER_METHOD(many_to_many)

PROCESS_TEST_MAIN(cmocka_unit_test(echoes_fork), cmocka_unit_test(echoes_spawn),
                  cmocka_unit_test(echoes_forkserver), cmocka_unit_test(joined_fork),
                  cmocka_unit_test(joined_spawn), cmocka_unit_test(joined_forkserver),
                  cmocka_unit_test(many_to_many_fork), cmocka_unit_test(many_to_many_spawn),
                  cmocka_unit_test(many_to_many_forkserver))
