/* Subprocesses on the loop: exit codes and signals as Python's returncode, communicate with
 * megabytes both ways at once (no pipe deadlock), streaming a child's stdout line by line,
 * terminate/kill, cancelling a wait, a missing program, a pipeline through a shared pipe fd, and
 * no SIGCHLD handler installed behind the program's back. */
/* TEST_TIMEOUT: 120 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

static void *codes_main(void *arg) {
    (void)arg;
    conc_subprocess_t *p;
    char *argv[] = {"sh", "-c", "exit 7", NULL};
    assert_int_equal(conc_subprocess_exec("sh", argv, NULL, &p), 0);
    assert_true(conc_subprocess_pid(p) > 0);
    int rc = -1;
    assert_int_equal(conc_subprocess_wait(p, &rc), 0);
    assert_int_equal(rc, 7);
    assert_int_equal(conc_subprocess_returncode(p, &rc), 0);
    assert_int_equal(conc_subprocess_kill(p), -ESRCH);
    conc_subprocess_free(p);

    char *sleeper[] = {"sleep", "30", NULL};
    assert_int_equal(conc_subprocess_exec("sleep", sleeper, NULL, &p), 0);
    assert_int_equal(conc_subprocess_returncode(p, &rc), -EAGAIN);
    assert_int_equal(conc_subprocess_terminate(p), 0);
    assert_int_equal(conc_subprocess_wait(p, &rc), 0);
    assert_int_equal(rc, -SIGTERM);
    conc_subprocess_free(p);

    assert_int_equal(conc_subprocess_exec("sleep", sleeper, NULL, &p), 0);
    assert_int_equal(conc_subprocess_kill(p), 0);
    assert_int_equal(conc_subprocess_wait(p, &rc), 0);
    assert_int_equal(rc, -SIGKILL);
    conc_subprocess_free(p);

    char *missing[] = {"conc-no-such-program", NULL};
    assert_int_equal(conc_subprocess_exec("conc-no-such-program", missing, NULL, &p), -ENOENT);
    assert_null(p);
    return NULL;
}

static void exit_codes_and_signals(void **state) {
    (void)state;
    assert_int_equal(conc_run(codes_main, NULL, NULL), 0);
    struct sigaction sa;
    sigaction(SIGCHLD, NULL, &sa);
    assert_true(sa.sa_handler == SIG_DFL); /* nobody took SIGCHLD */
}

static void *big_main(void *arg) {
    (void)arg;
    /* the child copies stdin to stdout AND stderr: 4 MiB in, 8 MiB out, all pipes full at once */
    conc_subprocess_opts_t o = {.stdin_mode = CONC_SUBPROCESS_PIPE,
                                .stdout_mode = CONC_SUBPROCESS_PIPE,
                                .stderr_mode = CONC_SUBPROCESS_PIPE};
    char *argv[] = {"sh", "-c", "tee /dev/stderr", NULL};
    conc_subprocess_t *p;
    assert_int_equal(conc_subprocess_exec("sh", argv, &o, &p), 0);
    size_t n = 4u << 20;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++) in[i] = (char)('a' + i % 26);
    char *out, *err;
    size_t outlen, errlen;
    assert_int_equal(conc_subprocess_communicate(p, in, n, &out, &outlen, &err, &errlen), 0);
    assert_int_equal(outlen, n);
    assert_int_equal(errlen, n);
    assert_memory_equal(out, in, n);
    assert_memory_equal(err, in, n);
    int rc;
    assert_int_equal(conc_subprocess_returncode(p, &rc), 0);
    assert_int_equal(rc, 0);
    free(in);
    free(out);
    free(err);
    conc_subprocess_free(p);

    /* a child that never reads its stdin */
    char *argv2[] = {"sh", "-c", "echo done", NULL};
    assert_int_equal(conc_subprocess_exec("sh", argv2, &o, &p), 0);
    char *big = calloc(1, n);
    assert_int_equal(conc_subprocess_communicate(p, big, n, &out, NULL, NULL, NULL), 0);
    assert_string_equal(out, "done\n");
    free(big);
    free(out);
    conc_subprocess_free(p);
    return NULL;
}

