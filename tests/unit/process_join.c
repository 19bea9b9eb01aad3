/* Waiting for a child under each start method: join with a timeout, the sentinel in poll(),
 * is_alive and exitcode while it runs and after, and -EINTR for a join in the main thread.
 *
 * The child blocks opening a FIFO until the test opens the other end and writes its exit code, so
 * "still running" is certain without sleeping. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "process_util.h"

static int wait_fifo(const void *arg, size_t len) {
    char path[256];
    if (len >= sizeof path) return 101;
    memcpy(path, arg, len);
    path[len] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 102;
    unsigned char c;
    if (read(fd, &c, 1) != 1) return 103;
    close(fd);
    return c;
}
CONC_TARGET(wait_fifo)

static int pause_forever(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(pause_forever)

struct fifo {
    char dir[64];
    char path[128];
};

static void fifo_make(struct fifo *f) {
    snprintf(f->dir, sizeof f->dir, "/tmp/conc-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/fifo", f->dir);
    assert_int_equal(mkfifo(f->path, 0600), 0);
}

static void fifo_release(struct fifo *f, unsigned char code) {
    int fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, &code, 1), 1);
    close(fd);
    unlink(f->path);
    rmdir(f->dir);
}

static void running_then_ended(conc_start_method_t m) {
    struct fifo f;
    fifo_make(&f);
    conc_process_opts_t o = opts_for(m);
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "wait_fifo", f.path, strlen(f.path), &o), 0);
    int s = conc_process_sentinel(p);
    assert_true(s >= 0);

    assert_true(conc_process_is_alive(p));
    int code = -1000;
    assert_int_equal(conc_process_exitcode(p, &code), -EAGAIN);
    assert_int_equal(code, -1000);
    assert_false(fd_readable(s, 0));
    assert_int_equal(conc_process_join(p, 0), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(conc_process_join(p, 0.2), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.2 && took < 5);
    assert_true(conc_process_is_alive(p));

    fifo_release(&f, 5);
    /* The sentinel becomes readable by itself: nobody joined yet. */
    assert_true(fd_readable(s, 30000));
    assert_true(fd_readable(s, 0)); /* and stays so */
    assert_false(conc_process_is_alive(p));
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 5);
    assert_int_equal(conc_process_join(p, 30), 0);
    assert_int_equal(conc_process_join(p, 0), 0);
    assert_true(fd_readable(s, 0));
    conc_process_free(p);
}
PER_METHOD(running_then_ended)

/* A join forever returns as soon as the child ends. */
static void join_forever(conc_start_method_t m) {
    struct fifo f;
    fifo_make(&f);
    conc_process_opts_t o = opts_for(m);
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "wait_fifo", f.path, strlen(f.path), &o), 0);
    fifo_release(&f, 9);
    assert_int_equal(conc_process_join(p, CONC_FOREVER), 0);
    int code;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 9);
    conc_process_free(p);
}
PER_METHOD(join_forever)

/* A SIGINT ends a join in the main thread with -EINTR. Run in a forked copy of this test process
 * (conc_init done, so its main thread gets KeyboardInterrupt semantics), which the test signals. */
static void join_interrupted(conc_start_method_t m) {
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        conc_process_opts_t o = opts_for(m);
        conc_process_t *p;
        if (conc_process_start(&p, "pause_forever", NULL, 0, &o) != 0) _exit(2);
        if (write(pipefd[1], "r", 1) != 1) _exit(3);
        int r = conc_process_join(p, 30);
        conc_process_kill(p);
        if (conc_process_join(p, 30) != 0) _exit(4);
        _exit(r == -EINTR ? 0 : 5);
    }
    close(pipefd[1]);
    char c;
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    close(pipefd[0]);
    assert_int_equal(kill(pid, SIGINT), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}
PER_METHOD(join_interrupted)

static void bad_arguments(void **state) {
    (void)state;
    int code;
    assert_int_equal(conc_process_join(NULL, 0), -EINVAL);
    assert_int_equal(conc_process_exitcode(NULL, &code), -EINVAL);
    assert_false(conc_process_is_alive(NULL));
    assert_int_equal(conc_process_sentinel(NULL), -EINVAL);
    assert_int_equal(conc_process_kill(NULL), -EINVAL);
    assert_int_equal(conc_process_terminate(NULL), -EINVAL);
    conc_process_free(NULL);
}

PROCESS_TEST_MAIN(cmocka_unit_test(running_then_ended_fork),
                  cmocka_unit_test(running_then_ended_spawn),
                  cmocka_unit_test(running_then_ended_forkserver),
                  cmocka_unit_test(join_forever_fork), cmocka_unit_test(join_forever_spawn),
                  cmocka_unit_test(join_forever_forkserver),
                  cmocka_unit_test(join_interrupted_fork), cmocka_unit_test(join_interrupted_spawn),
                  cmocka_unit_test(join_interrupted_forkserver), cmocka_unit_test(bad_arguments))
