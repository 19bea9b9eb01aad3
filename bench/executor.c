/* Executors: conc's thread and process pools vs their floors (bench/executor.py: CPython's
 * ThreadPoolExecutor and ProcessPoolExecutor).
 *
 * Output: one line per row, tab-separated: row, unit, conc, peer ("nan": none), ratio conc/peer.
 * - executor_thread_roundtrip: submit a tiny work to a 1-thread pool and wait for its result, warm.
 * - executor_process_roundtrip: the same on a 1-worker process pool (fork). peer: a raw framed
 *   request/response over a socketpair with a forked child, in the same layout (submitter on CPU 0,
 *   worker on CPU 1, pinned by the pool's initializer) - the target is <= 3x.
 * - executor_thread_map / executor_process_map_1 / _64: map of 20,000 tiny tasks over 2 workers,
 *   chunksize 1 and 64 (the thread pool ignores it), ns per task (unpinned: both cores), after two
 *   maps of that size to warm up.
 * - executor_to_thread_roundtrip: conc_to_thread of a trivial function from a task, warm (the
 *   loop's default pool), vs asyncio.to_thread.
 * - executor_primes_scaling: a CPU-bound map (count primes below 1,000,000 in 64 slices) on a
 *   process pool of 1 and of 2 workers: the speed-up (target >= 1.8 on 2 cores; a busy machine
 *   lowers it). peer: the same slices over 1 and 2 forked processes sharing a counter - what the
 *   machine itself allows (its other guests keep it under 2). */
#include "harness.h"
#include <math.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"

enum { REPS = 41, MAPN = 20000 };

static int tiny(const void *arg, size_t len, conc_bytes_t *out) {
    out->data = malloc(len ? len : 1);
    memcpy(out->data, arg, len);
    out->len = len;
    return 0;
}
CONC_WORK(tiny)

static int pin1(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg, (void)len, (void)out;
    bench_pin(1);
    return 0;
}
CONC_WORK(pin1)

static int count_primes(int lo, int hi);

static int primes(const void *arg, size_t len, conc_bytes_t *out) {
    (void)len;
    int lo, hi;
    memcpy(&lo, arg, sizeof lo);
    memcpy(&hi, (const char *)arg + sizeof lo, sizeof hi);
    int count = count_primes(lo, hi);
    out->data = malloc(sizeof count);
    memcpy(out->data, &count, sizeof count);
    out->len = sizeof count;
    return 0;
}
CONC_WORK(primes)

static conc_executor_t *ex_now;

static double roundtrips(long n) {
    unsigned char msg[8] = {1};
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_future_t *f;
        if (conc_executor_submit(ex_now, tiny, msg, sizeof msg, &f) != 0) exit(2);
        if (conc_future_wait(f, -1) != 0 || conc_future_result(f, NULL) != 0) exit(3);
        conc_future_release(f);
    }
    return bench_now() - t;
}

/* ---- the raw floor: framed request/response with a forked child ---- */
static int raw_fd = -1;
static pid_t raw_child;

static bool read_exact(int fd, void *p, size_t n) {
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) return false;
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return true;
}

static void raw_start(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) exit(1);
    raw_child = fork();
    if (raw_child == 0) {
        bench_pin(1);
        close(sv[0]);
        unsigned char m[4 + 64];
        for (;;) {
            if (!read_exact(sv[1], m, 4)) _exit(0);
            size_t n = (size_t)m[0] << 24 | (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
            if (n > 64 || !read_exact(sv[1], m + 4, n)) _exit(0);
            if (send(sv[1], m, 4 + n, MSG_NOSIGNAL) != (ssize_t)(4 + n)) _exit(0);
        }
    }
    close(sv[1]);
    raw_fd = sv[0];
}

static double raw_roundtrips(long n) {
    unsigned char m[4 + 8] = {0, 0, 0, 8, 1}, r[4 + 8];
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        if (send(raw_fd, m, sizeof m, MSG_NOSIGNAL) != (ssize_t)sizeof m) exit(2);
        if (!read_exact(raw_fd, r, 4) || !read_exact(raw_fd, r + 4, 8)) exit(3);
    }
    return bench_now() - t;
}

