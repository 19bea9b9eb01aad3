/* The GIL's costs and the convoy effect, one run (docs/gil.md; bench/gil.py is the CPython side).
 *
 * Rows: the tick's cost when nobody waits; a hand-over between two threads (yield ping-pong, the
 * threads pinned to CPUs 0 and 1: cross-vCPU wake-ups on these VMs vary with placement); two
 * CPU-bound threads sharing the GIL against one thread doing the same work (the price of the
 * switching itself); and the convoy: 1-byte round trips per second of an I/O thread, alone and
 * beside CPU-bound threads, with and without io_priority.
 *
 * Convoy layout (the same in bench/gil.py): the echo peer is a separate process forked before any
 * thread starts, so it never needs the GIL; the I/O thread is the main thread, it sends one byte
 * on a socketpair and reads the echo, releasing the GIL around each call as CPython's socket
 * methods do, and runs 20 ticks of "interpreted code" per round trip; CPU-bound threads tick in a
 * loop. Each case runs REPS times for DURATION seconds, cases interleaved; medians are printed. */
#include "harness.h"
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"

#define DURATION 1.0
#define REPS     3

static conc_gil_t gil;
static volatile unsigned long sink;

/* a unit of "interpreted code": one tick and a little arithmetic */
static inline unsigned long work(conc_gil_t *g, long n, unsigned long x) {
    for (long i = 0; i < n; i++) {
        conc_gil_tick(g);
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    }
    return x;
}

/* ---- tick, acquire/release, uncontended ---- */
static double tick_1(long n) {
    conc_gil_acquire(&gil);
    double t = bench_now();
    for (long i = 0; i < n; i++) conc_gil_tick(&gil);
    t = bench_now() - t;
    conc_gil_release(&gil);
    return t;
}
static double acq_rel_1(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_gil_acquire(&gil);
        conc_gil_release(&gil);
    }
    return bench_now() - t;
}
static double allow_1(long n) {
    conc_gil_acquire(&gil);
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        CONC_GIL_BEGIN_ALLOW_THREADS(&gil)
        CONC_GIL_END_ALLOW_THREADS(&gil)
    }
    t = bench_now() - t;
    conc_gil_release(&gil);
    return t;
}

static double run_row(bench_fn fn) {
    long n = bench_calibrate(fn, 0.04);
    double v[BENCH_REPS];
    for (int i = 0; i < BENCH_REPS; i++) v[i] = fn(n) / (double)n * 1e9;
    return bench_median(v, BENCH_REPS);
}

/* ---- yield ping-pong: the time from one thread's conc_gil_yield to the other thread running,
 * per hand-over; the median and p99 of NPP samples (a mean would mostly measure the times the
 * OS preempted one of the threads) ---- */
#define NPP 20000
static int pp_ready, pp_turn;
static long pp_n;                /* samples taken, under the GIL */
static double pp_t, pp_lat[NPP]; /* under the GIL */
static void *pp_thread(void *arg) {
    int me = (int)(long)arg + 1;
    bench_pin(me - 1);
    __atomic_add_fetch(&pp_ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&pp_ready, __ATOMIC_ACQUIRE) < 2) {
    }
    conc_gil_acquire(&gil);
    while (pp_n < NPP) {
        pp_t = bench_now();
        conc_gil_yield(&gil);
        if (pp_turn != me) { /* the other thread yielded to us: a hand-over */
            double now = bench_now();
            if (pp_turn) pp_lat[pp_n++] = now - pp_t;
            pp_turn = me;
        }
    }
    conc_gil_release(&gil);
    return NULL;
}
static void pingpong(double *p50, double *p99) {
    pthread_t th;
    conc_gil_init(&gil, NULL);
    pp_ready = pp_turn = 0;
    pp_n = 0;
    pthread_create(&th, NULL, pp_thread, (void *)1L);
    pp_thread((void *)0L);
    pthread_join(th, NULL);
    conc_gil_destroy(&gil);
    qsort(pp_lat, NPP, sizeof pp_lat[0], bench_cmp);
    *p50 = pp_lat[NPP / 2] * 1e9;
    *p99 = pp_lat[NPP * 99 / 100] * 1e9;
}

