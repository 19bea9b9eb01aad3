/* Bad input never crashes the server or reaches a decoder unchecked: an unauthenticated peer gets
 * the challenge and #FAILURE# and nothing else, an oversized frame closes the connection, malformed
 * msgpack closes it (no msgid to answer), a well-formed request with bad fields gets -EINVAL or
 * -ENOSYS. After each, the server still serves a good client. The walker itself is checked on the
 * inputs that fool the msgpack libraries (reference/deps.md). */
#define _GNU_SOURCE
#include "manager_util.h"
#include "manager/mgr.h"
#include "internal/conn.h"

static const char key[] = "hostile-test-key";

static conc_manager_t *start_small(size_t max) {
    conc_manager_opts_t o = {.authkey = key,
                             .authkey_len = sizeof key - 1,
                             .method = CONC_START_FORK,
                             .max_message = max};
    conc_manager_t *m;
    assert_int_equal(conc_manager_start(&m, &o), 0);
    return m;
}

static conc_conn_t *raw(conc_manager_t *m, bool auth) {
    conc__maddr_t a;
    int fd;
    assert_int_equal(conc__maddr_parse(conc_manager_address(m), &a), 0);
    assert_int_equal(conc__maddr_connect(&a, &fd), 0);
    conc_conn_t *c = conc__conn_new(fd, CONC__CONN_READ | CONC__CONN_WRITE, 1 << 20);
    assert_non_null(c);
    if (auth) assert_int_equal(conc__auth_client(c, key, sizeof key - 1, conc_monotonic() + 30), 0);
    return c;
}

/* The next frame, or the error (CONC_ECLOSED once the server hung up). */
static int next(conc_conn_t *c, void **buf, size_t *len) {
    return conc_conn_recv(c, buf, len, 30);
}

static void still_serving(conc_manager_t *m) {
    conc_mvalue_t *v;
    int64_t x;
    assert_int_equal(conc_mvalue_open(m, "alive", &v), 0);
    assert_int_equal(conc_mvalue_add(v, 1, &x), 0);
    conc_mproxy_close(v);
}

static void unauthenticated_gets_only_the_challenge(void **state) {
    (void)state;
    conc_manager_t *m = start_small(0);
    conc_conn_t *c = raw(m, false);
    void *buf;
    size_t len;
    assert_int_equal(next(c, &buf, &len), 0);
    assert_int_equal(len, CONC__AUTH_CHAL_LEN);
    assert_memory_equal(buf, "#CHALLENGE#{sha256}", 19);
    free(buf);
    /* a request instead of the answer: #FAILURE#, then the end */
    assert_int_equal(conc_conn_send(c,
                                    "\x94\x01\xa8"
                                    "dict.get\xa1"
                                    "d\x91\xc4\x01k",
                                    17),
                     0);
    assert_int_equal(next(c, &buf, &len), 0);
    assert_int_equal(len, 9);
    assert_memory_equal(buf, "#FAILURE#", 9);
    free(buf);
    assert_int_equal(next(c, &buf, &len), CONC_ECLOSED);
    conc_conn_close(c);
    /* a frame over the handshake's 256 bytes: closed without a word */
    c = raw(m, false);
    assert_int_equal(next(c, &buf, &len), 0);
    free(buf);
    char big[300] = {0};
    assert_int_equal(conc_conn_send(c, big, sizeof big), 0);
    assert_int_equal(next(c, &buf, &len), CONC_ECLOSED);
    conc_conn_close(c);
    /* the right answer to a legacy (MD5, unprefixed) reading is refused the same way */
    c = raw(m, false);
    assert_int_equal(next(c, &buf, &len), 0);
    free(buf);
    assert_int_equal(conc_conn_send(c, "0123456789abcdef", 16), 0);
    assert_int_equal(next(c, &buf, &len), 0);
    assert_memory_equal(buf, "#FAILURE#", 9);
    free(buf);
    conc_conn_close(c);
    still_serving(m);
    conc_manager_free(m);
}

