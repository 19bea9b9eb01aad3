/* The asyncio chapter's examples (examples/aio_*.c) run, exit 0 and say what the guide says. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "test.h"

static void run_example(const char *name, const char *const *expect) {
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd, "%s/examples/%s 2>&1", CONC_BINARY_DIR, name);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    print_message("%s", out);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    for (; *expect; expect++) {
        if (!strstr(out, *expect)) print_message("missing: %s\n", *expect);
        assert_non_null(strstr(out, *expect));
    }
}

static void gather(void **state) {
    (void)state;
    const char *expect[] = {"fetched bb", "results: 1 2 3", NULL};
    run_example("aio_gather", expect);
}

static void taskgroup_timeout(void **state) {
    (void)state;
    const char *expect[] = {"quick: done",
                            "slow: cancelled, cleaning up",
                            "group under a 1 s timeout: ETIMEDOUT",
                            "sibling: cancelled, cleaning up",
                            "group with a failing child: EIO (1 error)",
                            NULL};
    run_example("aio_taskgroup_timeout", expect);
}

static void cancel_cleanup(void **state) {
    (void)state;
    const char *expect[] = {"worker: cancelled, saying goodbye", "worker: closed",
                            "worker: ECANCELED, stubborn: ECANCELED, connections open: 0", NULL};
    run_example("aio_cancel_cleanup", expect);
}

static void queue(void **state) {
    (void)state;
    const char *expect[] = {"processed 20 jobs, sum 210", NULL};
    run_example("aio_queue", expect);
}

CONC_TEST_MAIN(cmocka_unit_test(gather), cmocka_unit_test(taskgroup_timeout),
               cmocka_unit_test(cancel_cleanup), cmocka_unit_test(queue))
