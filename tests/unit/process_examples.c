/* The process examples (examples/process_*.c, docs/processes.md) run as a user would run them: the
 * real binary, stdout through a pipe, exit status 0, and the lines that show each concept. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "example_run.h"
#include "test.h"

#define RUN_LIMIT 20.0 /* seconds; each takes well under 2 s without sanitizers */

static void process_fork(void **state) {
    (void)state;
    char out[8192];
    example_run("process_fork", NULL, out, sizeof out, RUN_LIMIT);
    example_has(out, "sees table[3] = 30");
    example_has(out, "exit code 42; parent's table[3] is still 30");
}

static void process_spawn(void **state) {
    (void)state;
    char out[8192];
    example_run("process_spawn", NULL, out, sizeof out, RUN_LIMIT);
    example_has(out, "job 7 says \"hello\"; set_after_init = 0");
    example_has(out, "greet exited with 7");
    example_has(out, "join with a 0.1 s timeout: ETIMEDOUT");
    example_has(out, "exit code -15");
}

static void process_forkserver(void **state) {
    (void)state;
    char out[8192];
    example_run("process_forkserver", NULL, out, sizeof out, RUN_LIMIT);
    example_has(out, "start method: forkserver");
    example_has(out, "sum of squares: 54");
    /* The children's parent is the server, not the program. */
    int parent = 0, theirs = 0;
    const char *a = strstr(out, "parent pid "), *b = strstr(out, "my parent is pid ");
    assert_non_null(a);
    assert_non_null(b);
    sscanf(a, "parent pid %d", &parent);
    sscanf(b, "my parent is pid %d", &theirs);
    assert_true(parent > 0 && theirs > 0 && parent != theirs);
}

CONC_TEST_MAIN(cmocka_unit_test(process_fork), cmocka_unit_test(process_spawn),
               cmocka_unit_test(process_forkserver))
