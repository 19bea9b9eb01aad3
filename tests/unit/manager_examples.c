/* The Managers example (examples/manager.c) run as a user would run it: the real binary, stdout
 * through a pipe read to EOF, exit status 0, and the lines that show workers sharing a queue, a
 * dict and a counter through the manager. */
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

#define RUN_LIMIT 40.0 /* seconds; it takes well under 2 s without sanitizers */

static void manager_example(void **state) {
    (void)state;
    char out[8192];
    example_run("manager", NULL, out, sizeof out, RUN_LIMIT);
    example_has(out, "manager listening on a unix socket");
    example_has(out, "worker 1 exit code 0");
    example_has(out, "worker 3 exit code 0");
    example_has(out, "tasks done: 10");
    example_has(out, "10 results, sum of squares 385");
}

CONC_TEST_MAIN(cmocka_unit_test(manager_example))
