/* Process pool, under each start method: results by CONC_WORK name, -ENOENT for an unregistered
 * function, map chunks, work errors, max_tasks_per_child (workers retire and are replaced), an
 * initializer (and one that fails: CONC_EBROKEN), a worker SIGKILLed mid-task and a work function
 * that SIGSEGVs (that task CONC_EBROKEN, every other one completes, the pool goes on), and a
 * shutdown that leaves no worker process. Signals go only to the pool's own workers. */
/* TEST_TIMEOUT: 120 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "internal/base.h"
#include "executor_util.h"
#include "process_util.h"

static int my_pid(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    pid_t *p = malloc(sizeof *p);
    *p = getpid();
    out->data = p;
    out->len = sizeof *p;
    return 0;
}
CONC_WORK(my_pid)

static int fail_eio(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    (void)out;
    return -EIO;
}
CONC_WORK(fail_eio)

static int not_registered(const void *arg, size_t len, conc_bytes_t *out) {
    return twice(arg, len, out);
}

static int crash(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    (void)out;
    signal(SIGSEGV, SIG_DFL); /* not a sanitizer's handler: really die of it */
    raise(SIGSEGV);
    return 0;
}
CONC_WORK(crash)

/* Publish this worker's pid in the shared segment named by the argument, then hang. */
static int hang(const void *arg, size_t len, conc_bytes_t *out) {
    (void)out;
    char name[128];
    memcpy(name, arg, len);
    name[len] = 0;
    conc_shm_t *s;
    if (conc_shm_attach(&s, name) != 0) return -EIO;
    uint32_t *word = conc_shm_buf(s);
    conc__store(word, (uint32_t)getpid());
    conc__futex_wake(word, 1, true);
    for (;;) pause();
}
CONC_WORK(hang)

static uint32_t counter_init;
static int init_ok(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    (void)out;
    counter_init = 4242;
    return 0;
}
CONC_WORK(init_ok)

static int read_init(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    out->data = malloc(sizeof counter_init);
    memcpy(out->data, &counter_init, sizeof counter_init);
    out->len = sizeof counter_init;
    return 0;
}
CONC_WORK(read_init)

static int init_fails(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    (void)out;
    return -EACCES;
}
CONC_WORK(init_fails)

static pid_t pid_of(conc_future_t *f) {
    conc_bytes_t *b;
    assert_int_equal(result_of(f, &b), 0);
    assert_int_equal(b->len, sizeof(pid_t));
    pid_t p;
    memcpy(&p, b->data, sizeof p);
    return p;
}

static bool gone(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X'); /* a zombie that someone else reaps */
}

static void basics(conc_start_method_t m) {
    conc_executor_t *ex = pool_with(m, 2, 0, NULL);
    conc_future_t *f;
    assert_int_equal(conc_executor_submit(ex, twice, "ab", 2, &f), 0);
    conc_bytes_t *b;
    assert_int_equal(result_of(f, &b), 0);
    assert_int_equal(b->len, 4);
    assert_memory_equal(b->data, "abab", 4);
    conc_future_release(f);
    assert_int_equal(conc_executor_submit(ex, twice, NULL, 0, &f), 0);
    assert_int_equal(result_of(f, &b), 0);
    assert_int_equal(b->len, 0);
    conc_future_release(f);
    assert_int_equal(conc_executor_submit(ex, fail_eio, "x", 1, &f), 0);
    assert_int_equal(result_of(f, NULL), -EIO);
    conc_future_release(f);
    f = NULL;
    assert_int_equal(conc_executor_submit(ex, not_registered, "x", 1, &f), -ENOENT);
    assert_null(f);
    assert_int_equal(conc_executor_submit(ex, my_pid, NULL, 0, &f), 0);
    pid_t w = pid_of(f);
    assert_int_not_equal(w, getpid());
    conc_future_release(f);

    enum { N = 100 };
    conc_bytes_t args[N];
    int vals[N];
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        args[i] = (conc_bytes_t){&vals[i], sizeof(int)};
    }
    assert_int_equal(conc_executor_map(ex, twice, args, N, 7, fs), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(result_of(fs[i], &b), 0);
        assert_int_equal(b->len, 2 * sizeof(int));
        assert_memory_equal(b->data, &vals[i], sizeof(int));
        assert_memory_equal((char *)b->data + sizeof(int), &vals[i], sizeof(int));
        conc_future_release(fs[i]);
    }
    assert_int_equal(conc_executor_shutdown(ex, true, false), 0);
    assert_int_equal(conc_executor_submit(ex, twice, "x", 1, &f), CONC_ECLOSED);
    assert_true(gone(w)); /* shutdown left no worker behind */
    conc_executor_free(ex);
}
PER_METHOD(basics)

