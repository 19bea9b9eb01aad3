/* Thread safety: two threads sending on one Connection never interleave their frames (messages
 * larger than the socket buffer, so each send is split by the kernel); two threads receiving get
 * whole messages, each exactly once; a receive that timed out in the middle of a frame resumes it. */
#include "ipc_util.h"

enum { MSGS = 40, SIZE = 300000 };

struct sender {
    conc_conn_t *c;
    unsigned char id;
    int fails;
};

static void *send_main(void *arg) {
    struct sender *s = arg;
    unsigned char *m = malloc(SIZE);
    for (int i = 0; i < MSGS; i++) {
        size_t n = SIZE - (size_t)i * 1000;
        memset(m, s->id, n);
        if (conc_conn_send(s->c, m, n) != 0) s->fails++;
    }
    free(m);
    return NULL;
}

static void concurrent_sends_do_not_interleave(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    struct sender s1 = {a, 1, 0}, s2 = {a, 2, 0};
    pthread_t t1 = start_thread(send_main, &s1), t2 = start_thread(send_main, &s2);
    int seen[3] = {0};
    for (int i = 0; i < 2 * MSGS; i++) {
        void *buf;
        size_t len;
        assert_int_equal(conc_conn_recv(b, &buf, &len, 30), 0);
        unsigned char *p = buf;
        assert_true(len > 0 && (p[0] == 1 || p[0] == 2));
        for (size_t k = 0; k < len; k++)
            if (p[k] != p[0]) fail_msg("message %d torn at byte %zu", i, k);
        assert_int_equal(len, SIZE - (size_t)seen[p[0]] * 1000); /* each sender's order kept */
        seen[p[0]]++;
        free(buf);
    }
    join_thread(t1);
    join_thread(t2);
    assert_int_equal(s1.fails + s2.fails, 0);
    conc_conn_close(a);
    conc_conn_close(b);
}

struct receiver {
    conc_conn_t *c;
    int got[2 * MSGS];
    int n, bad;
};

static void *recv_main(void *arg) {
    struct receiver *r = arg;
    for (;;) {
        void *buf;
        size_t len;
        int e = conc_conn_recv(r->c, &buf, &len, 30);
        if (e == CONC_ECLOSED) return NULL;
        if (e != 0 || len != SIZE) {
            r->bad++;
            return NULL;
        }
        int idx;
        memcpy(&idx, buf, sizeof idx);
        for (size_t k = sizeof idx; k < len; k++)
            if (((unsigned char *)buf)[k] != (unsigned char)idx) r->bad++;
        r->got[r->n++] = idx;
        free(buf);
    }
}

static void concurrent_receives_get_whole_messages(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    struct receiver *r1 = calloc(1, sizeof *r1), *r2 = calloc(1, sizeof *r2);
    r1->c = r2->c = b;
    pthread_t t1 = start_thread(recv_main, r1), t2 = start_thread(recv_main, r2);
    unsigned char *m = malloc(SIZE);
    for (int i = 0; i < 2 * MSGS; i++) {
        memset(m, (unsigned char)i, SIZE);
        memcpy(m, &i, sizeof i);
        assert_int_equal(conc_conn_send(a, m, SIZE), 0);
    }
    free(m);
    conc_conn_close(a);
    join_thread(t1);
    join_thread(t2);
    assert_int_equal(r1->bad + r2->bad, 0);
    assert_int_equal(r1->n + r2->n, 2 * MSGS);
    int count[2 * MSGS] = {0};
    for (int i = 0; i < r1->n; i++) count[r1->got[i]]++;
    for (int i = 0; i < r2->n; i++) count[r2->got[i]]++;
    for (int i = 0; i < 2 * MSGS; i++) assert_int_equal(count[i], 1);
    free(r1);
    free(r2);
    conc_conn_close(b);
}

static void timeout_mid_frame_resumes(void **state) {
    (void)state;
    int raw;
    conc_conn_t *c = conn_with_raw_peer(&raw);
    unsigned char h[4];
    be32(h, 10);
    void *buf;
    size_t len;
    write_all(raw, h, 2);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 0), -ETIMEDOUT);
    write_all(raw, h + 2, 2);
    write_all(raw, "01234", 5);
    double t0 = conc_monotonic();
    assert_int_equal(conc_conn_recv(c, &buf, &len, 0.1), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 >= 0.1);
    write_all(raw, "56789", 5);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(buf, "0123456789", 10);
    free(buf);
    close(raw);
    conc_conn_close(c);
}

CONC_TEST_MAIN(cmocka_unit_test(concurrent_sends_do_not_interleave),
               cmocka_unit_test(concurrent_receives_get_whole_messages),
               cmocka_unit_test(timeout_mid_frame_resumes))