static void pair_many(const char *row, bench_fn a, bench_fn b) {
    long na = bench_calibrate(a, 0.005), nb = b ? bench_calibrate(b, 0.005) : 0;
    double ta[REPS], tb[REPS], r[REPS];
    for (int i = 0; i < REPS; i++) {
        ta[i] = a(na) / (double)na * 1e9;
        tb[i] = b ? b(nb) / (double)nb * 1e9 : 0;
        r[i] = b ? ta[i] / tb[i] : 0;
    }
    if (b)
        printf("%s\tns/roundtrip\t%.1f\t%.1f\t%.3f\n", row, bench_median(ta, REPS),
               bench_median(tb, REPS), bench_median(r, REPS));
    else
        printf("%s\tns/roundtrip\t%.1f\tnan\tnan\n", row, bench_median(ta, REPS));
    fflush(stdout);
}

/* ns per task of a map of n tiny tasks */
static double map_ns(conc_executor_t *ex, size_t n, size_t chunk) {
    conc_bytes_t *args = malloc(n * sizeof *args);
    conc_future_t **fs = malloc(n * sizeof *fs);
    static const char x[8] = "12345678";
    for (size_t i = 0; i < n; i++) args[i] = (conc_bytes_t){(void *)x, sizeof x};
    double t = bench_now();
    if (conc_executor_map(ex, tiny, args, n, chunk, fs) != 0) exit(4);
    for (size_t i = 0; i < n; i++) {
        if (conc_future_wait(fs[i], -1) != 0 || conc_future_result(fs[i], NULL) != 0) exit(5);
    }
    t = bench_now() - t;
    for (size_t i = 0; i < n; i++) conc_future_release(fs[i]);
    free(args);
    free(fs);
    return t / (double)n * 1e9;
}

static void map_row(const char *row, conc_executor_t *ex, size_t chunk) {
    double v[7];
    /* warm: the first maps of this size fault in the memory of their futures and lists, each
     * page a microsecond or more on a VM (bench/executor.py warms CPython the same way) */
    map_ns(ex, MAPN, chunk);
    map_ns(ex, MAPN, chunk);
    for (int i = 0; i < 7; i++) v[i] = map_ns(ex, MAPN, chunk);
    printf("%s\tns/task\t%.1f\tnan\tnan\n", row, bench_median(v, 7));
    fflush(stdout);
}

static void *nothing(void *arg) {
    return arg;
}

static long to_thread_n;
static double to_thread_t;

static void *to_thread_main(void *arg) {
    (void)arg;
    conc_to_thread(nothing, NULL, NULL); /* warm: the default pool exists */
    double t = bench_now();
    for (long i = 0; i < to_thread_n; i++)
        if (conc_to_thread(nothing, NULL, NULL) != 0) exit(8);
    to_thread_t = bench_now() - t;
    return NULL;
}

static double to_thread_roundtrips(long n) {
    to_thread_n = n;
    if (conc_run(to_thread_main, NULL, NULL) != 0) exit(9);
    return to_thread_t;
}

enum { SLICES = 64, TOP = 1000000, PRIME_REPS = 7 };

static int count_primes(int lo, int hi) {
    int count = 0;
    for (int n = lo < 2 ? 2 : lo; n < hi; n++) {
        int p = 1;
        for (int d = 2; d * d <= n; d++)
            if (n % d == 0) {
                p = 0;
                break;
            }
        count += p;
    }
    return count;
}

/* One CPU-bound map of the slices on ex. */
static double primes_map(conc_executor_t *ex) {
    int bounds[SLICES][2];
    conc_bytes_t args[SLICES];
    conc_future_t *fs[SLICES];
    for (int i = 0; i < SLICES; i++) {
        bounds[i][0] = TOP / SLICES * i;
        bounds[i][1] = TOP / SLICES * (i + 1);
        args[i] = (conc_bytes_t){bounds[i], sizeof bounds[i]};
    }
    double t = bench_now();
    if (conc_executor_map(ex, primes, args, SLICES, 1, fs) != 0) exit(7);
    for (int i = 0; i < SLICES; i++) {
        conc_future_wait(fs[i], -1);
        conc_future_release(fs[i]);
    }
    return bench_now() - t;
}

