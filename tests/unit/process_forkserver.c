/* The forkserver: one server serves every start (it is each child's parent), it is single-threaded,
 * it is started again if it died, a server started from a thread outlives that thread, and a fork
 * child does not share its parent's server. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "process_util.h"

pid_t conc__forkserver_pid(void);

/* 0 if our parent is the pid in the argument. */
static int parent_is(const void *arg, size_t len) {
    pid_t want;
    if (len != sizeof want) return 100;
    memcpy(&want, arg, sizeof want);
    return getppid() == want ? 0 : 1;
}
CONC_TARGET(parent_is)

static int exit_zero(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    return 0;
}
CONC_TARGET(exit_zero)

pid_t conc__self_pid(void);

/* A forkserver child sees the environment its parent had (the server's own tunables are not
 * passed on: forkserver.c) and knows its own ids (the server forks without atfork handlers). The
 * argument is the GLIBC_TUNABLES value expected, empty for none. */
static int env_and_ids(const void *arg, size_t len) {
    const char *want = arg, *tun = getenv("GLIBC_TUNABLES");
    if (len == 0 || want[len - 1] != 0) return 100;
    if (want[0] ? !tun || strcmp(tun, want) != 0 : tun != NULL) return 1;
    if (getenv("LD_BIND_NOW")) return 2;
    pid_t pid = getpid();
    if ((pid_t)syscall(SYS_gettid) != pid || conc__self_pid() != pid) return 3;
    if (conc_thread_native_id(conc_thread_current()) != pid) return 4;
    return 0;
}
CONC_TARGET(env_and_ids)

static void child_env_and_ids(void **state) {
    (void)state;
    unsetenv("GLIBC_TUNABLES");
    unsetenv("LD_BIND_NOW");
    assert_int_equal(run_child(CONC_START_FORKSERVER, "env_and_ids", "", 1), 0);
}

static void child_keeps_user_tunables(void **state) {
    (void)state;
    const char *mine = "glibc.malloc.check=0";
    setenv("GLIBC_TUNABLES", mine, 1);
    unsetenv("LD_BIND_NOW");
    assert_int_equal(run_child(CONC_START_FORKSERVER, "env_and_ids", mine, strlen(mine) + 1), 0);
}

static pid_t server_pid(void) {
    if (!conc__forkserver_pid())
        assert_int_equal(run_child(CONC_START_FORKSERVER, "exit_zero", NULL, 0), 0);
    pid_t s = conc__forkserver_pid();
    assert_true(s > 0);
    return s;
}

static void reused(void **state) {
    (void)state;
    pid_t s = server_pid();
    conc_process_t *p[20];
    conc_process_opts_t o = opts_for(CONC_START_FORKSERVER);
    for (int i = 0; i < 20; i++)
        assert_int_equal(conc_process_start(&p[i], "parent_is", &s, sizeof s, &o), 0);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(conc_process_join(p[i], 30), 0);
        int code = -1;
        assert_int_equal(conc_process_exitcode(p[i], &code), 0);
        assert_int_equal(code, 0);
        conc_process_free(p[i]);
    }
    assert_int_equal(conc__forkserver_pid(), s);
}

static void single_threaded(void **state) {
    (void)state;
    pid_t s = server_pid();
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)s);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int threads = 0;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "Threads: %d", &threads) == 1) break;
    fclose(f);
    /* TSan's runtime may start a background thread of its own. */
    assert_true(threads == 1 || (under_tsan() && threads == 2));
}

/* A server that died (here: killed) is replaced on the next start. (A start racing with the death
 * may fail instead: forkserver.c says why.) */
static void restarted(void **state) {
    (void)state;
    pid_t s = server_pid();
    int fd = (int)syscall(SYS_pidfd_open, s, 0);
    assert_true(fd >= 0);
    assert_int_equal(kill(s, SIGKILL), 0); /* our child */
    assert_true(fd_readable(fd, 30000));
    close(fd);
    assert_int_equal(run_child(CONC_START_FORKSERVER, "exit_zero", NULL, 0), 0);
    pid_t s2 = conc__forkserver_pid();
    assert_true(s2 > 0 && s2 != s);
    assert_int_equal(run_child(CONC_START_FORKSERVER, "parent_is", &s2, sizeof s2), 0);
}

/* The kernel sends the parent-death signal when the *thread* that forked ends: a server, or a
 * forkserver daemon child, must not die with a short-lived thread that started it. */
static int block_forever(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(block_forever)

static void *start_daemon(void *arg) {
    conc_process_opts_t o = opts_for(CONC_START_FORKSERVER);
    o.daemon = true;
    return conc_process_start(arg, "block_forever", NULL, 0, &o) == 0 ? arg : NULL;
}

static void started_from_thread(void **state) {
    (void)state;
    assert_int_equal(conc__forkserver_pid(), 0);
    conc_process_t *p = NULL;
    conc_thread_t *t;
    void *r;
    assert_int_equal(conc_thread_start(&t, start_daemon, &p, NULL), 0);
    assert_int_equal(conc_thread_join(t, 30, &r), 0);
    conc_thread_release(t);
    assert_non_null(r);
    pid_t s = conc__forkserver_pid();
    assert_true(s > 0);
    /* The thread is gone; the server and the child still run, and the server still serves. */
    assert_true(conc_process_is_alive(p));
    assert_int_equal(run_child(CONC_START_FORKSERVER, "parent_is", &s, sizeof s), 0);
    assert_int_equal(conc__forkserver_pid(), s);
    assert_int_equal(conc_process_join(p, 0.1), -ETIMEDOUT);
    assert_int_equal(conc_process_kill(p), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    conc_process_free(p);
}

/* A fork child starts its own server: it has none at first, and its forkserver children's parent
 * is not its parent's server. */
static int own_server(const void *arg, size_t len) {
    pid_t theirs;
    if (len != sizeof theirs) return 100;
    memcpy(&theirs, arg, sizeof theirs);
    if (conc__forkserver_pid() != 0) return 1;
    conc_process_opts_t o = {.method = CONC_START_FORKSERVER};
    conc_process_t *p;
    if (conc_process_start(&p, "exit_zero", NULL, 0, &o) != 0) return 2;
    if (conc_process_join(p, 30) != 0) return 3;
    conc_process_free(p);
    pid_t mine = conc__forkserver_pid();
    if (mine <= 0 || mine == theirs) return 4;
    return 0;
}
CONC_TARGET(own_server)

static void fork_child_has_own_server(void **state) {
    (void)state;
    pid_t s = server_pid();
    assert_int_equal(run_child(CONC_START_FORK, "own_server", &s, sizeof s), 0);
    assert_int_equal(conc__forkserver_pid(), s);
    assert_int_equal(run_child(CONC_START_FORKSERVER, "parent_is", &s, sizeof s), 0);
}

PROCESS_TEST_MAIN(cmocka_unit_test(reused), cmocka_unit_test(single_threaded),
                  cmocka_unit_test(restarted), cmocka_unit_test(started_from_thread),
                  cmocka_unit_test(fork_child_has_own_server), cmocka_unit_test(child_env_and_ids),
                  cmocka_unit_test(child_keeps_user_tunables))
