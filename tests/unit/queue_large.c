/* Messages larger than the ring: a 64 MiB message to another process and back, large and small
 * messages interleaved in order, and the spill area's memory given back once a message is taken. */
/* TEST_TIMEOUT: 180 */
#include <sys/stat.h>
#include "ipc_util.h"
#include "internal/queue.h"

#define BIG ((size_t)64 << 20)

static void fill(unsigned char *b, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i += 4096) b[i] = (unsigned char)(seed + i / 4096);
    b[n - 1] = (unsigned char)seed;
}

static bool same(const unsigned char *a, const unsigned char *b, size_t n) {
    return memcmp(a, b, n) == 0;
}

static conc_queue_t *q, *back;

static int child_echoes_big(void *arg) {
    (void)arg;
    void *buf;
    size_t len;
    CHECK(conc_queue_get(q, &buf, &len, 60) == 0);
    CHECK(len == BIG);
    CHECK(conc_queue_put(back, buf, len, 60) == 0);
    free(buf);
    return 0;
}

static void sixty_four_mib_between_processes(void **state) {
    (void)state;
    assert_int_equal(conc_queue_new(&q, NULL), 0);
    assert_int_equal(conc_queue_new(&back, NULL), 0);
    unsigned char *msg = malloc(BIG);
    assert_non_null(msg);
    memset(msg, 0x5a, BIG);
    fill(msg, BIG, 7);
    pid_t pid = fork_body(child_echoes_big, NULL);
    assert_int_equal(conc_queue_put(q, msg, BIG, 60), 0);
    void *got;
    size_t len;
    assert_int_equal(conc_queue_get(back, &got, &len, 60), 0);
    assert_int_equal(reap(pid), 0);
    assert_int_equal(len, BIG);
    assert_true(same(got, msg, BIG));
    free(got);
    free(msg);
    conc_queue_free(q);
    conc_queue_free(back);
}

static void mixed_sizes_in_order(void **state) {
    (void)state;
    conc_queue_opts_t o = {.ring_bytes = 16384};
    assert_int_equal(conc_queue_new(&q, &o), 0);
    static unsigned char buf[300000];
    for (int round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 60; i++) {
            size_t n = (i % 4 == 0) ? 100000 + i * 1000 : 10 + i * 30; /* some spill, most not */
            memset(buf, (int)i, n);
            assert_int_equal(conc_queue_put(q, buf, n, 10), 0);
            if (i % 5 == 4) { /* drain now and then so the ring wraps */
                void *got;
                size_t len;
                while (conc_queue_qsize(q) > 2) {
                    assert_int_equal(conc_queue_get(q, &got, &len, 0), 0);
                    free(got);
                }
            }
        }
        void *got;
        size_t len;
        while (conc_queue_get(q, &got, &len, 0) == 0) free(got);
    }
    /* exact contents, in order */
    unsigned char *want = malloc(300000);
    for (unsigned i = 0; i < 20; i++) {
        size_t n = (i % 4 == 0) ? 100000 + i * 1000 : 10 + i * 30;
        memset(buf, (int)i, n);
        assert_int_equal(conc_queue_put(q, buf, n, 10), 0);
    }
    for (unsigned i = 0; i < 20; i++) {
        size_t n = (i % 4 == 0) ? 100000 + i * 1000 : 10 + i * 30;
        memset(want, (int)i, n);
        void *got;
        size_t len;
        assert_int_equal(conc_queue_get(q, &got, &len, 0), 0);
        assert_int_equal(len, n);
        assert_true(same(got, want, n));
        free(got);
    }
    free(want);
    conc_queue_free(q);
}

static long file_kib(int fd) {
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    return (long)st.st_blocks / 2;
}

static void spill_memory_given_back(void **state) {
    (void)state;
    conc_queue_opts_t o = {.ring_bytes = 65536};
    assert_int_equal(conc_queue_new(&q, &o), 0);
    size_t n = 8 << 20;
    unsigned char *msg = malloc(n);
    memset(msg, 1, n);
    long before = file_kib(q->memfd);
    for (int i = 0; i < 4; i++) assert_int_equal(conc_queue_put(q, msg, n, 10), 0);
    assert_true(file_kib(q->memfd) >= before + 4 * 8192);
    for (int i = 0; i < 4; i++) {
        void *got;
        size_t len;
        assert_int_equal(conc_queue_get(q, &got, &len, 10), 0);
        assert_int_equal(len, n);
        free(got);
    }
    assert_true(file_kib(q->memfd) <= before + 64);
    free(msg);
    conc_queue_free(q);
}

CONC_TEST_MAIN(cmocka_unit_test(sixty_four_mib_between_processes),
               cmocka_unit_test(mixed_sizes_in_order), cmocka_unit_test(spill_memory_given_back))
