/* Process pool answers through the result ring (src/executor/wire.h), under each start method:
 * the ring is really mapped in the workers; results of every size come back in order when some
 * travel in the ring and some (too large, or a full ring) on the Pipe; an answer is not held back
 * by a long task after it in the same chunk; a worker SIGKILLed mid-chunk, after earlier answers
 * sat in its ring unannounced, fails only the task it was running; a long task does not gather a
 * stream of quick ones behind it; and slow tasks are never piled on one worker while another
 * idles, however the pool collects their answers; a waiting thread that took answers itself
 * (bells off meanwhile) leaves the workers ringing, and the manager delivering the rest of a map
 * once that thread stops waiting. Signals go only to the pool's own workers. */
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

/* 1 if this process maps the pool's ring. */
static int ring_mapped(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg, (void)len;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -EIO;
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "memfd:conc-pool-ring")) found = 1;
    fclose(f);
    out->data = malloc(sizeof found);
    memcpy(out->data, &found, sizeof found);
    out->len = sizeof found;
    return 0;
}
CONC_WORK(ring_mapped)

struct sized_arg {
    uint32_t index, size;
};

/* size bytes, each (index + position) mod 251 */
static int sized(const void *arg, size_t len, conc_bytes_t *out) {
    struct sized_arg a;
    if (len != sizeof a) return -EINVAL;
    memcpy(&a, arg, sizeof a);
    unsigned char *p = malloc(a.size ? a.size : 1);
    for (uint32_t i = 0; i < a.size; i++) p[i] = (unsigned char)((a.index + i) % 251);
    out->data = p;
    out->len = a.size;
    return 0;
}
CONC_WORK(sized)

/* The argument: { int v; shm name }. v < 0: publish the pid in word[0], then wait until word[1]
 * is set (60 s at most); v == 100: publish the pid, then hang; else twice. */
static int step(const void *arg, size_t len, conc_bytes_t *out) {
    int v;
    memcpy(&v, arg, sizeof v);
    if (v >= 0 && v != 100) return twice(arg, sizeof v, out);
    char name[128];
    size_t n = len - sizeof v;
    memcpy(name, (const char *)arg + sizeof v, n);
    name[n] = 0;
    conc_shm_t *s;
    if (conc_shm_attach(&s, name) != 0) return -EIO;
    uint32_t *word = conc_shm_buf(s);
    conc__store(&word[0], (uint32_t)getpid());
    conc__futex_wake(&word[0], 1, true);
    if (v == 100)
        for (;;) pause();
    double deadline = conc_monotonic() + 60;
    while (!conc__load(&word[1]) && conc_monotonic() < deadline)
        conc__wait(&word[1], 0, conc_monotonic() + 0.1, true);
    conc_shm_close(s);
    return 0;
}
CONC_WORK(step)

/* Arrivals 2k and 2k+1 pair up: each waits (5 s at most) for its partner, then spins 1 ms of its
 * own. A worker cannot start its next task while one waits, so the partner comes from the other
 * worker; the result is 1 if none came. The argument is the shm name. */
static int paired(const void *arg, size_t len, conc_bytes_t *out) {
    char name[128];
    if (len >= sizeof name) return -EINVAL;
    memcpy(name, arg, len);
    name[len] = 0;
    conc_shm_t *s;
    if (conc_shm_attach(&s, name) != 0) return -EIO;
    uint32_t *arrived = conc_shm_buf(s);
    uint32_t me = conc__add(arrived, 1) - 1, want = me / 2 * 2 + 2;
    conc__futex_wake(arrived, INT32_MAX, true);
    double deadline = conc_monotonic() + 5;
    uint32_t now;
    while ((now = conc__load(arrived)) < want && conc_monotonic() < deadline)
        conc__wait(arrived, now, deadline, true);
    int alone = conc__load(arrived) < want;
    for (double end = conc_monotonic() + 1e-3; conc_monotonic() < end;) {
    }
    conc_shm_close(s);
    out->data = malloc(sizeof alone);
    memcpy(out->data, &alone, sizeof alone);
    out->len = sizeof alone;
    return 0;
}
CONC_WORK(paired)

static conc_executor_t *pool(conc_start_method_t m, unsigned n) {
    return pool_with(m, n, 0, NULL);
}

