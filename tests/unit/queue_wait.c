/* conc_wait on queues (ready = not empty), alone and mixed with connections and processes: an
 * empty queue times out, a put from another process wakes the wait, a message taken by somebody
 * else before the waiter looks leaves it asleep (the eventfd hint went stale), and a queue handed to
 * a child under each start method is waitable on both sides. */
/* TEST_TIMEOUT: 120 */
#include <pthread.h>
#include "process_util.h"

static void alone(void **state) {
    (void)state;
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, NULL), 0);
    conc_obj_t objs[] = {CONC_OBJ_QUEUE(q)};
    bool ready[1] = {true};
    assert_int_equal(conc_wait(objs, 1, 0, ready), -ETIMEDOUT);
    assert_false(ready[0]);
    double t0 = conc_monotonic();
    assert_int_equal(conc_wait(objs, 1, 0.2, ready), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    assert_int_equal(conc_queue_put(q, "x", 1, 0), 0);
    assert_int_equal(conc_wait(objs, 1, 0, ready), 1);
    assert_true(ready[0]);
    assert_int_equal(conc_wait(objs, 1, 5, ready), 1); /* level-triggered, as for connections */
    void *buf;
    size_t n;
    assert_int_equal(conc_queue_get(q, &buf, &n, 0), 0);
    free(buf);
    assert_int_equal(conc_wait(objs, 1, 0.05, ready), -ETIMEDOUT);
    conc_queue_free(q);
}

struct thief {
    conc_queue_t *q;
    uint32_t go;
};

/* The put lands while a waiter sleeps; another thread takes the message before the waiter runs
 * again (most of the time): the waiter must not report the queue, and must still see a later put. */
static void *put_then_steal(void *arg) {
    struct thief *t = arg;
    while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE)) sched_yield();
    for (int i = 0; i < 50; i++) {
        if (conc_queue_put(t->q, "s", 1, 5) != 0) return (void *)1;
        void *buf;
        size_t n;
        if (conc_queue_get(t->q, &buf, &n, 5) != 0) return (void *)2;
        free(buf);
    }
    return NULL;
}

static void stale_hint(void **state) {
    (void)state;
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, NULL), 0);
    struct thief t = {q, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, put_then_steal, &t), 0);
    conc_obj_t objs[] = {CONC_OBJ_QUEUE(q)};
    bool ready[1];
    __atomic_store_n(&t.go, 1, __ATOMIC_RELEASE);
    /* whatever it saw while the thief ran, the queue is empty once the thief is done */
    int r;
    while ((r = conc_wait(objs, 1, 0.01, ready)) == 1) assert_true(ready[0]);
    assert_int_equal(r, -ETIMEDOUT);
    void *ret;
    assert_int_equal(pthread_join(th, &ret), 0);
    assert_null(ret);
    assert_int_equal(conc_wait(objs, 1, 0.05, ready), -ETIMEDOUT);
    assert_int_equal(conc_queue_put(q, "late", 4, 0), 0);
    assert_int_equal(conc_wait(objs, 1, 5, ready), 1);
    conc_queue_free(q);
}

/* The child waits for a message on queue 0, then puts one on queue 1 and exits. */
static int relay(const void *arg, size_t len) {
    (void)arg, (void)len;
    conc_queue_t *in = conc_passed_queue(0), *out = conc_passed_queue(1);
    if (!in || !out) return 1;
    conc_obj_t objs[] = {CONC_OBJ_QUEUE(in)};
    bool ready[1];
    if (conc_wait(objs, 1, 30, ready) != 1 || !ready[0]) return 2;
    void *buf;
    size_t n;
    if (conc_queue_get(in, &buf, &n, 0) != 0) return 3;
    int r = conc_queue_put(out, buf, n, 30);
    free(buf);
    return r == 0 ? 0 : 4;
}
CONC_TARGET(relay)

static void mixed(conc_start_method_t m) {
    conc_queue_t *in, *out;
    assert_int_equal(conc_queue_new(&in, NULL), 0);
    assert_int_equal(conc_queue_new(&out, NULL), 0);
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    conc_obj_t pass[] = {CONC_OBJ_QUEUE(in), CONC_OBJ_QUEUE(out)};
    conc_process_opts_t o = opts_for(m);
    o.pass = pass;
    o.n_pass = 2;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "relay", NULL, 0, &o), 0);
    conc_obj_t objs[] = {CONC_OBJ_QUEUE(out), CONC_OBJ_CONN(a), CONC_OBJ_PROCESS(p),
                         CONC_OBJ_QUEUE(in)};
    bool ready[4];
    assert_int_equal(conc_wait(objs, 4, 0.1, ready), -ETIMEDOUT);
    assert_int_equal(conc_conn_send(b, "c", 1), 0);
    assert_int_equal(conc_wait(objs, 4, 10, ready), 1);
    assert_true(!ready[0] && ready[1] && !ready[2] && !ready[3]);
    void *buf;
    size_t n;
    assert_int_equal(conc_conn_recv(a, &buf, &n, 0), 0);
    free(buf);
    /* the child wakes from its own conc_wait, and its put wakes ours */
    assert_int_equal(conc_queue_put(in, "hop", 3, 0), 0);
    bool got_out = false, ended = false;
    double end = conc_monotonic() + 30;
    while (!(got_out && ended)) {
        assert_true(conc_monotonic() < end);
        int r = conc_wait(objs, 3, 30, ready);
        assert_true(r >= 1);
        assert_false(ready[1]);
        if (ready[0]) {
            assert_int_equal(conc_queue_get(out, &buf, &n, 0), 0);
            assert_int_equal(n, 3);
            assert_memory_equal(buf, "hop", 3);
            free(buf);
            got_out = true;
        }
        if (ready[2]) {
            ended = true;
            objs[2] = CONC_OBJ_CONN(a); /* stop reporting the ended process */
        }
    }
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
    conc_conn_close(a);
    conc_conn_close(b);
    conc_queue_free(in);
    conc_queue_free(out);
}
PER_METHOD(mixed)

PROCESS_TEST_MAIN(cmocka_unit_test(alone), cmocka_unit_test(stale_hint),
                  cmocka_unit_test(mixed_fork), cmocka_unit_test(mixed_spawn),
                  cmocka_unit_test(mixed_forkserver))
