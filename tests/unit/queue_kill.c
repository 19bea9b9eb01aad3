/* SIGKILL inside put and get. A test hook (conc__queue_test_stop) stops a forked child exactly in
 * the middle of a put (half the payload written, nothing committed) or a get (the message copied
 * out, not yet consumed); the parent then kills it and checks that the survivors are not wedged
 * (a put blocked on the dead child's lock goes through), every completed put is delivered exactly
 * once, the interrupted put never, and nothing is torn - for inline and spilled messages alike.
 * A last case kills a busy child at arbitrary moments, many times over. */
/* TEST_TIMEOUT: 120 */
#include "ipc_util.h"
#include "internal/queue.h"

static int stop_pipe[2];
static const char *stop_at;

static void stop_and_hang(const char *where) {
    if (strcmp(where, stop_at) != 0) return;
    if (write(stop_pipe[1], "s", 1) != 1) _exit(3);
    for (;;) pause();
}

static void fill(unsigned char *b, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static void expect_msg(conc_queue_t *q, size_t n, unsigned seed) {
    unsigned char *want = malloc(n ? n : 1);
    fill(want, n, seed);
    void *buf;
    size_t len;
    assert_int_equal(conc_queue_get(q, &buf, &len, 10), 0);
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
    free(buf);
    free(want);
}

static void put_msg(conc_queue_t *q, size_t n, unsigned seed) {
    unsigned char *b = malloc(n ? n : 1);
    fill(b, n, seed);
    assert_int_equal(conc_queue_put(q, b, n, 10), 0);
    free(b);
}

struct putter {
    conc_queue_t *q;
    size_t n;
    int r;
};

static void *put_thread(void *arg) {
    struct putter *p = arg;
    unsigned char *b = malloc(p->n);
    fill(b, p->n, 3);
    p->r = conc_queue_put(p->q, b, p->n, 30);
    free(b);
    return NULL;
}

/* Fork a child that stops at `where` inside an op on q (a put of n bytes, seed 99, or a get). */
static pid_t child_stopped_in(conc_queue_t *q, const char *where, size_t n) {
    assert_int_equal(pipe(stop_pipe), 0);
    stop_at = where;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc__queue_test_stop = stop_and_hang;
        if (!strcmp(where, "put")) {
            unsigned char *b = malloc(n);
            fill(b, n, 99);
            conc_queue_put(q, b, n, 30);
        } else {
            void *buf;
            size_t len;
            conc_queue_get(q, &buf, &len, 30);
        }
        _exit(4); /* never reached: the hook hangs */
    }
    char c;
    assert_int_equal(read(stop_pipe[0], &c, 1), 1);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    return pid;
}

static void killed_mid_put(size_t n) {
    conc_queue_opts_t o = {.ring_bytes = 4096};
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, &o), 0);
    put_msg(q, n, 1);
    put_msg(q, n, 2);
    pid_t pid = child_stopped_in(q, "put", n);
    /* a survivor blocks on the lock the child holds... */
    struct putter p = {q, n, 1};
    pthread_t t = start_thread(put_thread, &p);
    kill(pid, SIGKILL);
    reap_killed(pid);
    join_thread(t); /* ...and gets through once the holder is dead */
    assert_int_equal(p.r, 0);
    assert_int_equal(conc_queue_qsize(q), 3);
    expect_msg(q, n, 1);
    expect_msg(q, n, 2);
    expect_msg(q, n, 3); /* not the child's half-written message 99 */
    void *buf;
    size_t len;
    assert_int_equal(conc_queue_get(q, &buf, &len, 0), -ETIMEDOUT);
    for (unsigned i = 10; i < 40; i++) { /* many laps over the leftovers */
        put_msg(q, n, i);
        expect_msg(q, n, i);
    }
    conc_queue_free(q);
}

static void killed_mid_get(size_t n) {
    conc_queue_opts_t o = {.ring_bytes = 4096};
    conc_queue_t *q;
    assert_int_equal(conc_queue_new(&q, &o), 0);
    put_msg(q, n, 1);
    put_msg(q, n, 2);
    pid_t pid = child_stopped_in(q, "get", n);
    kill(pid, SIGKILL);
    reap_killed(pid);
    assert_int_equal(conc_queue_qsize(q), 2);
    expect_msg(q, n, 1); /* the child's get never completed: still here, whole */
    expect_msg(q, n, 2);
    for (unsigned i = 10; i < 40; i++) {
        put_msg(q, n, i);
        expect_msg(q, n, i);
    }
    conc_queue_free(q);
}