static const struct {
    const char *bytes;
    size_t len;
} closers[] = {
    {"", 0},                     /* empty frame */
    {"\xc1", 1},                 /* reserved byte */
    {"\x94\x01", 2},             /* truncated array */
    {"\xdd\xff\xff\xff\xff", 5}, /* 4 G elements, nothing behind (msgpuck's bug) */
    {"\xdc\xff\xff", 3},         /* 65535 elements, no body */
    {"\xc6\xff\xff\xff\xf0"
     "abc",
     8},                                         /* a 4 GiB bin */
    {"\x93\x01\x00\xc0", 4},                     /* a reply, not a request */
    {"\x94\xff\xa1x\xa1y\x90", 7},               /* negative msgid */
    {"\x84\x01\x02\x03\x04\x05\x06\x07\x08", 9}, /* a map */
    {"\x94\x01\xa1x\xa1y\x90\x00", 8},           /* trailing byte */
    {"\xd9\x05"
     "abc",
     5}, /* string past the end */
};

static void malformed_frames_close(void **state) {
    (void)state;
    conc_manager_t *m = start_small(0);
    for (size_t i = 0; i < sizeof closers / sizeof *closers; i++) {
        conc_conn_t *c = raw(m, true);
        assert_int_equal(conc_conn_send(c, closers[i].bytes, closers[i].len), 0);
        void *buf;
        size_t len;
        int r = next(c, &buf, &len);
        if (r != CONC_ECLOSED) fail_msg("case %zu: %s", i, conc_errname(r));
        conc_conn_close(c);
        still_serving(m);
    }
    /* 200 nested arrays inside a request */
    char deep[300];
    size_t n = 0;
    memcpy(deep,
           "\x94\x01\xa8"
           "dict.get\xa1"
           "d",
           13);
    n = 13;
    for (int i = 0; i < 200; i++) deep[n++] = (char)0x91;
    deep[n++] = (char)0xc0;
    conc_conn_t *c = raw(m, true);
    assert_int_equal(conc_conn_send(c, deep, n), 0);
    void *buf;
    size_t len;
    assert_int_equal(next(c, &buf, &len), CONC_ECLOSED);
    conc_conn_close(c);
    still_serving(m);
    conc_manager_free(m);
}

/* [msgid, method, name, args] with bad fields: the reply's err. */
static int reply_err(conc_conn_t *c, const char *req, size_t len, uint64_t want_id) {
    assert_int_equal(conc_conn_send(c, req, len), 0);
    void *buf;
    size_t n;
    assert_int_equal(next(c, &buf, &n), 0);
    uint64_t id;
    int err;
    const char *res;
    assert_int_equal(conc__mrep_decode(buf, n, &id, &err, &res), 0);
    assert_true(id == want_id);
    free(buf);
    return err;
}

static void bad_fields_answered(void **state) {
    (void)state;
    conc_manager_t *m = start_small(0);
    conc_conn_t *c = raw(m, true);
    /* key not bytes */
    assert_int_equal(reply_err(c,
                               "\x94\x01\xa8"
                               "dict.get\xa1"
                               "d\x91\x05",
                               15, 1),
                     -EINVAL);
    /* one argument short */
    assert_int_equal(reply_err(c,
                               "\x94\x02\xa8"
                               "dict.set\xa1"
                               "d\x91\xc4\x01k",
                               17, 2),
                     -EINVAL);
    /* unknown method, unknown kind, no dot */
    assert_int_equal(reply_err(c,
                               "\x94\x03\xa8"
                               "dict.xyz\xa1"
                               "d\x90",
                               14, 3),
                     -ENOSYS);
    assert_int_equal(reply_err(c,
                               "\x94\x04\xa8"
                               "exec.run\xa1"
                               "d\x90",
                               14, 4),
                     -ENOSYS);
    assert_int_equal(reply_err(c,
                               "\x94\x05\xa4"
                               "dict\xa1"
                               "d\x90",
                               10, 5),
                     -ENOSYS);
    /* method not a string, name not bytes, args not an array */
    assert_int_equal(reply_err(c,
                               "\x94\x06\x07\xa1"
                               "d\x90",
                               6, 6),
                     -EINVAL);
    assert_int_equal(reply_err(c,
                               "\x94\x07\xa8"
                               "dict.len\x01\x90",
                               13, 7),
                     -EINVAL);
    assert_int_equal(reply_err(c,
                               "\x94\x08\xa8"
                               "dict.len\xa1"
                               "d\xc0",
                               14, 8),
                     -EINVAL);
    /* a timeout that is not a number; a queue.open with a negative maxsize */
    assert_int_equal(reply_err(c,
                               "\x94\x09\xa9"
                               "queue.get\xa1q\x91\xa1x",
                               17, 9),
                     -EINVAL);
    assert_int_equal(reply_err(c,
                               "\x94\x0a\xaa"
                               "queue.open\xa1q\x91\xff",
                               17, 10),
                     -EINVAL);
    /* an update with one bad pair changes nothing */
    assert_int_equal(reply_err(c,
                               "\x94\x0b\xab"
                               "dict.update\xa1u\x91\x92\x92\xc4\x01"
                               "a\xc4\x01"
                               "b\x92\xc4\x01"
                               "c\x05",
                               30, 11),
                     -EINVAL);
    assert_int_equal(reply_err(c,
                               "\x94\x0c\xa8"
                               "dict.len\xa1u\x90",
                               14, 12),
                     0);
    /* a huge msgid is echoed */
    assert_int_equal(reply_err(c,
                               "\x94\xcf\xff\xff\xff\xff\xff\xff\xff\xff\xa8"
                               "dict.len\xa1u\x90",
                               22, UINT64_MAX),
                     0);
    conc_conn_close(c);
    still_serving(m);
    conc_manager_free(m);
}

