/* Processes started and joined from several threads at once (spawn and forkserver: fork from a
 * multi-threaded process is what they exist to avoid), and one process joined by two threads. */
#define _GNU_SOURCE
#include <unistd.h>
#include "process_util.h"

static int exit_arg(const void *arg, size_t len) {
    return len == 1 ? *(const unsigned char *)arg : 100;
}
CONC_TARGET(exit_arg)

static int pause_forever(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(pause_forever)

enum { THREADS = 4, EACH = 8 };

struct job {
    conc_start_method_t m;
    unsigned char base;
};

/* Start EACH children, then join them all; NULL if every exit code was right. */
static void *starter(void *arg) {
    struct job *j = arg;
    conc_process_opts_t o = {.method = j->m};
    conc_process_t *p[EACH];
    for (int i = 0; i < EACH; i++) {
        unsigned char c = (unsigned char)(j->base + i);
        if (conc_process_start(&p[i], "exit_arg", &c, 1, &o) != 0) return (void *)1;
    }
    void *bad = NULL;
    for (int i = 0; i < EACH; i++) {
        int code = -1;
        if (conc_process_join(p[i], 30) != 0 || conc_process_exitcode(p[i], &code) != 0 ||
            code != j->base + i)
            bad = (void *)2;
        conc_process_free(p[i]);
    }
    return bad;
}

static void concurrent_starts(conc_start_method_t m) {
    conc_thread_t *t[THREADS];
    struct job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){m, (unsigned char)(i * EACH)};
        assert_int_equal(conc_thread_start(&t[i], starter, &jobs[i], NULL), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *r = (void *)-1;
        assert_int_equal(conc_thread_join(t[i], 60, &r), 0);
        assert_null(r);
        conc_thread_release(t[i]);
    }
}

static void concurrent_starts_spawn(void **state) {
    (void)state;
    concurrent_starts(CONC_START_SPAWN);
}

static void concurrent_starts_forkserver(void **state) {
    (void)state;
    concurrent_starts(CONC_START_FORKSERVER);
}

static void *joiner(void *arg) {
    conc_process_t *p = arg;
    int code = 0;
    if (conc_process_join(p, 30) != 0 || conc_process_exitcode(p, &code) != 0) return (void *)1;
    return (void *)(intptr_t)code;
}

/* Two threads wait for the same child; both see it end, with the same code. */
static void joined_twice(conc_start_method_t m) {
    conc_process_opts_t o = opts_for(m);
    o.daemon = true;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "pause_forever", NULL, 0, &o), 0);
    conc_thread_t *t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(conc_thread_start(&t[i], joiner, p, NULL), 0);
    assert_int_equal(conc_process_join(p, 0.05), -ETIMEDOUT);
    assert_int_equal(conc_process_kill(p), 0);
    for (int i = 0; i < 2; i++) {
        void *r = NULL;
        assert_int_equal(conc_thread_join(t[i], 30, &r), 0);
        assert_int_equal((intptr_t)r, -9);
        conc_thread_release(t[i]);
    }
    conc_process_free(p);
}

static void joined_twice_spawn(void **state) {
    (void)state;
    joined_twice(CONC_START_SPAWN);
}

static void joined_twice_forkserver(void **state) {
    (void)state;
    joined_twice(CONC_START_FORKSERVER);
}

PROCESS_TEST_MAIN(cmocka_unit_test(concurrent_starts_spawn),
                  cmocka_unit_test(concurrent_starts_forkserver),
                  cmocka_unit_test(joined_twice_spawn), cmocka_unit_test(joined_twice_forkserver))