static void retire(conc_start_method_t m) {
    conc_executor_t *ex = pool_with(m, 1, 3, NULL);
    pid_t pids[9];
    for (int i = 0; i < 9; i++) {
        conc_future_t *f;
        assert_int_equal(conc_executor_submit(ex, my_pid, NULL, 0, &f), 0);
        pids[i] = pid_of(f);
        conc_future_release(f);
    }
    for (int i = 0; i < 9; i++) assert_int_equal(pids[i], pids[i / 3 * 3]);
    assert_int_not_equal(pids[0], pids[3]);
    assert_int_not_equal(pids[3], pids[6]);
    assert_true(gone(pids[0]));
    conc_executor_free(ex);
    assert_true(gone(pids[6]));
}
PER_METHOD(retire)

static void initializer(conc_start_method_t m) {
    conc_executor_t *ex = pool_with(m, 2, 0, "init_ok");
    conc_future_t *f;
    assert_int_equal(conc_executor_submit(ex, read_init, NULL, 0, &f), 0);
    conc_bytes_t *b;
    assert_int_equal(result_of(f, &b), 0);
    assert_int_equal(*(uint32_t *)b->data, 4242);
    conc_future_release(f);
    conc_executor_free(ex);

    ex = pool_with(m, 2, 0, "init_fails");
    /* broken: submits fail at once once the news has arrived, their futures before that */
    for (int i = 0; i < 3; i++) {
        int r = conc_executor_submit(ex, twice, "a", 1, &f);
        if (r == 0) {
            assert_int_equal(result_of(f, NULL), CONC_EBROKEN);
            conc_future_release(f);
        } else {
            assert_int_equal(r, CONC_EBROKEN);
        }
    }
    conc_executor_free(ex);
}
PER_METHOD(initializer)

/* A worker SIGKILLed mid-task, then one dying of SIGSEGV: only that task fails. */
static void killed_worker(conc_start_method_t m) {
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    const char *name = conc_shm_name(s);
    uint32_t *word = conc_shm_buf(s);
    conc_executor_t *ex = pool_with(m, 2, 0, NULL);
    conc_future_t *victim;
    assert_int_equal(conc_executor_submit(ex, hang, name, strlen(name), &victim), 0);
    enum { N = 40 };
    conc_bytes_t args[N];
    int vals[N];
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        args[i] = (conc_bytes_t){&vals[i], sizeof(int)};
    }
    assert_int_equal(conc_executor_map(ex, twice, args, N, 3, fs), 0);
    double deadline = conc_monotonic() + 60;
    uint32_t pid;
    while ((pid = conc__load(word)) == 0) {
        assert_true(conc_monotonic() < deadline);
        conc__wait(word, 0, conc_monotonic() + 0.1, true);
    }
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0); /* the pool's own worker */
    assert_int_equal(result_of(victim, NULL), CONC_EBROKEN);
    conc_future_release(victim);
    for (int i = 0; i < N; i++) {
        conc_bytes_t *b;
        assert_int_equal(result_of(fs[i], &b), 0);
        assert_memory_equal(b->data, &vals[i], sizeof(int));
        conc_future_release(fs[i]);
    }
    /* a crash in the middle of a chunk: that task fails, its neighbours run elsewhere */
    conc_future_t *c;
    assert_int_equal(conc_executor_submit(ex, crash, NULL, 0, &c), 0);
    assert_int_equal(result_of(c, NULL), CONC_EBROKEN);
    conc_future_release(c);
    /* the pool still has two workers and serves */
    conc_future_t *p1, *p2;
    assert_int_equal(conc_executor_submit(ex, my_pid, NULL, 0, &p1), 0);
    assert_int_equal(conc_executor_submit(ex, my_pid, NULL, 0, &p2), 0);
    pid_t a = pid_of(p1), b = pid_of(p2);
    assert_int_not_equal(a, (pid_t)pid);
    assert_int_not_equal(b, (pid_t)pid);
    conc_future_release(p1);
    conc_future_release(p2);
    conc_executor_free(ex);
    assert_true(gone(a));
    assert_true(gone(b));
    conc_shm_unlink(s);
    conc_shm_close(s);
}
PER_METHOD(killed_worker)

