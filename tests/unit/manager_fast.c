/* The same-host fast path (src/manager/fast.c, sfast.c): a unix-socket client gets a shared-memory
 * slot and its calls go through it; TCP and CONC_MANAGER_FAST=0 stay on the socket; requests and
 * replies too big for the slot, and calls that park on the server, still work (the reply comes on
 * the socket); and a client that writes garbage into its slot - a bad length, bytes that are not
 * msgpack, a request with bad fields - gets what a socket client would (closed, or -EINVAL), while
 * the server goes on serving everyone else. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include "manager_util.h"
#include "manager/mgr.h"

static void still_serving(conc_manager_t *m) {
    conc_mvalue_t *v;
    int64_t x;
    assert_int_equal(conc_mvalue_open(m, "alive", &v), 0);
    assert_int_equal(conc_mvalue_add(v, 1, &x), 0);
    conc_mproxy_close(v);
}

static conc_manager_t *second(conc_manager_t *m) {
    size_t klen;
    const void *key = conc_manager_authkey(m, &klen);
    conc_manager_t *m2;
    assert_int_equal(conc_manager_connect(&m2, conc_manager_address(m), key, klen), 0);
    return m2;
}

static void roundtrip(conc_manager_t *m, size_t n) {
    conc_mdict_t *d;
    assert_int_equal(conc_mdict_open(m, "d", &d), 0);
    char *v = malloc(n);
    for (size_t i = 0; i < n; i++) v[i] = (char)(i * 7);
    assert_int_equal(conc_mdict_set(d, "k", 1, v, n), 0);
    void *out;
    size_t len;
    assert_int_equal(conc_mdict_get(d, "k", 1, &out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, v, n);
    free(out);
    free(v);
    conc_mproxy_close(d);
}

static void unix_gets_a_slot_tcp_does_not(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    assert_non_null(m->fast);
    roundtrip(m, 16);
    roundtrip(m, 60000);  /* fits the slot both ways */
    roundtrip(m, 100000); /* the request goes on the socket, then the reply does */
    conc_mdict_t *d;
    assert_int_equal(conc_mdict_open(m, "d", &d), 0);
    assert_int_equal(conc_mdict_set(d, "k", 1, "v", 1), 0);
    void *out;
    size_t len;
    char big[70000];
    memset(big, 'x', sizeof big);
    assert_int_equal(conc_mdict_set(d, "big", 3, big, sizeof big), 0);
    assert_int_equal(conc_mdict_get(d, "big", 3, &out, &len), 0); /* small request, big reply */
    assert_int_equal(len, sizeof big);
    free(out);
    conc_mproxy_close(d);
    /* turned off by the environment: the same calls on the socket */
    setenv("CONC_MANAGER_FAST", "0", 1);
    conc_manager_t *off = second(m);
    unsetenv("CONC_MANAGER_FAST");
    assert_null(off->fast);
    roundtrip(off, 100);
    conc_manager_free(off);
    conc_manager_free(m);
    m = start_manager(CONC_START_FORK, "tcp:127.0.0.1:0");
    assert_null(m->fast);
    roundtrip(m, 100);
    conc_manager_free(m);
}

static void *put_later(void *arg) {
    conc_mqueue_t *q = arg;
    return (void *)(intptr_t)conc_mqueue_put(q, "item", 4, 30);
}

static void parked_calls_answer_on_the_socket(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL), *m2 = second(m);
    assert_non_null(m->fast);
    conc_mqueue_t *q, *q2;
    assert_int_equal(conc_mqueue_open(m, "q", 0, &q), 0);
    assert_int_equal(conc_mqueue_open(m2, "q", 0, &q2), 0);
    void *out;
    size_t len;
    double t0 = conc_monotonic();
    assert_int_equal(conc_mqueue_get(q, &out, &len, 0.2), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, put_later, q2, NULL), 0);
    int r = conc_mqueue_get(q, &out, &len, 30);
    expect_bytes(r, out, len, "item");
    void *res;
    assert_int_equal(conc_thread_join(t, 30, &res), 0);
    conc_thread_release(t);
    assert_int_equal((intptr_t)res, 0);
    /* a lock held through one slot, waited for through another */
    conc_mlock_t *l, *l2;
    assert_int_equal(conc_mlock_open(m, "L", &l), 0);
    assert_int_equal(conc_mlock_open(m2, "L", &l2), 0);
    assert_int_equal(conc_mlock_acquire(l, 0), 0);
    assert_int_equal(conc_mlock_acquire(l2, 0.1), -ETIMEDOUT);
    assert_int_equal(conc_mlock_release(l), 0);
    assert_int_equal(conc_mlock_acquire(l2, 30), 0);
    assert_int_equal(conc_mlock_release(l2), 0);
    conc_mproxy_close(l);
    conc_mproxy_close(l2);
    conc_mproxy_close(q);
    conc_mproxy_close(q2);
    conc_manager_free(m2);
    conc_manager_free(m);
}