static uint32_t wait_pid(uint32_t *word) {
    double deadline = conc_monotonic() + 60;
    uint32_t pid;
    while ((pid = conc__load(word)) == 0) {
        assert_true(conc_monotonic() < deadline);
        conc__wait(word, 0, conc_monotonic() + 0.1, true);
    }
    return pid;
}

/* step's argument for v */
static size_t step_arg(unsigned char *buf, int v, const char *name) {
    memcpy(buf, &v, sizeof v);
    memcpy(buf + sizeof v, name, strlen(name));
    return sizeof v + strlen(name);
}

static void ring_in_use(conc_start_method_t m) {
    conc_executor_t *ex = pool(m, 2);
    conc_future_t *fs[4];
    conc_bytes_t args[4] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    assert_int_equal(conc_executor_map(ex, ring_mapped, args, 4, 1, fs), 0);
    for (int i = 0; i < 4; i++) {
        conc_bytes_t *b;
        assert_int_equal(result_of(fs[i], &b), 0);
        int found;
        memcpy(&found, b->data, sizeof found);
        assert_int_equal(found, 1);
        conc_future_release(fs[i]);
    }
    conc_executor_free(ex);
}
PER_METHOD(ring_in_use)

/* Small results in the ring, large ones on the Pipe, runs of 60 KiB ones filling the ring until
 * the rest go on the Pipe too: every result arrives whole, each with its own future. */
static void sizes_in_order(conc_start_method_t m) {
    conc_executor_t *ex = pool(m, 2);
    enum { N = 60 };
    static const uint32_t pattern[] = {8, 0, 100000, 60000, 60000, 60000, 60000, 60000, 60000, 3};
    struct sized_arg a[N];
    conc_bytes_t args[N];
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++) {
        a[i] = (struct sized_arg){(uint32_t)i, pattern[i % 10]};
        args[i] = (conc_bytes_t){&a[i], sizeof a[i]};
    }
    assert_int_equal(conc_executor_map(ex, sized, args, N, 12, fs), 0);
    for (int i = 0; i < N; i++) {
        conc_bytes_t *b;
        assert_int_equal(result_of(fs[i], &b), 0);
        assert_int_equal(b->len, a[i].size);
        const unsigned char *p = b->data;
        for (uint32_t k = 0; k < a[i].size; k++)
            if (p[k] != (unsigned char)((a[i].index + k) % 251)) fail_msg("task %d byte %u", i, k);
        conc_future_release(fs[i]);
    }
    conc_executor_free(ex);
}
PER_METHOD(sizes_in_order)

/* In one chunk, a quick task then one that waits for us: the quick one's answer comes while the
 * second still runs. */
static void answer_not_held_back(void **state) {
    (void)state;
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    const char *name = conc_shm_name(s);
    uint32_t *word = conc_shm_buf(s);
    conc_executor_t *ex = pool(CONC_START_FORK, 1);
    unsigned char a0[160], a1[160];
    conc_bytes_t args[2] = {{a0, step_arg(a0, 7, name)}, {a1, step_arg(a1, -1, name)}};
    conc_future_t *fs[2];
    assert_int_equal(conc_executor_map(ex, step, args, 2, 2, fs), 0);
    conc_bytes_t *b;
    assert_int_equal(result_of(fs[0], &b), 0);
    assert_int_equal(b->len, 2 * sizeof(int));
    wait_pid(&word[0]);
    assert_false(conc_future_done(fs[1]));
    conc__store(&word[1], 1);
    conc__futex_wake(&word[1], 1, true);
    assert_int_equal(result_of(fs[1], NULL), 0);
    conc_future_release(fs[0]);
    conc_future_release(fs[1]);
    conc_executor_free(ex);
    conc_shm_unlink(s);
    conc_shm_close(s);
}

/* A chunk of five whose third task is SIGKILLed: the first two answered (from the ring), the third
 * CONC_EBROKEN, the last two run by the replacement. */