static void oversized_frames(void **state) {
    (void)state;
    conc_manager_t *m = start_small(4096);
    conc_conn_t *c = raw(m, true);
    char *big = calloc(1, 5000);
    assert_int_equal(conc_conn_send(c, big, 5000), 0);
    void *buf;
    size_t len;
    assert_int_equal(next(c, &buf, &len), CONC_ECLOSED);
    conc_conn_close(c);
    /* a client refuses to send what the server would refuse */
    conc_mdict_t *d;
    assert_int_equal(conc_mdict_open(m, "d", &d), 0);
    assert_int_equal(conc_mdict_set(d, "k", 1, big, 5000), -EMSGSIZE);
    /* a reply that would exceed the limit is -EMSGSIZE, not a frame the client must drop */
    assert_int_equal(conc_mdict_set(d, "a", 1, big, 3000), 0);
    assert_int_equal(conc_mdict_set(d, "b", 1, big, 3000), 0);
    conc_bytes_t *kv;
    size_t np;
    assert_int_equal(conc_mdict_items(d, &kv, &np), -EMSGSIZE);
    assert_int_equal(conc_mdict_len(d, &np), 0);
    assert_int_equal(np, 2);
    free(big);
    conc_mproxy_close(d);
    conc_manager_free(m);
}

static void walker_bounds(void **state) {
    (void)state;
    assert_int_equal(conc__mp_walk("\xdd\xff\xff\xff\xff", 5, 16), -EINVAL);
    assert_int_equal(conc__mp_walk("\x91\x91\x91\xc0", 4, 3), 0);
    assert_int_equal(conc__mp_walk("\x91\x91\x91\x91\xc0", 5, 3), -EINVAL);
    assert_int_equal(conc__mp_walk("\xc7\x01\x05"
                                   "a",
                                   4, 1),
                     0); /* ext8 */
    assert_int_equal(conc__mp_walk("\xc7\x02\x05"
                                   "a",
                                   4, 1),
                     -EINVAL);
    assert_int_equal(conc__mp_walk("\xd8\x01", 2, 1), -EINVAL);       /* fixext16 cut short */
    assert_int_equal(conc__mp_walk("\x82\x01\x02\x03\x04", 5, 1), 0); /* map: 2 pairs */
    assert_int_equal(conc__mp_walk("\x82\x01\x02\x03", 4, 1), -EINVAL);
    assert_int_equal(conc__mp_walk("\xcb\x00\x00\x00\x00\x00\x00\x00", 8, 1), -EINVAL);
    assert_int_equal(conc__mp_walk("", 0, 1), -EINVAL);
}

PROCESS_TEST_MAIN(cmocka_unit_test(unauthenticated_gets_only_the_challenge),
                  cmocka_unit_test(malformed_frames_close), cmocka_unit_test(bad_fields_answered),
                  cmocka_unit_test(oversized_frames), cmocka_unit_test(walker_bounds))
