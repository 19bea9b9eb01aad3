/* Messages of any size: 64 MiB through a thread and through a fork()ed child, byte-exact; the
 * 8-byte length that Python uses above 0x7fffffff, read from raw bytes, and the header written for
 * such a length (sending 2 GiB for real is too much for CI). */
/* TEST_TIMEOUT: 120 */
#include "ipc_util.h"
#include "internal/conn.h"

#define BIG ((size_t)64 << 20)

static unsigned char *pattern(size_t n, unsigned seed) {
    unsigned char *p = malloc(n);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (unsigned char)(x >> 24);
    }
    return p;
}

struct sender {
    conc_conn_t *c;
    const void *buf;
    size_t len;
    int r;
};

static void *send_main(void *arg) {
    struct sender *s = arg;
    s->r = conc_conn_send(s->c, s->buf, s->len);
    return NULL;
}

static void big_message_between_threads(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    unsigned char *p = pattern(BIG, 1);
    struct sender s = {a, p, BIG, -1};
    pthread_t t = start_thread(send_main, &s);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(b, &buf, &len, 60), 0);
    join_thread(t);
    assert_int_equal(s.r, 0);
    assert_int_equal(len, BIG);
    assert_true(memcmp(buf, p, BIG) == 0);
    free(buf);
    free(p);
    conc_conn_close(a);
    conc_conn_close(b);
}

static void big_messages_both_ways_with_child(void **state) {
    (void)state;
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc_conn_close(a);
        void *buf;
        size_t len;
        if (conc_conn_recv(b, &buf, &len, 60) != 0 || len != BIG) _exit(1);
        unsigned char *want = pattern(BIG, 2);
        if (memcmp(buf, want, BIG) != 0) _exit(2);
        free(want);
        ((unsigned char *)buf)[0] ^= 1; /* send it back changed */
        if (conc_conn_send(b, buf, len) != 0) _exit(3);
        free(buf);
        _exit(0);
    }
    conc_conn_close(b);
    unsigned char *p = pattern(BIG, 2);
    assert_int_equal(conc_conn_send(a, p, BIG), 0);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(a, &buf, &len, 60), 0);
    assert_int_equal(len, BIG);
    p[0] ^= 1;
    assert_true(memcmp(buf, p, BIG) == 0);
    free(buf);
    free(p);
    assert_int_equal(reap(pid), 0);
    conc_conn_close(a);
}

static void eight_byte_length_is_read(void **state) {
    (void)state;
    int raw;
    conc_conn_t *c = conn_with_raw_peer(&raw);
    unsigned char h[12];
    be32(h, -1);
    be64(h + 4, 5);
    write_all(raw, h, sizeof h);
    write_all(raw, "hello", 5);
    /* and the header split across writes, with a timeout in between */
    be32(h, -1);
    be64(h + 4, 3);
    write_all(raw, h, 6);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "hello", 5);
    free(buf);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 0.05), -ETIMEDOUT);
    write_all(raw, h + 6, 6);
    write_all(raw, "abc", 3);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "abc", 3);
    free(buf);
    close(raw);
    conc_conn_close(c);
}

static void header_encoding(void **state) {
    (void)state;
    unsigned char h[CONC__FRAME_HDR_MAX];
    assert_int_equal(conc__frame_header(0, h), 4);
    assert_memory_equal(h, "\0\0\0\0", 4);
    assert_int_equal(conc__frame_header(0x01020304, h), 4);
    assert_memory_equal(h, "\x01\x02\x03\x04", 4);
    assert_int_equal(conc__frame_header(0x7fffffff, h), 4);
    assert_memory_equal(h, "\x7f\xff\xff\xff", 4);
    /* Python: n > 0x7fffffff -> pack("!i", -1) + pack("!Q", n) */
    assert_int_equal(conc__frame_header(0x80000000u, h), 12);
    assert_memory_equal(h, "\xff\xff\xff\xff\0\0\0\0\x80\0\0\0", 12);
    assert_int_equal(conc__frame_header((size_t)0x0102030405ULL, h), 12);
    assert_memory_equal(h, "\xff\xff\xff\xff\0\0\0\x01\x02\x03\x04\x05", 12);
}

CONC_TEST_MAIN(cmocka_unit_test(big_message_between_threads),
               cmocka_unit_test(big_messages_both_ways_with_child),
               cmocka_unit_test(eight_byte_length_is_read), cmocka_unit_test(header_encoding))
