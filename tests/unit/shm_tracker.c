/* The resource tracker: a creator SIGKILLed without unlinking leaves /dev/shm clean within 2 s; a
 * creator that exits after unlinking leaves nothing and prints nothing; one that exits without
 * unlinking has its segments removed, silently. The tracker is not the creator's child, holds none
 * of its other fds, is not kept alive by the creator's fork children, handles many names, and is
 * replaced if it is killed. Creators are fork()ed children; signals go only to processes started
 * here (the tracker included). */
/* TEST_TIMEOUT: 90 */
#include "ipc_util.h"
#include <fcntl.h>
#include <poll.h>
#include "internal/shm.h"

static bool in_dev_shm(const char *name) {
    char path[400];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    return access(path, F_OK) == 0;
}

/* Poll until the name is gone; true if that took less than `within` seconds. */
static bool gone_within(const char *name, double within) {
    double end = conc_monotonic() + within;
    while (in_dev_shm(name)) {
        if (conc_monotonic() > end) return false;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return true;
}

static bool dead_within(pid_t pid, double within) {
    double end = conc_monotonic() + within;
    while (!conc__task_dead(pid, true)) {
        if (conc_monotonic() > end) return false;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return true;
}

struct report {
    char name[2][CONC__SHM_NAME_MAX + 1];
    pid_t tracker, other;
};

static void read_report(int fd, struct report *r) {
    assert_int_equal(read(fd, r, sizeof *r), sizeof *r);
}

/* A creator child: runs body with a pipe to report through, then waits to be killed. */
static pid_t creator(void (*body)(int), int *rfd) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        body(p[1]);
        for (;;) pause();
    }
    close(p[1]);
    *rfd = p[0];
    return pid;
}

static void create_two(int fd) {
    struct report r = {0};
    conc_shm_t *a, *b;
    snprintf(r.name[0], sizeof r.name[0], "conc_test_kill_%d", (int)getpid());
    if (conc_shm_create(&a, r.name[0], 4096) != 0) _exit(1);
    if (conc_shm_create(&b, NULL, 1 << 20) != 0) _exit(2);
    snprintf(r.name[1], sizeof r.name[1], "%s", conc_shm_name(b));
    r.tracker = conc__shm_tracker_pid();
    if (write(fd, &r, sizeof r) != sizeof r) _exit(3);
}

static void killed_creator_leaves_nothing(void **state) {
    (void)state;
    int fd;
    pid_t pid = creator(create_two, &fd);
    struct report r;
    read_report(fd, &r);
    close(fd);
    assert_true(in_dev_shm(r.name[0]) && in_dev_shm(r.name[1]));
    assert_true(r.tracker > 0);
    kill(pid, SIGKILL);
    reap_killed(pid);
    assert_true(gone_within(r.name[0], 2.0));
    assert_true(gone_within(r.name[1], 2.0));
    assert_true(dead_within(r.tracker, 10));
}

/* Exit normally (exit, not _exit: atexit handlers and stdio flushing run), output captured. */
static void run_exiting_child(bool unlink_first, char *name, char *out, size_t cap) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    snprintf(name, CONC__SHM_NAME_MAX, "conc_test_exit_%d_%d", (int)getpid(), unlink_first);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[1]);
        conc_shm_t *s;
        if (conc_shm_create(&s, name, 100) != 0) exit(1);
        if (unlink_first && conc_shm_unlink(s) != 0) exit(2);
        conc_shm_close(s);
        exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t k;
    /* EOF comes only when every holder of the write end is gone: the tracker holds none */
    while ((k = read(p[0], out + n, cap - 1 - n)) > 0) n += (size_t)k;
    out[n] = 0;
    close(p[0]);
    assert_int_equal(reap(pid), 0);
}

static void clean_exit_prints_nothing(void **state) {
    (void)state;
    char name[CONC__SHM_NAME_MAX + 1], out[4096];
    run_exiting_child(true, name, out, sizeof out);
    assert_string_equal(out, "");
    assert_false(in_dev_shm(name));
}

static void exit_without_unlink_is_cleaned_silently(void **state) {
    (void)state;
    char name[CONC__SHM_NAME_MAX + 1], out[4096];
    run_exiting_child(false, name, out, sizeof out);
    assert_string_equal(out, "");
    assert_true(gone_within(name, 2.0));
}

static void tracker_is_not_our_child(void **state) {
    (void)state;
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 10), 0);
    pid_t t = conc__shm_tracker_pid();
    assert_true(t > 0);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_shm_close(s);
}

static int held_fd = -1;
static void create_then_close_pipe(int fd) {
    conc_shm_t *s;
    if (conc_shm_create(&s, NULL, 10) != 0) _exit(1);
    close(held_fd); /* the only holder of this write end now... unless the tracker kept a copy */
    pid_t t = conc__shm_tracker_pid();
    if (write(fd, &t, sizeof t) != sizeof t) _exit(2);
}

