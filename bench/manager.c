/* Managers: a proxy call's round trip, a 10,000-item batch, and 8 client processes at once
 * (bench/manager.py: CPython's Manager().dict() doing the same).
 *
 * Output: one line per row, tab-separated: row, unit, conc figure, baseline figure, ratio.
 * - manager_dict_call: one dict.set or dict.get through a proxy (half a set+get pair), server
 *   pinned to CPU 1 and client to CPU 0 (cross-CPU wake-ups swing by several times on these VMs
 *   when left to the scheduler). Baseline: a raw 64-byte round trip over a unix socketpair to an
 *   echo process on the other CPU - the floor any out-of-process call pays.
 * - manager_update_10k: dict.update of 10,000 16-byte pairs in one call, then dict.len; baseline:
 *   10,000 single dict.set calls.
 * - manager_8_clients: total calls per second of 8 forked client processes doing dict.set/get
 *   against one server (unpinned), in thousands; baseline: the same with one client. */
#include "harness.h"
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"

static conc_manager_t *m;
static conc_mdict_t *d;

static void pin(int cpu) {
    /* 0: leave placement to the scheduler; "same": server and client share CPU 0 */
    const char *e = getenv("CONC_BENCH_PIN");
    if (e && !strcmp(e, "0")) return;
    if (e && !strcmp(e, "same")) cpu = 0;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &s);
    sched_setaffinity(0, sizeof s, &s);
}

static double calls(long n) {
    double t0 = bench_now();
    for (long i = 0; i < n; i += 2) {
        char k[8] = "key", v[16] = "some value here";
        void *out;
        size_t len;
        conc_mdict_set(d, k, 3, v, 16);
        conc_mdict_get(d, k, 3, &out, &len);
        free(out);
    }
    return bench_now() - t0;
}

static int echo_fd = -1;
static double raw_roundtrip(long n) {
    char buf[64] = {0};
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        if (send(echo_fd, buf, sizeof buf, 0) != sizeof buf) abort();
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t r = recv(echo_fd, buf + got, sizeof buf - got, 0);
            if (r <= 0) abort();
            got += (size_t)r;
        }
    }
    return bench_now() - t0;
}

static pid_t start_echo(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t pid = fork();
    if (pid == 0) {
        pin(1);
        close(sv[0]);
        char buf[64];
        ssize_t r;
        while ((r = recv(sv[1], buf, sizeof buf, 0)) > 0) send(sv[1], buf, (size_t)r, 0);
        _exit(0);
    }
    close(sv[1]);
    echo_fd = sv[0];
    return pid;
}

static double median_of(bench_fn f, long n, int reps) {
    double t[BENCH_REPS];
    for (int i = 0; i < reps; i++) t[i] = f(n) / (double)n;
    return bench_median(t, reps);
}

static conc_bytes_t *kv;
static double update(long n) {
    (void)n;
    double t0 = bench_now();
    conc_mdict_update(d, kv, 10000);
    size_t len;
    conc_mdict_len(d, &len);
    return bench_now() - t0;
}

static double singles(long n) {
    (void)n;
    double t0 = bench_now();
    for (int i = 0; i < 10000; i++)
        conc_mdict_set(d, kv[2 * i].data, kv[2 * i].len, kv[2 * i + 1].data, kv[2 * i + 1].len);
    return bench_now() - t0;
}

/* k forked clients, each doing `per` calls on its own connection; calls per second overall. */
static double clients(int k, long per) {
    int go[2];
    if (pipe(go) < 0) abort();
    pid_t pids[8];
    for (int c = 0; c < k; c++) {
        pids[c] = fork();
        if (pids[c] == 0) {
            close(go[1]);
            size_t klen;
            const void *key = conc_manager_authkey(m, &klen);
            conc_manager_t *mc;
            conc_mdict_t *dc;
            if (conc_manager_connect(&mc, conc_manager_address(m), key, klen) ||
                conc_mdict_open(mc, "bench", &dc))
                _exit(1);
            char b;
            if (read(go[0], &b, 1) < 0) _exit(1);
            d = dc;
            calls(per);
            _exit(0);
        }
    }
    close(go[0]);
    usleep(200000); /* let every client connect; the timing starts at the go signal */
    double t0 = bench_now();
    close(go[1]);
    for (int c = 0; c < k; c++) waitpid(pids[c], NULL, 0);
    return (double)k * (double)per / (bench_now() - t0);
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    pin(1);
    conc_manager_opts_t o = {.method = CONC_START_FORK};
    if (conc_manager_start(&m, &o) != 0) return 1;
    pid_t echo = start_echo();
    pin(0);
    conc_mdict_open(m, "bench", &d);
    long n = bench_calibrate(calls, 0.05);
    double a = median_of(calls, n, BENCH_REPS) * 1e9;
    long nr = bench_calibrate(raw_roundtrip, 0.05);
    double b = median_of(raw_roundtrip, nr, BENCH_REPS) * 1e9;
    printf("manager_dict_call\tns\t%.0f\t%.0f\t%.2f\n", a, b, a / b);
    close(echo_fd);
    waitpid(echo, NULL, 0);

    kv = malloc(20000 * sizeof *kv);
    char *store = malloc(20000 * 16);
    for (int i = 0; i < 20000; i++) {
        snprintf(store + 16 * i, 16, "%s%011d", i % 2 ? "v" : "k", i / 2);
        kv[i] = (conc_bytes_t){store + 16 * i, 16};
    }
    a = median_of(update, 1, 5) * 1e3;
    b = median_of(singles, 1, 3) * 1e3;
    printf("manager_update_10k\tms\t%.2f\t%.2f\t%.3f\n", a, b, a / b);

    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < (int)sysconf(_SC_NPROCESSORS_ONLN); i++) CPU_SET(i, &all);
    sched_setaffinity(0, sizeof all, &all);
    double c8 = clients(8, 20000) / 1e3, c1 = clients(1, 40000) / 1e3;
    printf("manager_8_clients\tkcalls/s\t%.1f\t%.1f\t%.2f\n", c8, c1, c8 / c1);
    conc_mproxy_close(d);
    conc_manager_free(m);
    free(kv);
    free(store);
    return 0;
}