/* Put raw bytes in m's slot as a request and ring; returns what the slot says after (MS_DONE,
 * MS_SOCKET), or -1 once the server closed the connection. */
static int post_raw(conc_manager_t *m, const void *req, uint32_t len, uint32_t claimed) {
    conc__mshm_t *h = m->fast;
    memcpy(h->req, req, len);
    __atomic_store_n(&h->req_len, claimed, __ATOMIC_RELAXED);
    __atomic_store_n(&h->state, MS_REQ, __ATOMIC_SEQ_CST);
    uint64_t one = 1;
    assert_int_equal(write(m->bell, &one, sizeof one), sizeof one);
    double end = conc_monotonic() + 30;
    while (conc_monotonic() < end) {
        uint32_t st = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
        /* a server closing a connection sends a waiting client to the (closed) socket */
        struct pollfd p = {conc_conn_fd(m->conn), POLLRDHUP, 0};
        if (poll(&p, 1, st == MS_SOCKET ? 30000 : 10) > 0 && (p.revents & (POLLRDHUP | POLLHUP)))
            return -1;
        if (st != MS_REQ) return (int)st;
    }
    fail_msg("the server neither answered nor closed");
    return 0;
}

static void hostile_slot(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    /* a length beyond the slot: closed */
    conc_manager_t *h = second(m);
    assert_non_null(h->fast);
    assert_int_equal(post_raw(h, "", 0, 0xffffffffu), -1);
    conc_manager_free(h);
    still_serving(m);
    /* not msgpack (a 0xc1 byte, an array announcing more than there is): closed */
    h = second(m);
    assert_int_equal(post_raw(h, "\xc1", 1, 1), -1);
    conc_manager_free(h);
    h = second(m);
    assert_int_equal(post_raw(h, "\xdd\xff\xff\xff\xff", 5, 5), -1);
    conc_manager_free(h);
    still_serving(m);
    /* a request with a bad method and one with bad fields: answered in the slot, as on the wire */
    h = second(m);
    static const char nosys[] = "\x94\x01\xa8"
                                "dict.zap\xa1"
                                "d\x90";
    assert_int_equal(post_raw(h, nosys, sizeof nosys - 1, sizeof nosys - 1), MS_DONE);
    uint64_t id;
    int err;
    const char *res;
    assert_int_equal(
        conc__mrep_decode(h->fast->req + CONC__MSHM_CAP, h->fast->rep_len, &id, &err, &res), 0);
    assert_int_equal(id, 1);
    assert_int_equal(err, -ENOSYS);
    static const char badargs[] = "\x94\x02\xa8"
                                  "dict.set\xa1"
                                  "d\x91\x05";
    assert_int_equal(post_raw(h, badargs, sizeof badargs - 1, sizeof badargs - 1), MS_DONE);
    assert_int_equal(
        conc__mrep_decode(h->fast->req + CONC__MSHM_CAP, h->fast->rep_len, &id, &err, &res), 0);
    assert_int_equal(err, -EINVAL);
    roundtrip(h, 10); /* and the slot still works for real calls */
    conc_manager_free(h);
    still_serving(m);
    conc_manager_free(m);
}

PROCESS_TEST_MAIN(cmocka_unit_test(unix_gets_a_slot_tcp_does_not),
                  cmocka_unit_test(parked_calls_answer_on_the_socket),
                  cmocka_unit_test(hostile_slot))
