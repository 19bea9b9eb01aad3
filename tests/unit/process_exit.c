/* A child's exit status, name and pid under each start method: the target's return value is the
 * exit code, default names are Process-N, a child knows its own name, and the pid is the child's. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include "process_util.h"

/* Exit with the status given as the argument's only byte. */
static int exit_with(const void *arg, size_t len) {
    return len == 1 ? *(const unsigned char *)arg : 100;
}
CONC_TARGET(exit_with)

/* Exit 0 if the child's own name equals the argument, its pid is reported by getpid, etc. */
static int check_name(const void *arg, size_t len) {
    const char *name = conc_process_current_name();
    if (strlen(name) != len || memcmp(name, arg, len) != 0) return 1;
    return 0;
}
CONC_TARGET(check_name)

/* Exit with its own pid's low byte, so the parent can check conc_process_pid. */
static int exit_pid_byte(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    return getpid() & 0xff;
}
CONC_TARGET(exit_pid_byte)

static void statuses(conc_start_method_t m) {
    const unsigned char codes[] = {0, 1, 7, 42, 255};
    for (size_t i = 0; i < sizeof codes; i++)
        assert_int_equal(run_child(m, "exit_with", &codes[i], 1), codes[i]);
}
PER_METHOD(statuses)

static void names(conc_start_method_t m) {
    /* Process-N counts every start in this process, whatever the method. */
    conc_process_opts_t o = opts_for(m);
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "exit_pid_byte", NULL, 0, &o), 0);
    const char *name = conc_process_name(p);
    assert_int_equal(strncmp(name, "Process-", 8), 0);
    int n = atoi(name + 8);
    assert_true(n >= 1);
    pid_t pid = conc_process_pid(p);
    assert_true(pid > 0 && pid != getpid());
    assert_int_equal(conc_process_join(p, 30), 0);
    int code;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, pid & 0xff);
    conc_process_free(p);

    /* The next one is N+1, and the child sees its own default name. */
    char want[32];
    snprintf(want, sizeof want, "Process-%d", n + 1);
    assert_int_equal(conc_process_start(&p, "check_name", want, strlen(want), &o), 0);
    assert_string_equal(conc_process_name(p), want);
    assert_int_equal(conc_process_join(p, 30), 0);
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);

    /* A given name. */
    o.name = "worker-x";
    assert_int_equal(conc_process_start(&p, "check_name", "worker-x", 8, &o), 0);
    assert_string_equal(conc_process_name(p), "worker-x");
    assert_int_equal(conc_process_join(p, 30), 0);
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
    assert_string_equal(conc_process_current_name(), "MainProcess");
}
PER_METHOD(names)

/* A child's children are named after it: Process-1:1 is the first child of Process-1. */
static int start_grandchild(const void *arg, size_t len) {
    conc_process_opts_t o = {.method = (conc_start_method_t)(len ? *(const char *)arg : 0)};
    char want[64];
    snprintf(want, sizeof want, "%s:1", conc_process_current_name());
    conc_process_t *p;
    if (conc_process_start(&p, "check_name", want, strlen(want), &o) != 0) return 1;
    if (strcmp(conc_process_name(p), want) != 0) return 2;
    if (conc_process_join(p, 30) != 0) return 3;
    int code;
    if (conc_process_exitcode(p, &code) != 0 || code != 0) return 4;
    conc_process_free(p);
    return 0;
}
CONC_TARGET(start_grandchild)

static void nested_names(conc_start_method_t m) {
    char c = (char)m;
    assert_int_equal(run_child(m, "start_grandchild", &c, 1), 0);
}
PER_METHOD(nested_names)

PROCESS_TEST_MAIN(cmocka_unit_test(statuses_fork), cmocka_unit_test(statuses_spawn),
                  cmocka_unit_test(statuses_forkserver), cmocka_unit_test(names_fork),
                  cmocka_unit_test(names_spawn), cmocka_unit_test(names_forkserver),
                  cmocka_unit_test(nested_names_fork), cmocka_unit_test(nested_names_spawn),
                  cmocka_unit_test(nested_names_forkserver))
