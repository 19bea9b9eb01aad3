/* A parent's end, watched from outside (tests/helpers/process_parent.c), under each start method:
 * starting before conc_init is refused with one line on stderr; at a normal exit non-daemon
 * children are joined and daemon children terminated; when the parent is SIGKILLed its daemon
 * children die too (CPython leaves them running), its other children live on, and the forkserver
 * exits. Deaths of processes that are not our children are seen through pidfds, within 2 s. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "process_util.h"
#include "test.h"

extern char **environ;

struct child {
    pid_t pid;
    int out, err;
    char buf[4096], ebuf[4096];
    size_t len, elen;
};

static void child_start(struct child *c, const char *mode, const char *method) {
    int o[2], e[2];
    assert_int_equal(pipe2(o, O_CLOEXEC), 0);
    assert_int_equal(pipe2(e, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, o[1], 1);
    posix_spawn_file_actions_adddup2(&fa, e[1], 2);
    char *argv[] = {(char *)CONC_TEST_HELPER("process_parent"), (char *)mode, (char *)method, NULL};
    memset(c, 0, sizeof *c);
    assert_int_equal(posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(o[1]);
    close(e[1]);
    c->out = o[0];
    c->err = e[0];
}

/* Read stdout until it contains want (NULL: until EOF); false on timeout. Grandchildren share the
 * pipe, so EOF means they are gone too. */
static bool child_read(struct child *c, const char *want, double timeout) {
    double deadline = conc_monotonic() + timeout;
    for (;;) {
        c->buf[c->len] = 0;
        if (want && strstr(c->buf, want)) return true;
        double left = deadline - conc_monotonic();
        if (left <= 0) return false;
        struct pollfd pfd = {.fd = c->out, .events = POLLIN};
        if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0) continue;
        ssize_t n = read(c->out, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (n <= 0) return !want;
        c->len += (size_t)n;
    }
}

/* stderr after the child ended. */
static void child_read_err(struct child *c) {
    ssize_t n;
    while ((n = read(c->err, c->ebuf + c->elen, sizeof c->ebuf - 1 - c->elen)) > 0)
        c->elen += (size_t)n;
    c->ebuf[c->elen] = 0;
}

static int child_wait(struct child *c, double timeout) {
    bool ended = child_read(c, NULL, timeout);
    if (!ended) {
        kill(c->pid, SIGKILL);
        print_message("helper hung; output so far:\n%s\n", c->buf);
    }
    int st;
    assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
    child_read_err(c);
    close(c->out);
    close(c->err);
    return ended ? st : -1;
}

static const char *names[] = {"", "fork", "spawn", "forkserver"};

static void noinit(conc_start_method_t m) {
    struct child c;
    child_start(&c, "noinit", names[m]);
    int st = child_wait(&c, 30);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char want[64];
    snprintf(want, sizeof want, "r=%d\nr=%d\n", -EPERM, -EPERM);
    assert_string_equal(c.buf, want);
    /* Exactly one line, which says what to do. */
    char *nl = strchr(c.ebuf, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, "");
    assert_non_null(strstr(c.ebuf, "conc_init"));
}

static void joined_at_exit(conc_start_method_t m) {
    struct child c;
    child_start(&c, "joinexit", names[m]);
    int st = child_wait(&c, 30);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* Both children finished before the parent's last exit handler ran. */
    assert_string_equal(c.buf, "main-return\nchild-done\nchild-done\nparent-exit r=0 code=7\n");
}

static void daemon_terminated_at_exit(conc_start_method_t m) {
    struct child c;
    child_start(&c, "daemonexit", names[m]);
    int st = child_wait(&c, 30);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char want[64];
    snprintf(want, sizeof want, "main-return\nparent-exit r=0 code=%d\n", -SIGTERM);
    assert_string_equal(c.buf, want);
}

static int pidfd_of(pid_t pid) {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    assert_true(fd >= 0);
    return fd;
}

static bool ended_within(int pidfd, int ms) {
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    return poll(&pfd, 1, ms) == 1;
}

static void parent_killed(conc_start_method_t m) {
    struct child c;
    child_start(&c, "orphan", names[m]);
    assert_true(child_read(&c, "\n", 30));
    long daemon = 0, other = 0, server = 0;
    assert_int_equal(sscanf(c.buf, "daemon=%ld other=%ld server=%ld", &daemon, &other, &server), 3);
    assert_true(daemon > 0 && other > 0);
    int dfd = pidfd_of((pid_t)daemon), ofd = pidfd_of((pid_t)other);
    int sfd = m == CONC_START_FORKSERVER ? pidfd_of((pid_t)server) : -1;
    assert_int_equal(kill(c.pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(c.pid, &st, 0), c.pid);
    assert_true(WIFSIGNALED(st));

    assert_true(ended_within(dfd, 2000));
    if (sfd >= 0) assert_true(ended_within(sfd, 2000));
    /* The non-daemon child lives on, as in Python; it is ours to clean up. */
    assert_false(ended_within(ofd, 0));
    assert_int_equal(syscall(SYS_pidfd_send_signal, ofd, SIGKILL, NULL, 0), 0);
    assert_true(ended_within(ofd, 10000));
    close(dfd);
    close(ofd);
    if (sfd >= 0) close(sfd);
    close(c.out);
    close(c.err);
}

PER_METHOD(noinit)
PER_METHOD(joined_at_exit)
PER_METHOD(daemon_terminated_at_exit)
PER_METHOD(parent_killed)

CONC_TEST_MAIN(cmocka_unit_test(noinit_fork), cmocka_unit_test(noinit_spawn),
               cmocka_unit_test(noinit_forkserver), cmocka_unit_test(joined_at_exit_fork),
               cmocka_unit_test(joined_at_exit_spawn), cmocka_unit_test(joined_at_exit_forkserver),
               cmocka_unit_test(daemon_terminated_at_exit_fork),
               cmocka_unit_test(daemon_terminated_at_exit_spawn),
               cmocka_unit_test(daemon_terminated_at_exit_forkserver),
               cmocka_unit_test(parent_killed_fork), cmocka_unit_test(parent_killed_spawn),
               cmocka_unit_test(parent_killed_forkserver))
