/* The Pipe and SharedMemory examples (examples/pipe.c, examples/shared_memory.c) run as a user
 * would run them: the real binary, stdout through a pipe (read to EOF: the shm tracker keeps no
 * copy of it), exit status 0, and the lines that show each concept. */
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

static void pipe_example(void **state) {
    (void)state;
    char out[8192];
    example_run("pipe", NULL, out, sizeof out, RUN_LIMIT);
    example_has(out, "asked \"6 7\", got \"42\"");
    example_has(out, "asked \"hello\", got \"cannot parse \"hello\"\"");
    example_has(out, "worker exit code 0");
}

static void shared_memory_example(void **state) {
    (void)state;
    char out[8192];
    example_run("shared_memory", NULL, out, sizeof out, RUN_LIMIT);
    example_has(out, "counter = 4000");
    example_has(out, "note: a child was here");
    example_has(out, "still attachable after the children exited: yes");
    example_has(out, "after unlink, attach gives ENOENT");
}

CONC_TEST_MAIN(cmocka_unit_test(pipe_example), cmocka_unit_test(shared_memory_example))
