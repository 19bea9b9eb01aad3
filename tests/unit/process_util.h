/* Shared scaffolding for the process tests.
 *
 * A spawned child and the forkserver re-execute the test binary itself, so a process test file has
 * its own main that calls conc_init first (where a child runs its target and exits) and then runs
 * the cmocka case named in argv[1], as CONC_TEST_MAIN does. Targets report through their exit
 * status: a check that fails in a child returns its number, and the parent asserts on it. */
#ifndef CONC_TEST_PROCESS_UTIL_H
#define CONC_TEST_PROCESS_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "test.h"

#define PROCESS_TEST_MAIN(...)                                                                     \
    int main(int argc, char **argv) {                                                              \
        if (conc_init(argc, argv) != 0) return 99;                                                 \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        if (argc > 1) cmocka_set_test_filter(argv[1]);                                             \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

/* One case per start method from a checker taking the method. */
#define PER_METHOD(check)                                                                          \
    static void check##_fork(void **state) {                                                       \
        (void)state;                                                                               \
        check(CONC_START_FORK);                                                                    \
    }                                                                                              \
    static void check##_spawn(void **state) {                                                      \
        (void)state;                                                                               \
        check(CONC_START_SPAWN);                                                                   \
    }                                                                                              \
    static void check##_forkserver(void **state) {                                                 \
        (void)state;                                                                               \
        check(CONC_START_FORKSERVER);                                                              \
    }

static inline conc_process_opts_t opts_for(conc_start_method_t m) {
    conc_process_opts_t o;
    memset(&o, 0, sizeof o);
    o.method = m;
    return o;
}

/* Start target with arg under method m, join it (30 s at most) and return its exit code. */
static inline int run_child(conc_start_method_t m, const char *target, const void *arg,
                            size_t len) {
    conc_process_opts_t o = opts_for(m);
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, target, arg, len, &o), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1000;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    conc_process_free(p);
    return code;
}

static inline bool fd_readable(int fd, int timeout_ms) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & (POLLIN | POLLHUP));
}

static inline bool under_tsan(void) {
    const char *san = getenv("CONC_TEST_SANITIZE");
    return san && strstr(san, "thread");
}

#endif