static void mid_put_inline(void **state) {
    (void)state;
    killed_mid_put(200);
}

static void mid_put_spilled(void **state) {
    (void)state;
    killed_mid_put(100000); /* far larger than the 4 KiB ring */
}

static void mid_get_inline(void **state) {
    (void)state;
    killed_mid_get(200);
}

static void mid_get_spilled(void **state) {
    (void)state;
    killed_mid_get(100000);
}

/* A child puts numbered, self-checking messages and gets some back, without pause; it is killed
 * at an arbitrary moment. What the parent then drains must be exactly the child's puts in order,
 * each whole: all that completed, plus at most the one in flight. */
#define ROUNDS 25

struct shared {
    uint32_t completed; /* puts that returned */
    uint32_t taken;     /* of which the child itself got back */
};

static size_t len_of(uint32_t i) {
    return (i % 7 == 6) ? 9000 + i : 8 + (i * 13) % 300; /* every 7th one spilled */
}

static int busy_child(conc_queue_t *q, struct shared *sh) {
    unsigned char b[10000];
    for (uint32_t i = 0;; i++) {
        size_t n = len_of(i);
        memcpy(b, &i, sizeof i);
        fill(b + 4, n - 4, i);
        if (conc_queue_put(q, b, n, 30) != 0) return 1;
        __atomic_store_n(&sh->completed, i + 1, __ATOMIC_RELEASE);
        if (i % 3 == 0) { /* take the oldest back; it must be whole and in order */
            void *got;
            size_t len;
            if (conc_queue_get(q, &got, &len, 30) != 0) return 2;
            uint32_t k;
            memcpy(&k, got, sizeof k);
            bool ok = k == sh->taken && len == len_of(k);
            free(got);
            if (!ok) return 3;
            __atomic_store_n(&sh->taken, k + 1, __ATOMIC_RELEASE);
        }
    }
}

static void killed_anywhere(void **state) {
    (void)state;
    struct shared *sh = shared_map(sizeof *sh);
    unsigned char want[10000];
    for (int round = 0; round < ROUNDS; round++) {
        conc_queue_opts_t o = {.ring_bytes = 65536}; /* 8 KiB and up spill */
        conc_queue_t *q;
        assert_int_equal(conc_queue_new(&q, &o), 0);
        memset(sh, 0, sizeof *sh);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(busy_child(q, sh));
        uint32_t target = 5 + (uint32_t)round * 3; /* not a sleep: wait for progress */
        WAIT_UNTIL(__atomic_load_n(&sh->completed, __ATOMIC_ACQUIRE) >= target ||
                   waitpid(pid, NULL, WNOHANG) != 0);
        kill(pid, SIGKILL);
        reap_killed(pid);
        uint32_t done = __atomic_load_n(&sh->completed, __ATOMIC_ACQUIRE);
        /* a get in flight may have consumed one more than `taken` says */
        uint32_t first = __atomic_load_n(&sh->taken, __ATOMIC_ACQUIRE);
        uint32_t next = first;
        void *got;
        size_t len;
        int r;
        while ((r = conc_queue_get(q, &got, &len, 0)) == 0) {
            uint32_t k;
            assert_true(len >= 4);
            memcpy(&k, got, sizeof k);
            if (next == first && k == first + 1) next = k; /* the in-flight get took `first` */
            assert_int_equal(k, next);
            assert_int_equal(len, len_of(k));
            fill(want, len - 4, k);
            assert_memory_equal((char *)got + 4, want, len - 4);
            free(got);
            next++;
        }
        assert_int_equal(r, -ETIMEDOUT);
        assert_true(next == done || next == done + 1 || (next == first && first + 1 >= done));
        put_msg(q, 100, 5); /* and the queue still works */
        expect_msg(q, 100, 5);
        conc_queue_free(q);
    }
    munmap(sh, sizeof *sh);
}

CONC_TEST_MAIN(cmocka_unit_test(mid_put_inline), cmocka_unit_test(mid_put_spilled),
               cmocka_unit_test(mid_get_inline), cmocka_unit_test(mid_get_spilled),
               cmocka_unit_test(killed_anywhere))