static void killed_mid_chunk(conc_start_method_t m) {
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    const char *name = conc_shm_name(s);
    uint32_t *word = conc_shm_buf(s);
    conc_executor_t *ex = pool(m, 1);
    enum { N = 5 };
    unsigned char a[N][160];
    conc_bytes_t args[N];
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++)
        args[i] = (conc_bytes_t){a[i], step_arg(a[i], i == 2 ? 100 : i, name)};
    assert_int_equal(conc_executor_map(ex, step, args, N, N, fs), 0);
    uint32_t pid = wait_pid(&word[0]);
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0); /* the pool's own worker */
    for (int i = 0; i < N; i++) {
        conc_bytes_t *b;
        int r = result_of(fs[i], &b);
        if (i == 2) {
            assert_int_equal(r, CONC_EBROKEN);
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(b->len, 2 * sizeof(int));
            assert_memory_equal(b->data, &i, sizeof i);
        }
        conc_future_release(fs[i]);
    }
    conc_executor_free(ex);
    conc_shm_unlink(s);
    conc_shm_close(s);
}
PER_METHOD(killed_mid_chunk)

/* After a stream of quick tasks (workers hold many batches of them at once), a long task of other
 * work: the quick ones submitted after it do not queue up behind it but run on the other worker. */
static void long_task_after_stream(void **state) {
    (void)state;
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    const char *name = conc_shm_name(s);
    uint32_t *word = conc_shm_buf(s);
    conc_executor_t *ex = pool(CONC_START_FORK, 2);
    enum { N = 4000, Q = 40 };
    conc_bytes_t *args = malloc(N * sizeof *args);
    conc_future_t **fs = malloc(N * sizeof *fs);
    int v = 5;
    for (int i = 0; i < N; i++) args[i] = (conc_bytes_t){&v, sizeof v};
    assert_int_equal(conc_executor_map(ex, twice, args, N, 1, fs), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(result_of(fs[i], NULL), 0);
        conc_future_release(fs[i]);
    }
    unsigned char la[160];
    conc_future_t *slow;
    assert_int_equal(conc_executor_submit(ex, step, la, step_arg(la, -1, name), &slow), 0);
    wait_pid(&word[0]);
    assert_int_equal(conc_executor_map(ex, twice, args, Q, 1, fs), 0);
    /* at most one (DEPTH) waits behind the long task; the others complete meanwhile */
    int done = 0;
    for (int i = 0; i < Q; i++)
        if (conc_future_wait(fs[i], i == 0 ? 30 : 0.5) == 0) done++;
    assert_true(done >= Q - 1);
    assert_false(conc_future_done(slow));
    conc__store(&word[1], 1);
    conc__futex_wake(&word[1], 1, true);
    assert_int_equal(result_of(slow, NULL), 0);
    conc_future_release(slow);
    for (int i = 0; i < Q; i++) {
        assert_int_equal(result_of(fs[i], NULL), 0);
        conc_future_release(fs[i]);
    }
    free(args);
    free(fs);
    conc_executor_free(ex);
    conc_shm_unlink(s);
    conc_shm_close(s);
}

static void flag_done(conc_future_t *f, void *arg) {
    (void)f;
    conc__store((uint32_t *)arg, 1);
    conc__futex_wake(arg, 1, false);
}

/* A waiting thread that helped (bells off) and gave up must leave the workers ringing: the
 * manager went to sleep with nothing in flight, so without a bell it would never look again. */
static void answer_after_helper_left(void **state) {
    (void)state;
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    const char *name = conc_shm_name(s);
    uint32_t *word = conc_shm_buf(s);
    conc_executor_t *ex = pool(CONC_START_FORK, 1);
    unsigned char q[160], g[160];
    /* quick answers of this work: the next wait on it helps */
    for (int i = 0; i < 200; i++) {
        conc_future_t *f;
        assert_int_equal(conc_executor_submit(ex, step, q, step_arg(q, 3, name), &f), 0);
        assert_int_equal(result_of(f, NULL), 0);
        conc_future_release(f);
    }
    conc_future_t *gated;
    assert_int_equal(conc_executor_submit(ex, step, g, step_arg(g, -1, name), &gated), 0);
    wait_pid(&word[0]);
    assert_int_equal(conc_future_wait(gated, 0.2), -ETIMEDOUT);
    /* from here only the manager may complete it: a callback, not a wait (which would help) */
    uint32_t done = 0;
    conc_future_add_done_callback(gated, flag_done, &done);
    conc__store(&word[1], 1);
    conc__futex_wake(&word[1], 1, true);
    double deadline = conc_monotonic() + 30;
    while (!conc__load(&done) && conc_monotonic() < deadline) conc__wait(&done, 0, deadline, false);
    assert_true(conc__load(&done));
    assert_int_equal(result_of(gated, NULL), 0);
    conc_future_release(gated);
    conc_executor_free(ex);
    conc_shm_unlink(s);
    conc_shm_close(s);
}

