/* The queue example (examples/queue_workers.c, docs/processes.md) run as a user would run it: the
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

static void queue_workers(void **state) {
    (void)state;
    char out[4096];
    example_run("queue_workers", NULL, out, sizeof out, RUN_LIMIT);
    example_has(out, "all 10 jobs done");
    example_has(out, "sum of squares 1..10 = 385");
    example_has(out, "results empty: yes (get with timeout 0: ETIMEDOUT)");
    example_has(out, "worker 0 exit code 0");
    example_has(out, "worker 2 exit code 0");
    example_has(out, "put after close: CONC_ECLOSED");
}

CONC_TEST_MAIN(cmocka_unit_test(queue_workers))
