/* The executor example (examples/executor_primes.c, docs/executors.md) on a thread pool and on a
 * process pool, run as a user would: the real binary, stdout through a pipe, exit status 0, and
 * the lines that show the result, the error and the closed pool. (Its MPI runs are ctest entries
 * of their own under mpirun: tests/CMakeLists.txt.) */
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

static void check(const char *kind) {
    char out[4096];
    example_run("executor_primes", kind, out, sizeof out, RUN_LIMIT);
    char want[128];
    snprintf(want, sizeof want, "%s pool: 20 slices done, 17984 primes below 200000", kind);
    example_has(out, want);
    example_has(out, "bad argument: EINVAL");
    example_has(out, "after shutdown: CONC_ECLOSED");
}

static void executor_primes_thread(void **state) {
    (void)state;
    check("thread");
}

static void executor_primes_process(void **state) {
    (void)state;
    check("process");
}

CONC_TEST_MAIN(cmocka_unit_test(executor_primes_thread), cmocka_unit_test(executor_primes_process))