static void count_done(conc_future_t *f, void *arg) {
    (void)f;
    uint32_t *left = arg;
    if (conc__sub(left, 1) == 0) conc__futex_wake(left, 1, false);
}

/* A thread that took ring answers itself keeps the manager away from the rings for a moment
 * (process.c): once it stops waiting, the manager must still deliver the rest of a map, to
 * done-callbacks (as_completed, a loop awaiting them) that nobody waits beside. */
static void manager_takes_over_after_helper(void **state) {
    (void)state;
    conc_executor_t *ex = pool(CONC_START_FORK, 2);
    enum { N = 20000 };
    conc_bytes_t *args = malloc(N * sizeof *args);
    conc_future_t **fs = malloc(N * sizeof *fs);
    int v = 5;
    for (int i = 0; i < N; i++) args[i] = (conc_bytes_t){&v, sizeof v};
    /* a first map makes the workers quick ones: waits on the second one help */
    assert_int_equal(conc_executor_map(ex, twice, args, N, 64, fs), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(result_of(fs[i], NULL), 0);
        conc_future_release(fs[i]);
    }
    assert_int_equal(conc_executor_map(ex, twice, args, N, 64, fs), 0);
    assert_int_equal(result_of(fs[0], NULL), 0);
    uint32_t left = N - 1;
    for (int i = 1; i < N; i++) conc_future_add_done_callback(fs[i], count_done, &left);
    double deadline = conc_monotonic() + 30;
    uint32_t l;
    while ((l = conc__load(&left)) && conc_monotonic() < deadline)
        conc__wait(&left, l, deadline, false);
    assert_int_equal(conc__load(&left), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(result_of(fs[i], NULL), 0);
        conc_future_release(fs[i]);
    }
    free(args);
    free(fs);
    conc_executor_free(ex);
}

/* 2 workers, 60 tasks that each need a partner on the other worker: all but at most DEPTH find
 * one, so no worker was sent a pile of them. The submitter waits on each in turn (it takes the
 * answers from the rings itself), which is when a worker's answers get collected several at
 * once. */
static void slow_tasks_balanced(void **state) {
    (void)state;
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    const char *name = conc_shm_name(s);
    conc_executor_t *ex = pool(CONC_START_FORK, 2);
    enum { N = 60 };
    conc_bytes_t args[N];
    conc_future_t *fs[N];
    for (int i = 0; i < N; i++) args[i] = (conc_bytes_t){(void *)name, strlen(name)};
    assert_int_equal(conc_executor_map(ex, paired, args, N, 1, fs), 0);
    int alone = 0;
    for (int i = 0; i < N; i++) {
        conc_bytes_t *b;
        assert_int_equal(result_of(fs[i], &b), 0);
        int a;
        memcpy(&a, b->data, sizeof a);
        alone += a;
        conc_future_release(fs[i]);
    }
    /* DEPTH (2): a worker whose answers were collected late near the end may be sent that many
     * more than the other; piled up as quick work (a deep queue), 7-13 of 60 were alone */
    assert_true(alone <= 2);
    conc_executor_free(ex);
    conc_shm_unlink(s);
    conc_shm_close(s);
}

PROCESS_TEST_MAIN(cmocka_unit_test(ring_in_use_fork), cmocka_unit_test(ring_in_use_spawn),
                  cmocka_unit_test(ring_in_use_forkserver), cmocka_unit_test(sizes_in_order_fork),
                  cmocka_unit_test(sizes_in_order_spawn),
                  cmocka_unit_test(sizes_in_order_forkserver),
                  cmocka_unit_test(answer_not_held_back), cmocka_unit_test(killed_mid_chunk_fork),
                  cmocka_unit_test(killed_mid_chunk_spawn),
                  cmocka_unit_test(killed_mid_chunk_forkserver),
                  cmocka_unit_test(long_task_after_stream), cmocka_unit_test(slow_tasks_balanced),
                  cmocka_unit_test(answer_after_helper_left),
                  cmocka_unit_test(manager_takes_over_after_helper))
