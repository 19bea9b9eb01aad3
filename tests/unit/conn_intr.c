/* KeyboardInterrupt: after conc_init, SIGINT makes the main thread's blocking recv, poll, send (while
 * none of the frame is out yet) and conc_wait return -EINTR; the connection stays usable. Each body
 * runs in a forked child that gets the SIGINT (see sync_util.h). */
#include "ipc_util.h"
#include <poll.h>

static int recv_body(void *arg) {
    (void)arg;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    void *buf;
    size_t len;
    double t0 = conc_monotonic();
    CHECK(conc_conn_recv(a, &buf, &len, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(conc_conn_send(b, "after", 5) == 0);
    CHECK(conc_conn_recv(a, &buf, &len, 10) == 0 && len == 5);
    free(buf);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void recv_interrupted(void **state) {
    (void)state;
    run_interrupted(recv_body, NULL);
}

static int forever_body(void *arg) {
    (void)arg;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    void *buf;
    size_t len;
    CHECK(conc_conn_recv(a, &buf, &len, CONC_FOREVER) == -EINTR);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void recv_forever_interrupted(void **state) {
    (void)state;
    run_interrupted(forever_body, NULL);
}

static int poll_body(void *arg) {
    (void)arg;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    double t0 = conc_monotonic();
    CHECK(conc_conn_poll(a, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(conc_conn_poll(a, 0) == -ETIMEDOUT);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void poll_interrupted(void **state) {
    (void)state;
    run_interrupted(poll_body, NULL);
}

static int send_body(void *arg) {
    (void)arg;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    /* fill the socket with one whole frame, so the next send cannot put out a single byte */
    int fd = conc_conn_fd(a);
    char chunk[4096] = {0};
    size_t queued = 0;
    for (;;) {
        ssize_t n = send(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n < 0) break;
        queued += (size_t)n;
    }
    CHECK(queued > 0);
    CHECK(conc_conn_send(a, "blocked", 7) == -EINTR);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void send_interrupted_before_first_byte(void **state) {
    (void)state;
    run_interrupted(send_body, NULL);
}

static int wait_body(void *arg) {
    (void)arg;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    conc_obj_t o[2] = {CONC_OBJ_CONN(a), CONC_OBJ_CONN(b)};
    bool ready[2];
    double t0 = conc_monotonic();
    CHECK(conc_wait(o, 2, INTR_TIMEOUT, ready) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(!ready[0] && !ready[1]);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void wait_interrupted(void **state) {
    (void)state;
    run_interrupted(wait_body, NULL);
}

/* A SIGINT already counted when recv starts: -EINTR at once, the interrupt consumed, nothing lost. */
static int pending_body(void *arg, int ready) {
    (void)arg;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    CHECK(write(ready, "x", 1) == 1);
    double end = conc_monotonic() + 10;
    while (!LOAD(&conc__intr_pending)) { /* nanosleep also lets TSan run a deferred handler */
        CHECK(conc_monotonic() < end);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    void *buf;
    size_t len;
    double t0 = conc_monotonic();
    CHECK(conc_conn_recv(a, &buf, &len, CONC_FOREVER) == -EINTR);
    CHECK(conc_monotonic() - t0 < 2.5);
    CHECK(LOAD(&conc__intr_pending) == 0);
    CHECK(conc_conn_send(b, "after", 5) == 0);
    CHECK(conc_conn_recv(a, &buf, &len, CONC_FOREVER) == 0 && len == 5 && !memcmp(buf, "after", 5));
    free(buf);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void recv_pending_before_call(void **state) {
    (void)state;
    run_interrupted_when(pending_body, NULL);
}

/* The race, statistically: SIGINT after SIGINT lands wherever the child's loop happens to be -
 * asleep in recv, about to enter it, or between the check and the syscall - and every one must end
 * a recv with -EINTR. The next SIGINT goes only after the child reported the last one consumed (two
 * unconsumed SIGINTs kill, interrupt.c); a missed one leaves the child asleep: no report in 5 s. */
enum { STRESS_SIGINTS = 300 };

static void recv_interrupted_many(void **state) {
    (void)state;
    int rep[2];
    assert_int_equal(pipe(rep), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        conc_conn_t *a, *b;
        if (conc_init(0, NULL) < 0 || conc_pipe(&a, &b, true) < 0) _exit(200);
        if (write(rep[1], "r", 1) != 1) _exit(201);
        for (int i = 0; i < STRESS_SIGINTS; i++) {
            void *buf;
            size_t len;
            int r = conc_conn_recv(a, &buf, &len, CONC_FOREVER);
            if (r != -EINTR) _exit(202);
            if (write(rep[1], "i", 1) != 1) _exit(203);
        }
        _exit(0);
    }
    close(rep[1]);
    for (int i = 0; i <= STRESS_SIGINTS; i++) {
        struct pollfd pf = {rep[0], POLLIN, 0};
        char c = 0;
        if (poll(&pf, 1, 5000) != 1 || read(rep[0], &c, 1) != 1 || c != (i ? 'i' : 'r')) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("no report for SIGINT %d of %d", i, STRESS_SIGINTS);
        }
        if (i == STRESS_SIGINTS) break;
        /* a few microseconds' jitter moves the landing point over the child's way back into recv */
        double until = conc_monotonic() + (i % 8) * 1e-6;
        while (conc_monotonic() < until) {
        }
        assert_int_equal(kill(pid, SIGINT), 0);
    }
    close(rep[0]);
    assert_int_equal(reap(pid), 0);
}

/* Another signal's handler, installed without SA_RESTART, ends the blocked recv syscall with EINTR:
 * that is not a KeyboardInterrupt, so recv goes back to sleep; the SIGINT after it still ends it. The
 * parent sends each signal once the child's main thread sleeps (state S in /proc: in recv). */
static int usr1_report = -1;

static void on_usr1(int signo) {
    (void)signo;
    ssize_t w = write(usr1_report, "u", 1);
    (void)w;
}

static bool child_sleeps(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    const char *e = strrchr(buf, ')');
    return e && e[1] == ' ' && e[2] == 'S';
}

static char read_report(int fd) {
    struct pollfd pf = {fd, POLLIN, 0};
    char c = 0;
    if (poll(&pf, 1, 5000) != 1 || read(fd, &c, 1) != 1) return 0;
    return c;
}

static void other_signal_does_not_end_recv(void **state) {
    (void)state;
    int rep[2];
    assert_int_equal(pipe(rep), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        usr1_report = rep[1];
        conc_conn_t *a, *b;
        if (conc_init(0, NULL) < 0 || conc_pipe(&a, &b, true) < 0) _exit(200);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1; /* no SA_RESTART */
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGUSR1, &sa, NULL) < 0) _exit(201);
        if (write(rep[1], "r", 1) != 1) _exit(202);
        void *buf;
        size_t len;
        int r = conc_conn_recv(a, &buf, &len, CONC_FOREVER);
        if (write(rep[1], r == -EINTR ? "i" : "X", 1) != 1) _exit(203);
        _exit(0);
    }
    close(rep[1]);
    assert_int_equal(read_report(rep[0]), 'r');
    WAIT_UNTIL(child_sleeps(pid));
    assert_int_equal(kill(pid, SIGUSR1), 0);
    assert_int_equal(read_report(rep[0]), 'u');
    WAIT_UNTIL(child_sleeps(pid)); /* back in recv, or never left it */
    assert_int_equal(kill(pid, SIGINT), 0);
    assert_int_equal(read_report(rep[0]), 'i');
    close(rep[0]);
    assert_int_equal(reap(pid), 0);
}

/* Other threads are never interrupted: a recv in a second thread just times out. */
static void *thread_recv(void *arg) {
    void *buf;
    size_t len;
    return (void *)(intptr_t)conc_conn_recv(arg, &buf, &len, 0.3);
}

static int thread_body(void *arg) {
    (void)arg;
    conc_conn_t *a, *b;
    CHECK(conc_pipe(&a, &b, true) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_recv, a) == 0);
    void *r;
    CHECK(pthread_join(t, &r) == 0);
    CHECK((intptr_t)r == -ETIMEDOUT);
    conc_conn_close(a);
    conc_conn_close(b);
    return 0;
}

static void other_threads_not_interrupted(void **state) {
    (void)state;
    run_interrupted(thread_body, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(recv_interrupted), cmocka_unit_test(recv_forever_interrupted),
               cmocka_unit_test(poll_interrupted),
               cmocka_unit_test(send_interrupted_before_first_byte),
               cmocka_unit_test(wait_interrupted), cmocka_unit_test(other_threads_not_interrupted),
               cmocka_unit_test(recv_pending_before_call), cmocka_unit_test(recv_interrupted_many),
               cmocka_unit_test(other_signal_does_not_end_recv))
