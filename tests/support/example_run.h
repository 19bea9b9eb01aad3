/* Running an example as a user would: the real binary from the build tree, stdout through a pipe,
 * a time limit after which the child is killed (a hang fails the test instead of stalling ctest),
 * exit status 0 required, and the output echoed to stderr for the test log. Header-only: each test
 * program that runs examples includes it once. */
#ifndef CONC_TEST_EXAMPLE_RUN_H
#define CONC_TEST_EXAMPLE_RUN_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc/time.h"
#include "test.h"

extern char **environ;

/* Runs examples/NAME [ARG] for at most limit seconds; out gets its stdout, NUL-terminated. */
static inline void example_run(const char *name, const char *arg, char *out, size_t cap,
                               double limit) {
    char path[512];
    snprintf(path, sizeof path, CONC_BINARY_DIR "/examples/%s", name);
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    char *argv[] = {(char *)name, (char *)arg, NULL};
    pid_t pid;
    double t0 = conc_monotonic();
    assert_int_equal(posix_spawn(&pid, path, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        double left = t0 + limit - conc_monotonic();
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

static inline void example_has(const char *out, const char *text) {
    if (!strstr(out, text)) fail_msg("output lacks \"%s\"", text);
}

#endif