static int crash_on_3(const void *arg, size_t len, conc_bytes_t *out) {
    int v;
    memcpy(&v, arg, sizeof v);
    if (v == 3) return crash(arg, len, out);
    return twice(arg, len, out);
}
CONC_WORK(crash_on_3)

static void crash_mid_chunk(void **state) {
    (void)state;
    conc_executor_t *ex = pool_with(CONC_START_FORK, 2, 0, NULL);
    enum { N = 10 };
    conc_bytes_t args[N];
    int vals[N];
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++) {
        vals[i] = i;
        args[i] = (conc_bytes_t){&vals[i], sizeof(int)};
    }
    assert_int_equal(conc_executor_map(ex, crash_on_3, args, N, 5, fs), 0);
    for (int i = 0; i < N; i++) {
        int r = result_of(fs[i], NULL);
        assert_int_equal(r, i == 3 ? CONC_EBROKEN : 0);
        conc_future_release(fs[i]);
    }
    conc_executor_free(ex);
}

static void cancel_pending_at_shutdown(void **state) {
    (void)state;
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    const char *name = conc_shm_name(s);
    uint32_t *word = conc_shm_buf(s);
    conc_executor_t *ex = pool_with(CONC_START_FORK, 1, 0, NULL);
    conc_future_t *busy, *queued[5];
    assert_int_equal(conc_executor_submit(ex, hang, name, strlen(name), &busy), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(conc_executor_submit(ex, twice, "q", 1, &queued[i]), 0);
    double deadline = conc_monotonic() + 60;
    uint32_t pid;
    while ((pid = conc__load(word)) == 0) {
        assert_true(conc_monotonic() < deadline);
        conc__wait(word, 0, conc_monotonic() + 0.1, true);
    }
    assert_false(conc_future_cancel(busy));
    assert_true(conc_future_cancel(queued[4]));
    assert_int_equal(conc_executor_shutdown(ex, false, true), 0);
    /* queued[0] may already wait in the worker's pipe (one task is queued ahead, as CPython's
     * pool does): it then runs once the worker is replaced */
    for (int i = 1; i < 5; i++) {
        assert_int_equal(conc_future_result(queued[i], NULL), -ECANCELED);
        conc_future_release(queued[i]);
    }
    kill((pid_t)pid, SIGKILL);
    assert_int_equal(result_of(busy, NULL), CONC_EBROKEN);
    conc_future_release(busy);
    int r0 = result_of(queued[0], NULL);
    assert_true(r0 == 0 || r0 == -ECANCELED);
    conc_future_release(queued[0]);
    conc_executor_free(ex);
    assert_true(gone((pid_t)pid));
    conc_shm_unlink(s);
    conc_shm_close(s);
}

PROCESS_TEST_MAIN(cmocka_unit_test(basics_fork), cmocka_unit_test(basics_spawn),
                  cmocka_unit_test(basics_forkserver), cmocka_unit_test(retire_fork),
                  cmocka_unit_test(retire_spawn), cmocka_unit_test(retire_forkserver),
                  cmocka_unit_test(initializer_fork), cmocka_unit_test(initializer_spawn),
                  cmocka_unit_test(initializer_forkserver), cmocka_unit_test(killed_worker_fork),
                  cmocka_unit_test(killed_worker_spawn), cmocka_unit_test(killed_worker_forkserver),
                  cmocka_unit_test(crash_mid_chunk), cmocka_unit_test(cancel_pending_at_shutdown))
