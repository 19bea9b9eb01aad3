/* Blocking calls and failures: a blocked queue.get does not stall other clients (the server parks
 * it), threads share one manager handle and each gets its own replies, a lock whose holder is
 * killed is released and its next taker - a waiter already parked, or a later caller - gets
 * CONC_EOWNERDEAD, and a forked child's handle reconnects by itself. */
/* TEST_TIMEOUT: 90 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include "manager_util.h"

static conc_manager_t *second(conc_manager_t *m) {
    size_t klen;
    const void *key = conc_manager_authkey(m, &klen);
    conc_manager_t *m2;
    assert_int_equal(conc_manager_connect(&m2, conc_manager_address(m), key, klen), 0);
    return m2;
}

struct getter {
    conc_mqueue_t *q;
    int r;
    char got[16];
};

static void *get_forever(void *arg) {
    struct getter *g = arg;
    void *v;
    size_t n;
    g->r = conc_mqueue_get(g->q, &v, &n, CONC_FOREVER);
    if (g->r == 0) {
        snprintf(g->got, sizeof g->got, "%.*s", (int)n, (char *)v);
        free(v);
    }
    return NULL;
}

static void blocked_get_does_not_stall_others(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL), *m2 = second(m);
    struct getter g = {0};
    assert_int_equal(conc_mqueue_open(m2, "q", 0, &g.q), 0);
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, get_forever, &g, NULL), 0);
    /* The getter may not have sent its request yet; either way the server must answer us. */
    conc_mdict_t *d;
    assert_int_equal(conc_mdict_open(m, "d", &d), 0);
    for (int i = 0; i < 200; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "%d", i);
        assert_int_equal(conc_mdict_set(d, k, (size_t)n, k, (size_t)n), 0);
    }
    size_t len;
    assert_int_equal(conc_mdict_len(d, &len), 0);
    assert_int_equal(len, 200);
    conc_mqueue_t *q;
    assert_int_equal(conc_mqueue_open(m, "q", 0, &q), 0);
    assert_int_equal(conc_mqueue_put(q, "wake", 4, 5), 0);
    assert_int_equal(conc_thread_join(t, 30, NULL), 0);
    conc_thread_release(t);
    assert_int_equal(g.r, 0);
    assert_string_equal(g.got, "wake");
    conc_mproxy_close(q);
    conc_mproxy_close(g.q);
    conc_mproxy_close(d);
    conc_manager_free(m2);
    conc_manager_free(m);
}

struct adder {
    conc_mvalue_t *v;
    int fails;
};

static void *add_many(void *arg) {
    struct adder *a = arg;
    for (int i = 0; i < 200; i++)
        if (conc_mvalue_add(a->v, 1, NULL) != 0) a->fails++;
    return NULL;
}

static void threads_share_one_handle(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    /* one thread parked in a get on the same handle the adders use */
    struct getter g = {0};
    assert_int_equal(conc_mqueue_open(m, "q", 0, &g.q), 0);
    conc_thread_t *gt, *ts[4];
    assert_int_equal(conc_thread_start(&gt, get_forever, &g, NULL), 0);
    conc_mvalue_t *v;
    assert_int_equal(conc_mvalue_open(m, "n", &v), 0);
    struct adder a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct adder){v, 0};
        assert_int_equal(conc_thread_start(&ts[i], add_many, &a[i], NULL), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(conc_thread_join(ts[i], 60, NULL), 0);
        conc_thread_release(ts[i]);
        assert_int_equal(a[i].fails, 0);
    }
    int64_t x;
    assert_int_equal(conc_mvalue_get(v, &x), 0);
    assert_int_equal(x, 800);
    assert_int_equal(conc_mqueue_put(g.q, "done", 4, 5), 0);
    assert_int_equal(conc_thread_join(gt, 30, NULL), 0);
    conc_thread_release(gt);
    assert_string_equal(g.got, "done");
    conc_mproxy_close(v);
    conc_mproxy_close(g.q);
    conc_manager_free(m);
}

/* A raw fork (no conc process) that takes the lock on a connection of its own, says so, and
 * waits to be killed. */
static pid_t holder(conc_manager_t *m, int *ready_fd) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    size_t klen;
    const void *key = conc_manager_authkey(m, &klen);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        conc_manager_t *mc;
        conc_mlock_t *l;
        if (conc_manager_connect(&mc, conc_manager_address(m), key, klen) != 0) _exit(1);
        if (conc_mlock_open(mc, "L", &l) != 0 || conc_mlock_acquire(l, 10) != 0) _exit(2);
        if (write(p[1], "x", 1) != 1) _exit(3);
        for (;;) pause();
    }
    close(p[1]);
    *ready_fd = p[0];
    return pid;
}

struct acquirer {
    conc_mlock_t *l;
    int r;
};

static void *acquire_long(void *arg) {
    struct acquirer *a = arg;
    a->r = conc_mlock_acquire(a->l, 30);
    return NULL;
}

static void killed_holder_releases_lock(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    conc_mlock_t *l;
    assert_int_equal(conc_mlock_open(m, "L", &l), 0);
    /* 1. a later caller gets CONC_EOWNERDEAD */
    int fd;
    pid_t pid = holder(m, &fd);
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    close(fd);
    assert_int_equal(conc_mlock_acquire(l, 0), -ETIMEDOUT);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    int r = conc_mlock_acquire(l, 30);
    assert_int_equal(r, CONC_EOWNERDEAD);
    assert_int_equal(conc_mlock_release(l), 0);
    assert_int_equal(conc_mlock_acquire(l, 0), 0); /* said once */
    assert_int_equal(conc_mlock_release(l), 0);
    /* 2. a waiter already parked gets it, with CONC_EOWNERDEAD */
    pid = holder(m, &fd);
    assert_int_equal(read(fd, &c, 1), 1);
    close(fd);
    conc_manager_t *m2 = second(m);
    struct acquirer a = {NULL, 1};
    assert_int_equal(conc_mlock_open(m2, "L", &a.l), 0);
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, acquire_long, &a, NULL), 0);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(conc_thread_join(t, 40, NULL), 0);
    conc_thread_release(t);
    assert_int_equal(a.r, CONC_EOWNERDEAD);
    assert_int_equal(conc_mlock_release(l), -EPERM); /* m2 holds it now */
    assert_int_equal(conc_mlock_release(a.l), 0);
    conc_mproxy_close(a.l);
    conc_manager_free(m2);
    conc_mproxy_close(l);
    conc_manager_free(m);
}

static void forked_child_reconnects(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    conc_mvalue_t *v;
    assert_int_equal(conc_mvalue_open(m, "v", &v), 0);
    assert_int_equal(conc_mvalue_add(v, 1, NULL), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the inherited handle and proxy: a connection of the child's own */
        int64_t x;
        if (conc_mvalue_add(v, 10, &x) != 0 || x != 11) _exit(1);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int64_t x;
    assert_int_equal(conc_mvalue_add(v, 100, &x), 0); /* ours still works */
    assert_int_equal(x, 111);
    conc_mproxy_close(v);
    conc_manager_free(m);
}

PROCESS_TEST_MAIN(cmocka_unit_test(blocked_get_does_not_stall_others),
                  cmocka_unit_test(threads_share_one_handle),
                  cmocka_unit_test(killed_holder_releases_lock),
                  cmocka_unit_test(forked_child_reconnects))