/* ---- 2 CPU-bound threads vs 1 ---- */
static void *cpu_half(void *arg) {
    long n = *(long *)arg;
    conc_gil_acquire(&gil);
    unsigned long x = work(&gil, n, 1);
    conc_gil_release(&gil);
    sink = x;
    return NULL;
}
static double threads_work(int nthreads, long total, const conc_gil_opts_t *o) {
    conc_gil_init(&gil, o);
    long part = total / nthreads;
    pthread_t th[2];
    double t = bench_now();
    for (int i = 1; i < nthreads; i++) pthread_create(&th[i], NULL, cpu_half, &part);
    cpu_half(&part);
    for (int i = 1; i < nthreads; i++) pthread_join(th[i], NULL);
    t = bench_now() - t;
    conc_gil_destroy(&gil);
    return t;
}
static double overhead(const conc_gil_opts_t *o, double secs) {
    long total = 1;
    while (threads_work(1, total, o) < 0.05) total *= 2;
    total = (long)((double)total * secs / threads_work(1, total, o));
    double r[5];
    for (int i = 0; i < 5; i++) {
        double one = threads_work(1, total, o);
        double two = threads_work(2, total, o);
        r[i] = two / one;
    }
    return bench_median(r, 5);
}

/* ---- convoy ---- */
static int echo_fd;
static int stop;  /* under the GIL */
static long spun; /* CPU-bound threads' ticks, under the GIL */

static void *cpu_loop(void *arg) {
    (void)arg;
    conc_gil_acquire(&gil);
    unsigned long x = 1;
    while (!stop) {
        x = work(&gil, 1024, x);
        spun += 1024;
    }
    conc_gil_release(&gil);
    sink = x;
    return NULL;
}

/* A CPU-bound process: takes a CPU as a CPU-bound thread does, but shares no GIL. */
static pid_t cpu_process(void) {
    pid_t p = fork();
    if (p == 0) {
        conc_gil_t own;
        conc_gil_init(&own, NULL);
        conc_gil_acquire(&own);
        for (unsigned long x = 1;;) x = work(&own, 1024, x);
    }
    return p;
}

struct result {
    double rate, wait_mean, wait_p99, mticks; /* round trips/s; the I/O thread's re-acquire */
};

#define MAXW 400000
static double waits[MAXW];

static struct result convoy(int nthreads, int nprocs, bool io_priority) {
    conc_gil_opts_t o = {.io_priority = io_priority};
    conc_gil_init(&gil, &o);
    stop = 0;
    spun = 0;
    pthread_t th[2];
    pid_t pr[2];
    for (int i = 0; i < nprocs; i++) pr[i] = cpu_process();
    for (int i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, cpu_loop, NULL);
    conc_gil_acquire(&gil);
    long trips = 0, nw = 0;
    unsigned long x = 1;
    double t0 = bench_now(), t, w, sum = 0;
    do {
        char c = 'x';
        ssize_t k;
        CONC_GIL_BEGIN_ALLOW_THREADS(&gil)
        k = write(echo_fd, &c, 1);
        w = bench_now();
        CONC_GIL_END_ALLOW_THREADS(&gil)
        w = bench_now() - w;
        sum += w;
        if (nw < MAXW) waits[nw++] = w;
        CONC_GIL_BEGIN_ALLOW_THREADS(&gil)
        k += read(echo_fd, &c, 1);
        w = bench_now();
        CONC_GIL_END_ALLOW_THREADS(&gil)
        w = bench_now() - w;
        sum += w;
        if (nw < MAXW) waits[nw++] = w;
        if (k != 2) abort();
        x = work(&gil, 20, x);
        trips++;
    } while ((t = bench_now() - t0) < DURATION);
    stop = 1;
    long ticks = spun;
    conc_gil_release(&gil);
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < nprocs; i++) {
        kill(pr[i], SIGKILL);
        waitpid(pr[i], NULL, 0);
    }
    conc_gil_destroy(&gil);
    sink = x;
    qsort(waits, (size_t)nw, sizeof waits[0], bench_cmp);
    return (struct result){(double)trips / t, sum / (double)(2 * trips), waits[nw * 99 / 100],
                           (double)ticks / t / 1e6};
}

static void echo_server(int fd) {
    char c;
    while (read(fd, &c, 1) == 1)
        if (write(fd, &c, 1) != 1) break;
    _exit(0);
}

