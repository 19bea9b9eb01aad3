/* A peer that lies: a frame header announcing 2^40 bytes, or more than the connection's limit, or
 * a negative length other than -1, is CONC_EPROTO; the connection is then closed both ways and
 * nothing of the announced size was allocated. A length within the limit is not trusted either:
 * memory grows only with the bytes that arrive. A frame cut short by the peer's exit is
 * CONC_ECLOSED, and leaks nothing (ASan checks). */
#include "ipc_util.h"

static void expect_proto(const unsigned char *hdr, size_t n, size_t max) {
    int raw;
    conc_conn_t *c = conn_with_raw_peer(&raw);
    if (max) assert_int_equal(conc_conn_set_max_message(c, max), 0);
    write_all(raw, hdr, n);
    write_all(raw, "some body bytes", 15);
    void *buf;
    size_t len;
    long rss = max_rss_kib();
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_EPROTO);
    assert_true(max_rss_kib() - rss < 64 * 1024);
    /* closed: no more frames, the peer sees EOF and cannot send */
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_ECLOSED);
    assert_int_equal(conc_conn_send(c, "x", 1), CONC_ECLOSED);
    assert_int_equal(conc_conn_poll(c, 0), 0);
    char tmp[8];
    assert_int_equal(recv(raw, tmp, sizeof tmp, 0), 0);
    close(raw);
    conc_conn_close(c);
}

static void huge_header(void **state) {
    (void)state;
    unsigned char h[12];
    be32(h, -1);
    be64(h + 4, (uint64_t)1 << 40);
    expect_proto(h, 12, 0);
    be64(h + 4, UINT64_MAX);
    expect_proto(h, 12, 0);
    be64(h + 4, ((uint64_t)1 << 30) + 1); /* one past the default limit */
    expect_proto(h, 12, 0);
}

static void over_custom_limit(void **state) {
    (void)state;
    unsigned char h[4];
    be32(h, 4097);
    expect_proto(h, 4, 4096);
    be32(h, 0x7fffffff);
    expect_proto(h, 4, 0);
}

static void negative_length(void **state) {
    (void)state;
    unsigned char h[4];
    be32(h, -2);
    expect_proto(h, 4, 0);
    be32(h, INT32_MIN);
    expect_proto(h, 4, 0);
}

static void within_limit_is_not_preallocated(void **state) {
    (void)state;
    int raw;
    conc_conn_t *c = conn_with_raw_peer(&raw);
    unsigned char h[4];
    be32(h, 900 << 20); /* 900 MiB announced, within the 1 GiB default */
    write_all(raw, h, 4);
    write_all(raw, "just this", 9);
    close(raw);
    long rss = max_rss_kib();
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_ECLOSED);
    assert_true(max_rss_kib() - rss < 64 * 1024);
    conc_conn_close(c);
}

/* In a child with its address space capped far below the announced sizes: the checks must come
 * before any allocation. (Not under ASan or TSan: their shadow memory needs the address space.) */
static int capped_body(void *arg) {
    (void)arg;
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
    rl.rlim_cur = 256 << 20;
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
    void *buf;
    size_t len;
    unsigned char h[12];
    int raw;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    raw = conc_conn_fd(b);
    be32(h, 900 << 20);
    CHECK(send(raw, h, 4, 0) == 4 && send(raw, "abc", 3, 0) == 3);
    CHECK(conc_conn_recv(a, &buf, &len, 0.05) == -ETIMEDOUT); /* not -ENOMEM: nothing reserved */
    conc_conn_close(b);
    CHECK(conc_conn_recv(a, &buf, &len, 10) == CONC_ECLOSED);
    conc_conn_close(a);
    CHECK(conc_pipe(&a, &b, true) == 0);
    raw = conc_conn_fd(b);
    be32(h, -1);
    be64(h + 4, (uint64_t)1 << 40);
    CHECK(send(raw, h, 12, 0) == 12);
    CHECK(conc_conn_recv(a, &buf, &len, 10) == CONC_EPROTO);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void no_allocation_under_address_space_cap(void **state) {
    (void)state;
    if (sanitized()) skip();
    assert_int_equal(reap(fork_body(capped_body, NULL)), 0);
}

static void truncated_frames(void **state) {
    (void)state;
    unsigned char h[12];
    void *buf;
    size_t len;
    int raw;
    conc_conn_t *c;
    /* body cut short */
    c = conn_with_raw_peer(&raw);
    be32(h, 100000);
    write_all(raw, h, 4);
    char part[5000] = {1};
    write_all(raw, part, sizeof part);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 0.05), -ETIMEDOUT); /* a partial frame waits */
    close(raw);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_ECLOSED);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_ECLOSED);
    conc_conn_close(c);
    /* header cut short, plain and wide */
    c = conn_with_raw_peer(&raw);
    write_all(raw, "\0\0", 2);
    close(raw);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_ECLOSED);
    conc_conn_close(c);
    c = conn_with_raw_peer(&raw);
    write_all(raw, "\xff\xff\xff\xff\0\0", 6);
    close(raw);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_ECLOSED);
    conc_conn_close(c);
    /* a complete frame before the cut is still delivered */
    c = conn_with_raw_peer(&raw);
    be32(h, 2);
    write_all(raw, h, 4);
    write_all(raw, "ok", 2);
    be32(h, 10);
    write_all(raw, h, 4);
    write_all(raw, "abc", 3);
    close(raw);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), 0);
    assert_int_equal(len, 2);
    free(buf);
    assert_int_equal(conc_conn_recv(c, &buf, &len, 10), CONC_ECLOSED);
    conc_conn_close(c);
}

/* Closing a connection in the middle of a partial frame frees what was read (ASan checks). */
static void close_mid_frame(void **state) {
    (void)state;
    int raw;
    conc_conn_t *c = conn_with_raw_peer(&raw);
    unsigned char h[4];
    be32(h, 1000);
    write_all(raw, h, 4);
    write_all(raw, "partial", 7);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(c, &buf, &len, 0.02), -ETIMEDOUT);
    conc_conn_close(c);
    close(raw);
}

CONC_TEST_MAIN(cmocka_unit_test(huge_header), cmocka_unit_test(over_custom_limit),
               cmocka_unit_test(negative_length),
               cmocka_unit_test(within_limit_is_not_preallocated),
               cmocka_unit_test(no_allocation_under_address_space_cap),
               cmocka_unit_test(truncated_frames), cmocka_unit_test(close_mid_frame))
