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
#include "test.h"

extern char **environ;

#define RUN_LIMIT 40.0 /* seconds; it takes well under 2 s without sanitizers */

static void run(const char *name, char *out, size_t cap) {
    char path[512];
    snprintf(path, sizeof path, CONC_BINARY_DIR "/examples/%s", name);
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    char *argv[] = {(char *)name, NULL};
    pid_t pid;
    double t0 = conc_monotonic();
    assert_int_equal(posix_spawn(&pid, path, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        double left = t0 + RUN_LIMIT - conc_monotonic();
        if (left <= 0) {
            kill(pid, SIGKILL); /* our own child */
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0) continue;
        ssize_t n = read(fds[0], out + len, cap - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
    }
    out[len] = 0;
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    fprintf(stderr, "---- %s (%.2f s) ----\n%s", name, conc_monotonic() - t0, out);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void has(const char *out, const char *text) {
    if (!strstr(out, text)) fail_msg("output lacks \"%s\"", text);
}

static void manager_example(void **state) {
    (void)state;
    char out[8192];
    run("manager", out, sizeof out);
    has(out, "manager listening on a unix socket");
    has(out, "worker 1 exit code 0");
    has(out, "worker 3 exit code 0");
    has(out, "tasks done: 10");
    has(out, "10 results, sum of squares 385");
}

CONC_TEST_MAIN(cmocka_unit_test(manager_example))
