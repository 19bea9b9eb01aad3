/* The asyncio I/O chapter's examples (examples/net_*.c) run, exit 0 and say what the guide says. */
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

static void echo(void **state) {
    (void)state;
    const char *expect[] = {"echo: hello", "echo: world", "echo: bye", "server closed", NULL};
    run_example("net_echo", expect);
}

static void chat(void **state) {
    (void)state;
    const char *expect[] = {"bob got: alice: hi all",
                            "carol got: alice: hi all",
                            "alice got: bob: hello alice",
                            "carol got: bob: hello alice",
                            "chat closed",
                            NULL};
    run_example("net_chat", expect);
}

static void pipeline(void **state) {
    (void)state;
    const char *expect[] = {
        "2 apple", "1 fig", "3 pear", "exit codes: 0 0 0", "the loop kept running: yes", NULL};
    run_example("net_pipeline", expect);
}

static void sigterm(void **state) {
    (void)state;
    const char *expect[] = {"got SIGTERM, shutting down", "client task: cancelled, said goodbye",
                            "client read: server shutting down", "clean exit", NULL};
    run_example("net_sigterm", expect);
}

CONC_TEST_MAIN(cmocka_unit_test(echo), cmocka_unit_test(chat), cmocka_unit_test(pipeline),
               cmocka_unit_test(sigterm))