/* The floor: the same slices over n forked processes that take the next slice from a shared
 * counter - no pool, no messages. */
static double primes_raw(int n) { /* n <= 2 */
    static int *next;
    if (!next) next = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *next = 0;
    pid_t pids[2];
    double t = bench_now();
    for (int k = 0; k < n; k++) {
        if ((pids[k] = fork()) < 0) exit(10);
        if (pids[k] == 0) {
            volatile int sink = 0;
            int i;
            while ((i = __atomic_fetch_add(next, 1, __ATOMIC_SEQ_CST)) < SLICES)
                sink += count_primes(TOP / SLICES * i, TOP / SLICES * (i + 1));
            _exit(0);
        }
    }
    /* these children only: the pools' workers are children of this process too */
    for (int k = 0; k < n; k++) waitpid(pids[k], NULL, 0);
    return bench_now() - t;
}

/* The speed-up from 1 to 2 workers, and the raw floor's: best of PRIME_REPS each, the four kinds
 * of run interleaved so that the machine's drift (the host's other guests) touches them alike. */
static void primes_scaling(void) {
    conc_executor_t *one, *two;
    conc_pool_opts_t o = {.method = CONC_START_FORK};
    if (conc_process_pool_new(&one, 1, &o) != 0 || conc_process_pool_new(&two, 2, &o) != 0) exit(6);
    double b1 = 1e9, b2 = 1e9, r1 = 1e9, r2 = 1e9;
    for (int rep = 0; rep < PRIME_REPS; rep++) {
        b1 = fmin(b1, primes_map(one));
        b2 = fmin(b2, primes_map(two));
        r1 = fmin(r1, primes_raw(1));
        r2 = fmin(r2, primes_raw(2));
    }
    conc_executor_free(one);
    conc_executor_free(two);
    printf("executor_primes_scaling\tx\t%.2f\t%.2f\t%.3f\n", b1 / b2, r1 / r2,
           (b1 / b2) / (r1 / r2));
    fflush(stdout);
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    const char *only = argc > 1 ? argv[1] : NULL;
#define WANT(name) (!only || !strcmp(only, name))
    if (WANT("executor_thread_roundtrip")) {
        bench_pin(0);
        conc_thread_pool_new(&ex_now, 1);
        pair_many("executor_thread_roundtrip", roundtrips, NULL);
        conc_executor_free(ex_now);
    }
    if (WANT("executor_process_roundtrip")) {
        bench_pin(0);
        raw_start();
        conc_pool_opts_t o = {.method = CONC_START_FORK, .initializer = "pin1"};
        conc_process_pool_new(&ex_now, 1, &o);
        pair_many("executor_process_roundtrip", roundtrips, raw_roundtrips);
        conc_executor_free(ex_now);
        close(raw_fd);
        waitpid(raw_child, NULL, 0);
    }
    if (WANT("executor_to_thread_roundtrip")) {
        bench_pin(0);
        pair_many("executor_to_thread_roundtrip", to_thread_roundtrips, NULL);
    }
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < 2; i++) CPU_SET(i, &all);
    sched_setaffinity(0, sizeof all, &all);
    conc_executor_t *ex;
    if (WANT("executor_thread_map")) {
        conc_thread_pool_new(&ex, 2);
        map_row("executor_thread_map", ex, 1);
        conc_executor_free(ex);
    }
    if (WANT("executor_process_map_1") || WANT("executor_process_map_64")) {
        conc_process_pool_new(&ex, 2, &(conc_pool_opts_t){.method = CONC_START_FORK});
        if (WANT("executor_process_map_1")) map_row("executor_process_map_1", ex, 1);
        if (WANT("executor_process_map_64")) map_row("executor_process_map_64", ex, 64);
        conc_executor_free(ex);
    }
    if (WANT("executor_primes_scaling")) primes_scaling();
    return 0;
}