static void communicate_large_both_ways(void **state) {
    (void)state;
    assert_int_equal(conc_run(big_main, NULL, NULL), 0);
}

static void *lines_main(void *arg) {
    (void)arg;
    conc_subprocess_opts_t o = {.stdout_mode = CONC_SUBPROCESS_PIPE,
                                .stderr_mode = CONC_SUBPROCESS_STDOUT};
    char *argv[] = {"sh", "-c", "for i in 1 2 3; do echo line $i; done; echo oops >&2; exit 3",
                    NULL};
    conc_subprocess_t *p;
    assert_int_equal(conc_subprocess_exec("sh", argv, &o, &p), 0);
    assert_null(conc_subprocess_stdin(p));
    assert_null(conc_subprocess_stderr(p));
    char line[64];
    int lines = 0;
    ssize_t k;
    while ((k = conc_stream_readline(conc_subprocess_stdout(p), line, sizeof line)) > 0) lines++;
    assert_int_equal(k, 0);
    assert_int_equal(lines, 4);
    int rc;
    assert_int_equal(conc_subprocess_wait(p, &rc), 0);
    assert_int_equal(rc, 3);
    conc_subprocess_free(p);
    return NULL;
}

static void stream_stdout_lines(void **state) {
    (void)state;
    assert_int_equal(conc_run(lines_main, NULL, NULL), 0);
}

static void *waiter(void *arg) {
    int rc;
    return (void *)(intptr_t)conc_subprocess_wait(arg, &rc);
}

static void *cancel_main(void *arg) {
    (void)arg;
    char *argv[] = {"sleep", "30", NULL};
    conc_subprocess_t *p;
    assert_int_equal(conc_subprocess_exec("sleep", argv, NULL, &p), 0);
    conc_task_t *t = conc_task_spawn(NULL, waiter, p, NULL);
    assert_int_equal(conc_sleep(0.01), 0);
    conc_task_cancel(t);
    conc_future_t *f = conc_task_future(t);
    assert_int_equal(conc_wait_futures(&f, 1, 5, CONC_ALL_COMPLETED), 1);
    assert_true(conc_future_cancelled(f));
    conc_task_release(t);
    int rc;
    assert_int_equal(conc_subprocess_returncode(p, &rc), -EAGAIN);
    conc_subprocess_kill(p);
    assert_int_equal(conc_subprocess_wait(p, &rc), 0);
    conc_subprocess_free(p);
    return NULL;
}

static void cancel_wait(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_main, NULL, NULL), 0);
}

/* printf 'b\na\nc\n' | sort, the pipe between them made here and handed to both */
static void *pipeline_main(void *arg) {
    (void)arg;
    int pp[2];
    assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
    conc_subprocess_opts_t o1 = {.stdout_mode = CONC_SUBPROCESS_FD, .stdout_fd = pp[1]};
    conc_subprocess_opts_t o2 = {
        .stdin_mode = CONC_SUBPROCESS_FD, .stdin_fd = pp[0], .stdout_mode = CONC_SUBPROCESS_PIPE};
    char *a1[] = {"printf", "b\\na\\nc\\n", NULL};
    char *a2[] = {"sort", NULL};
    conc_subprocess_t *p1, *p2;
    assert_int_equal(conc_subprocess_exec("printf", a1, &o1, &p1), 0);
    assert_int_equal(conc_subprocess_exec("sort", a2, &o2, &p2), 0);
    close(pp[0]);
    close(pp[1]);
    char *out;
    assert_int_equal(conc_subprocess_communicate(p2, NULL, 0, &out, NULL, NULL, NULL), 0);
    assert_string_equal(out, "a\nb\nc\n");
    free(out);
    assert_int_equal(conc_subprocess_wait(p1, NULL), 0);
    conc_subprocess_free(p1);
    conc_subprocess_free(p2);
    return NULL;
}

static void pipeline(void **state) {
    (void)state;
    assert_int_equal(conc_run(pipeline_main, NULL, NULL), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(exit_codes_and_signals),
               cmocka_unit_test(communicate_large_both_ways), cmocka_unit_test(stream_stdout_lines),
               cmocka_unit_test(cancel_wait), cmocka_unit_test(pipeline))
