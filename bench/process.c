/* Process start + join, per start method, against its raw floor (docs/BENCHMARKS.md).
 *
 * Rows (tab-separated like bench/sync.c: row, unit, conc ns, floor ns, median ratio conc/floor):
 *   process_fork_start_join        conc fork            vs fork() + waitpid()
 *   process_spawn_start_join       conc spawn           vs posix_spawn of this binary + waitpid()
 *   process_forkserver_start_join  conc forkserver      vs fork() + waitpid() + one round trip
 *                                                          over a socketpair to another process
 * Each child does nothing (returns 0). A process start costs a millisecond, not nanoseconds, so the
 * harness's calibration (>= 1000 operations a sample) would keep two cores busy for minutes; here
 * a sample is a fixed small batch, conc and floor alternate, and the ratio is the median of the
 * per-repetition ratios, as in bench_pair. The forkserver is started once before timing, as
 * CPython's is by its first start.
 *
 * The program is also its own children: main calls conc_init first (a spawned conc child or the
 * forkserver takes over there), and the raw posix_spawn floor runs it with BENCH_RAW_CHILD set,
 * which exits at once - the cheapest a fresh exec of this binary can be. */
#include "harness.h"
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"

extern char **environ;

static int noop(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    return 0;
}
CONC_TARGET(noop)

static conc_start_method_t method;

static double c_start_join(long n) {
    conc_process_opts_t o = {.method = method};
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_process_t *p;
        if (conc_process_start(&p, "noop", NULL, 0, &o) != 0) exit(2);
        if (conc_process_join(p, CONC_FOREVER) != 0) exit(3);
        conc_process_free(p);
    }
    return bench_now() - t;
}

static double raw_fork(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0 || waitpid(pid, NULL, 0) != pid) exit(4);
    }
    return bench_now() - t;
}

static double raw_spawn(long n) {
    char *argv[] = {"process-bench-child", NULL};
    char *envp[] = {"BENCH_RAW_CHILD=1", NULL};
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        pid_t pid;
        if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp) != 0) exit(5);
        if (waitpid(pid, NULL, 0) != pid) exit(6);
    }
    return bench_now() - t;
}

/* fork + waitpid, plus one round trip to a process that echoes a byte. */
static int echo_fd = -1;
static double raw_fork_rt(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        char c = 'x';
        if (write(echo_fd, &c, 1) != 1 || read(echo_fd, &c, 1) != 1) exit(7);
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0 || waitpid(pid, NULL, 0) != pid) exit(4);
    }
    return bench_now() - t;
}

static pid_t start_echo(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) exit(8);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        char c;
        while (read(sv[1], &c, 1) == 1)
            if (write(sv[1], &c, 1) != 1) break;
        _exit(0);
    }
    close(sv[1]);
    echo_fd = sv[0];
    return pid;
}

static void row(const char *name, bench_fn a, bench_fn b, long n) {
    double ta[BENCH_REPS], tb[BENCH_REPS], r[BENCH_REPS];
    a(2); /* warm up: page in, start the forkserver */
    b(2);
    for (int i = 0; i < BENCH_REPS; i++) {
        ta[i] = a(n) / (double)n * 1e9;
        tb[i] = b(n) / (double)n * 1e9;
        r[i] = ta[i] / tb[i];
    }
    double ratio = bench_median(r, BENCH_REPS);
    printf("%s\tns\t%.1f\t%.1f\t%.3f\n", name, bench_median(ta, BENCH_REPS),
           bench_median(tb, BENCH_REPS), ratio);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (getenv("BENCH_RAW_CHILD")) _exit(0);
    if (conc_init(argc, argv) != 0) return 1;
    const char *only = argc > 1 ? argv[1] : NULL;
    bench_pin(0);
    if (!only || strcmp(only, "process_fork_start_join") == 0) {
        method = CONC_START_FORK;
        row("process_fork_start_join", c_start_join, raw_fork, 40);
    }
    if (!only || strcmp(only, "process_spawn_start_join") == 0) {
        method = CONC_START_SPAWN;
        row("process_spawn_start_join", c_start_join, raw_spawn, 20);
    }
    if (!only || strcmp(only, "process_forkserver_start_join") == 0) {
        method = CONC_START_FORKSERVER;
        pid_t echo = start_echo();
        row("process_forkserver_start_join", c_start_join, raw_fork_rt, 40);
        close(echo_fd);
        waitpid(echo, NULL, 0);
    }
    return 0;
}
