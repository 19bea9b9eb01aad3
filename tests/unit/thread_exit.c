/* Exit semantics, watched from outside: child programs (tests/helpers/thread_exit.c) run with
 * posix_spawn; their output and exit status tell what happened. A hang is a failure: every read
 * has a deadline, after which the child is killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

extern char **environ;

struct child {
    pid_t pid;
    int out;
    char buf[4096];
    size_t len;
    bool eof;
};

static void child_start(struct child *c, const char *mode) {
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    char *argv[] = {(char *)CONC_TEST_HELPER("thread_exit"), (char *)mode, NULL};
    memset(c, 0, sizeof *c);
    assert_int_equal(posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    c->out = p[0];
}

/* Read until the output contains want (NULL: until EOF). False on timeout. */
static bool child_read(struct child *c, const char *want, double timeout) {
    double deadline = conc_monotonic() + timeout;
    for (;;) {
        c->buf[c->len] = 0;
        if (want && strstr(c->buf, want)) return true;
        if (c->eof) return !want;
        double left = deadline - conc_monotonic();
        if (left <= 0) return false;
        struct pollfd pfd = {.fd = c->out, .events = POLLIN};
        if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0) continue;
        ssize_t n = read(c->out, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (n <= 0)
            c->eof = true;
        else
            c->len += (size_t)n;
    }
}

/* Wait for the child to end (its output closed); returns its wait status, or -1 after killing it
 * on timeout. */
static int child_finish(struct child *c, double timeout) {
    bool ended = child_read(c, NULL, timeout);
    if (!ended) kill(c->pid, SIGKILL);
    int status;
    waitpid(c->pid, &status, 0);
    close(c->out);
    if (!ended) print_message("child hung; output so far:\n%s\n", c->buf);
    return ended ? status : -1;
}

static void assert_exit(int status, int code) {
    assert_true(status != -1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), code);
}

/* a appears in the output, and before b */
static void assert_order(const char *out, const char *a, const char *b) {
    const char *pa = strstr(out, a), *pb = strstr(out, b);
    assert_non_null(pa);
    assert_non_null(pb);
    assert_true(pa < pb);
}

static void non_daemon_thread_joined_when_main_returns(void **state) {
    (void)state;
    const char *modes[] = {"return", "return-init"}; /* without conc_init, and with it */
    for (int i = 0; i < 2; i++) {
        struct child c;
        child_start(&c, modes[i]);
        assert_exit(child_finish(&c, 30), 0);
        /* The thread did its work after main had returned and exit had begun. */
        assert_order(c.buf, "main returns\n", "atexit\n");
        assert_order(c.buf, "atexit\n", "done\n");
    }
}

static void daemon_thread_abandoned_at_exit(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "daemon");
    double t0 = conc_monotonic();
    assert_exit(child_finish(&c, 30), 0);
    assert_true(conc_monotonic() - t0 < 20);
    assert_order(c.buf, "atexit\n", "worker done\n");
}

static void exit_in_main_waits_for_non_daemon_work(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "exit");
    assert_exit(child_finish(&c, 30), 3);
    assert_order(c.buf, "atexit\n", "done\n");
}

static void shutdown_joins_threads_started_by_threads(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "shutdown-nested");
    assert_exit(child_finish(&c, 30), 0);
    assert_non_null(strstr(c.buf, "A done\n"));
    assert_order(c.buf, "B done\n", "shutdown=0\n");
    assert_order(c.buf, "C done\n", "shutdown=0\n");
    assert_non_null(strstr(c.buf, "active=1\n"));
}

static void exit_from_a_thread_does_not_deadlock(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "exit-from-thread");
    assert_exit(child_finish(&c, 30), 7);
    assert_order(c.buf, "atexit\n", "worker done\n");
    assert_null(strstr(c.buf, "not reached"));
}

static void a_thread_joining_main_is_let_go_at_exit(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "join-main");
    assert_exit(child_finish(&c, 30), 0);
    assert_order(c.buf, "main returns\n", "main joined=0\nmain alive=0\n");
}

static void sigint_interrupts_shutdown_in_main(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "sigint-shutdown");
    assert_true(child_read(&c, "ready\n", 30));
    kill(c.pid, SIGINT);
    assert_exit(child_finish(&c, 30), 0);
    assert_order(c.buf, "first=-4\n", "done\n"); /* -EINTR, then the thread is let go */
    assert_order(c.buf, "done\n", "second=0\n");
}

static void sigint_interrupts_join_in_main(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "sigint-join");
    assert_true(child_read(&c, "ready\n", 30));
    kill(c.pid, SIGINT);
    assert_true(child_read(&c, "forever=-4\nready\n", 30));
    kill(c.pid, SIGINT);
    assert_exit(child_finish(&c, 30), 0);
    assert_order(c.buf, "timed=-4\n", "done\n");
    assert_order(c.buf, "done\n", "joined=0\n");
}

static void sigint_stops_the_exit_time_join(void **state) {
    (void)state;
    struct child c;
    child_start(&c, "sigint-at-exit");
    assert_true(child_read(&c, "ready\n", 30));
    kill(c.pid, SIGINT);
    assert_exit(child_finish(&c, 30), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(non_daemon_thread_joined_when_main_returns),
               cmocka_unit_test(daemon_thread_abandoned_at_exit),
               cmocka_unit_test(exit_in_main_waits_for_non_daemon_work),
               cmocka_unit_test(shutdown_joins_threads_started_by_threads),
               cmocka_unit_test(exit_from_a_thread_does_not_deadlock),
               cmocka_unit_test(a_thread_joining_main_is_let_go_at_exit),
               cmocka_unit_test(sigint_interrupts_shutdown_in_main),
               cmocka_unit_test(sigint_interrupts_join_in_main),
               cmocka_unit_test(sigint_stops_the_exit_time_join))
