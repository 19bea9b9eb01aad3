/* A spawned or forkserver child inherits no descriptor but stdin, stdout and stderr (and what it
 * was handed): not conc's own (pidfds of other children, the forkserver's control socket, the
 * request socket), and not the parent's, even those opened without O_CLOEXEC - as CPython's spawn,
 * which closes all other fds. A fork child is a copy and inherits them all, as in Python. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "process_util.h"

/* The number of open fds other than 0, 1, 2 and the one listing them. */
static int count_fds(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 200;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != dirfd(d)) {
            char link[256] = "";
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t k = readlink(path, link, sizeof link - 1);
            fprintf(stderr, "child has fd %d -> %s\n", fd, k > 0 ? link : "?");
            n++;
        }
    }
    closedir(d);
    return n;
}
CONC_TARGET(count_fds)

static int wait_stdin(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(wait_stdin)

static void nothing_inherited(conc_start_method_t m) {
    /* Something of the user's without CLOEXEC, and a running child of each method, so that conc
     * holds pidfds, a status socket and the forkserver's control socket. */
    int user[2];
    assert_int_equal(pipe(user), 0);
    conc_process_t *others[3];
    const conc_start_method_t all[3] = {CONC_START_FORK, CONC_START_SPAWN, CONC_START_FORKSERVER};
    for (int i = 0; i < 3; i++) {
        conc_process_opts_t o = opts_for(all[i]);
        o.daemon = true; /* so that a failed check does not wait for them at exit */
        assert_int_equal(conc_process_start(&others[i], "wait_stdin", NULL, 0, &o), 0);
    }
    assert_int_equal(run_child(m, "count_fds", NULL, 0), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(conc_process_kill(others[i]), 0);
        assert_int_equal(conc_process_join(others[i], 30), 0);
        conc_process_free(others[i]);
    }
    close(user[0]);
    close(user[1]);
}

static void nothing_inherited_spawn(void **state) {
    (void)state;
    nothing_inherited(CONC_START_SPAWN);
}

static void nothing_inherited_forkserver(void **state) {
    (void)state;
    nothing_inherited(CONC_START_FORKSERVER);
}

/* Whether each fd is open now (up to 1024). */
static void open_fds(bool *open) {
    memset(open, 0, 1024 * sizeof *open);
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != dirfd(d) && fd < 1024) open[fd] = true;
    }
    closedir(d);
}

/* Every fd conc opens in the parent is close-on-exec (what the test inherited need not be). */
static void own_fds_cloexec(void **state) {
    (void)state;
    static bool before[1024], after[1024];
    open_fds(before);
    conc_process_t *p[3];
    const conc_start_method_t all[3] = {CONC_START_FORK, CONC_START_SPAWN, CONC_START_FORKSERVER};
    for (int i = 0; i < 3; i++) {
        conc_process_opts_t o = opts_for(all[i]);
        o.daemon = true;
        assert_int_equal(conc_process_start(&p[i], "wait_stdin", NULL, 0, &o), 0);
    }
    open_fds(after);
    int checked = 0;
    for (int fd = 0; fd < 1024; fd++) {
        if (!after[fd] || before[fd]) continue;
        if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC)) print_message("fd %d is inheritable\n", fd);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        checked++;
    }
    assert_int_equal(checked, 5); /* 3 pidfds, a status socket, the control socket */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(conc_process_kill(p[i]), 0);
        assert_int_equal(conc_process_join(p[i], 30), 0);
        conc_process_free(p[i]);
    }
}

PROCESS_TEST_MAIN(cmocka_unit_test(nothing_inherited_spawn),
                  cmocka_unit_test(nothing_inherited_forkserver), cmocka_unit_test(own_fds_cloexec))