static void tracker_holds_no_other_fds(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    held_fd = p[1];
    int fd;
    pid_t pid = creator(create_then_close_pipe, &fd);
    close(p[1]);
    pid_t t;
    assert_int_equal(read(fd, &t, sizeof t), sizeof t);
    struct pollfd pf = {p[0], POLLIN, 0};
    assert_int_equal(poll(&pf, 1, 10000), 1);
    char c;
    assert_int_equal(read(p[0], &c, 1), 0); /* EOF while creator and tracker are both alive */
    assert_false(conc__task_dead(t, true));
    close(p[0]);
    close(fd);
    kill(pid, SIGKILL);
    reap_killed(pid);
    assert_true(dead_within(t, 10));
}

static void create_and_fork(int fd) {
    struct report r = {0};
    conc_shm_t *s;
    if (conc_shm_create(&s, NULL, 10) != 0) _exit(1);
    snprintf(r.name[0], sizeof r.name[0], "%s", conc_shm_name(s));
    r.other = fork();
    if (r.other == 0)
        for (;;) pause(); /* a child of the creator, alive after the creator dies */
    if (write(fd, &r, sizeof r) != sizeof r) _exit(3);
}

static void fork_children_do_not_keep_tracker(void **state) {
    (void)state;
    int fd;
    pid_t pid = creator(create_and_fork, &fd);
    struct report r;
    read_report(fd, &r);
    close(fd);
    assert_true(r.other > 0);
    kill(pid, SIGKILL);
    reap_killed(pid);
    bool gone = gone_within(r.name[0], 2.0);
    kill(r.other, SIGKILL); /* reparented: reaped by init, not us */
    assert_true(gone);
}

enum { MANY = 600 };

static void create_many(int fd) {
    struct report r = {0};
    conc_shm_t *s[MANY];
    for (int i = 0; i < MANY; i++)
        if (conc_shm_create(&s[i], NULL, 1) != 0) _exit(1);
    for (int i = 0; i < MANY; i += 2) /* unlinked properly: the tracker forgets these */
        if (conc_shm_unlink(s[i]) != 0) _exit(2);
    snprintf(r.name[0], sizeof r.name[0], "%s", conc_shm_name(s[1]));
    snprintf(r.name[1], sizeof r.name[1], "%s", conc_shm_name(s[MANY - 1]));
    r.tracker = conc__shm_tracker_pid();
    if (write(fd, &r, sizeof r) != sizeof r) _exit(3);
}

static void many_segments(void **state) {
    (void)state;
    int fd;
    pid_t pid = creator(create_many, &fd);
    struct report r;
    read_report(fd, &r);
    close(fd);
    assert_true(in_dev_shm(r.name[0]) && in_dev_shm(r.name[1]));
    kill(pid, SIGKILL);
    reap_killed(pid);
    assert_true(dead_within(r.tracker, 10)); /* done unlinking */
    char prefix[64];
    snprintf(prefix, sizeof prefix, "conc_%d_", (int)pid);
    FILE *ls = popen("ls /dev/shm", "r");
    assert_non_null(ls);
    char line[400];
    int left = 0;
    while (fgets(line, sizeof line, ls))
        if (!strncmp(line, prefix, strlen(prefix))) left++;
    pclose(ls);
    assert_int_equal(left, 0);
}

static void killed_tracker_is_replaced(void **state) {
    (void)state;
    conc_shm_t *a, *b;
    assert_int_equal(conc_shm_create(&a, NULL, 10), 0);
    pid_t t1 = conc__shm_tracker_pid();
    kill(t1, SIGKILL);
    assert_true(dead_within(t1, 10));
    assert_int_equal(conc_shm_create(&b, NULL, 10), 0);
    pid_t t2 = conc__shm_tracker_pid();
    assert_true(t2 > 0 && t2 != t1);
    assert_int_equal(conc_shm_unlink(a), 0);
    assert_int_equal(conc_shm_unlink(b), 0);
    conc_shm_close(a);
    conc_shm_close(b);
}

static int threads_of(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    fclose(f);
    return n;
}

static void on_usr1(int signo, void *arg) {
    (void)signo;
    (void)arg;
}

/* The tracker runs none of conc's fork-child machinery: with a signal dispatcher thread in the
 * creator (whose atfork handler would start one in every fork child), the tracker still has a
 * single thread. (Under TSan the tracker is a plain fork, atfork handlers and all.) */
static void tracker_is_bare(void **state) {
    (void)state;
    if (sanitized() && strstr(getenv("CONC_TEST_SANITIZE"), "thread")) skip();
    assert_int_equal(conc_init(0, NULL), 0);
    assert_int_equal(conc_signal_handle(SIGUSR1, on_usr1, NULL), 0);
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 10), 0);
    pid_t t = conc__shm_tracker_pid();
    assert_int_equal(threads_of(t), 1);
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_shm_close(s);
}

CONC_TEST_MAIN(cmocka_unit_test(killed_creator_leaves_nothing),
               cmocka_unit_test(clean_exit_prints_nothing),
               cmocka_unit_test(exit_without_unlink_is_cleaned_silently),
               cmocka_unit_test(tracker_is_not_our_child),
               cmocka_unit_test(tracker_holds_no_other_fds),
               cmocka_unit_test(fork_children_do_not_keep_tracker), cmocka_unit_test(many_segments),
               cmocka_unit_test(killed_tracker_is_replaced), cmocka_unit_test(tracker_is_bare))