static double load1(void) {
    double l[1] = {0};
    return getloadavg(l, 1) == 1 ? l[0] : -1;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 1;
    pid_t echo = fork(); /* before any thread: the peer never needs the GIL */
    if (echo == 0) {
        close(sv[0]);
        echo_server(sv[1]);
    }
    close(sv[1]);
    echo_fd = sv[0];

    printf("conc GIL benchmark: %d CPUs, load average %.2f at start\n",
           (int)sysconf(_SC_NPROCESSORS_ONLN), load1());
    conc_gil_opts_t ci = {.check_interval = 100};
    bench_pin(0);
    conc_gil_init(&gil, NULL);
    printf("%-58s %8.2f ns\n", "conc_gil_tick, uncontended", run_row(tick_1));
    conc_gil_destroy(&gil);
    conc_gil_init(&gil, &ci);
    printf("%-58s %8.2f ns\n", "conc_gil_tick, uncontended, check_interval=100", run_row(tick_1));
    conc_gil_destroy(&gil);
    conc_gil_init(&gil, NULL);
    printf("%-58s %8.2f ns\n", "acquire + release, uncontended", run_row(acq_rel_1));
    printf("%-58s %8.2f ns\n", "BEGIN + END_ALLOW_THREADS, uncontended", run_row(allow_1));
    conc_gil_destroy(&gil);
    double p50, p99;
    pingpong(&p50, &p99);
    printf("%-58s %8.0f ns (p99 %.0f ns)\n",
           "hand-over, yield ping-pong (threads pinned to CPUs 0, 1)", p50, p99);
    fflush(stdout);

    /* unpinned from here: the OS places CPU-bound threads as it would in a real program */
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < CPU_SETSIZE && i < sysconf(_SC_NPROCESSORS_ONLN); i++) CPU_SET(i, &all);
    sched_setaffinity(0, sizeof all, &all);
    printf("%-58s %8.3fx (target <= 1.02)\n", "2 CPU-bound threads vs 1, same total work",
           overhead(NULL, 0.5));
    fflush(stdout);

    struct {
        const char *label;
        int threads, procs;
        bool io;
    } cases[] = {
        {"I/O thread alone", 0, 0, false},
        {"  + 1 CPU-bound process (shares the CPUs, not the GIL)", 0, 1, false},
        {"  + 1 CPU-bound thread", 1, 0, false},
        {"  + 1 CPU-bound thread, io_priority", 1, 0, true},
        {"  + 2 CPU-bound processes", 0, 2, false},
        {"  + 2 CPU-bound threads", 2, 0, false},
        {"  + 2 CPU-bound threads, io_priority", 2, 0, true},
    };
    enum { NC = sizeof cases / sizeof cases[0] };
    struct result res[NC][REPS];
    for (int rep = 0; rep < REPS; rep++)
        for (int c = 0; c < NC; c++)
            res[c][rep] = convoy(cases[c].threads, cases[c].procs, cases[c].io);
    printf("convoy: 1-byte round trips/s to an echo process, median of %d x %.0f s; the I/O "
           "thread's\nwait to re-acquire the GIL after each call; CPU-bound threads' progress\n",
           REPS, DURATION);
    double alone = 0;
    for (int c = 0; c < NC; c++) {
        double v[4][REPS];
        for (int r = 0; r < REPS; r++) {
            v[0][r] = res[c][r].rate;
            v[1][r] = res[c][r].wait_mean;
            v[2][r] = res[c][r].wait_p99;
            v[3][r] = res[c][r].mticks;
        }
        double rate = bench_median(v[0], REPS);
        if (c == 0) alone = rate;
        printf("  %-56s %7.0f /s %5.2fx  wait mean %7.1f us p99 %7.1f us", cases[c].label, rate,
               rate / alone, bench_median(v[1], REPS) * 1e6, bench_median(v[2], REPS) * 1e6);
        if (cases[c].threads) printf("  %5.0f Mticks/s", bench_median(v[3], REPS));
        printf("\n");
    }
    printf("load average %.2f at the end\n", load1());
    shutdown(echo_fd, SHUT_RDWR);
    waitpid(echo, NULL, 0);
    return 0;
}
