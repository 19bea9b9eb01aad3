/* conc's Queue vs a raw pipe, row by row (bench/mp_queue.py: CPython's multiprocessing.Queue).
 *
 * Output: one line per row, tab-separated: row, unit, conc ns, raw ns, median ratio conc/raw.
 * - queue_throughput_64b: a producer (the parent, CPU 0) streams 64-byte messages to a consumer
 *   process (CPU 1); one sample is n puts, then a marker message the consumer acknowledges on a
 *   second queue, so the time covers every message taken out. The consumer gets each message as a
 *   malloc'd buffer, as the API has it. raw: the same over a pipe, one 64-byte write and one
 *   64-byte read per message (writes under PIPE_BUF are atomic, so no framing is needed), the
 *   acknowledgement on a second pipe.
 * - queue_throughput_64b_2to2: two producer and two consumer processes on one queue (producers on
 *   CPU 0, consumers on CPU 1); the parent only starts and collects a sample. raw: one pipe with
 *   two writers and two readers.
 * - queue_roundtrip_64b: 64 bytes to a child (CPU 1) over one queue and back over another. raw:
 *   two pipes. */
#include "harness.h"
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"

enum { MSG = 64, MARK = 1, QUIT = 2, REPS = 9 };

static pid_t kids[16];
static int nkids;

static void spawn_kid(void (*body)(int), int cpu) {
    pid_t pid = fork();
    if (pid < 0) exit(1);
    if (pid == 0) {
        bench_pin(cpu);
        body(cpu);
        _exit(0);
    }
    kids[nkids++] = pid;
}

static void reap_kids(void) {
    for (int i = 0; i < nkids; i++) waitpid(kids[i], NULL, 0);
    nkids = 0;
}

/* ---- conc ---- */
static conc_queue_t *data, *ack, *go, *done;

/* Take messages; acknowledge each marker. */
static void c_consumer(int cpu) {
    (void)cpu;
    for (;;) {
        void *buf;
        size_t len;
        if (conc_queue_get(data, &buf, &len, CONC_FOREVER) != 0) return;
        free(buf);
        if (len == QUIT) return;
        if (len == MARK && conc_queue_put(ack, "a", 1, CONC_FOREVER) != 0) return;
    }
}

/* Wait for a count, put that many messages, report. */
static void c_producer(int cpu) {
    (void)cpu;
    unsigned char msg[MSG] = {1};
    for (;;) {
        void *buf;
        size_t len;
        long n;
        if (conc_queue_get(go, &buf, &len, CONC_FOREVER) != 0 || len != sizeof n) return;
        memcpy(&n, buf, sizeof n);
        free(buf);
        if (n < 0) return;
        for (long i = 0; i < n; i++)
            if (conc_queue_put(data, msg, MSG, CONC_FOREVER) != 0) return;
        if (conc_queue_put(done, "d", 1, CONC_FOREVER) != 0) return;
    }
}

static void c_echo(int cpu) {
    (void)cpu;
    for (;;) {
        void *buf;
        size_t len;
        if (conc_queue_get(data, &buf, &len, CONC_FOREVER) != 0) return;
        if (len == QUIT) {
            free(buf);
            return;
        }
        int r = conc_queue_put(ack, buf, len, CONC_FOREVER);
        free(buf);
        if (r != 0) return;
    }
}

static void c_take(conc_queue_t *q) {
    void *buf;
    size_t len;
    if (conc_queue_get(q, &buf, &len, CONC_FOREVER) != 0) exit(1);
    free(buf);
}

static double c_stream(long n) {
    unsigned char msg[MSG] = {1};
    double t = bench_now();
    for (long i = 0; i < n; i++) conc_queue_put(data, msg, MSG, CONC_FOREVER);
    conc_queue_put(data, "m", MARK, CONC_FOREVER);
    c_take(ack);
    return bench_now() - t;
}

static double c_stream_2to2(long n) {
    long half = n / 2 ? n / 2 : 1;
    double t = bench_now();
    for (int i = 0; i < 2; i++) conc_queue_put(go, &half, sizeof half, CONC_FOREVER);
    for (int i = 0; i < 2; i++) c_take(done);
    for (int i = 0; i < 2; i++) conc_queue_put(data, "m", MARK, CONC_FOREVER);
    for (int i = 0; i < 2; i++) c_take(ack);
    return (bench_now() - t) * (double)n / (double)(2 * half);
}

static double c_roundtrip(long n) {
    unsigned char msg[MSG] = {1};
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_queue_put(data, msg, MSG, CONC_FOREVER);
        c_take(ack);
    }
    return bench_now() - t;
}

/* ---- raw pipes ---- */
static int pdata[2], pack[2], pgo[2], pdone[2];

static bool read_exact(int fd, void *p, size_t n) {
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return false;
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return true;
}

static void r_consumer(int cpu) {
    (void)cpu;
    unsigned char buf[MSG];
    while (read_exact(pdata[0], buf, MSG) && buf[0] != 0xfe)
        if (buf[0] == 0xff && write(pack[1], "a", 1) != 1) return;
}

static void r_producer(int cpu) {
    (void)cpu;
    unsigned char msg[MSG] = {1};
    long n;
    while (read_exact(pgo[0], &n, sizeof n) && n >= 0) {
        for (long i = 0; i < n; i++)
            if (write(pdata[1], msg, MSG) != MSG) return;
        if (write(pdone[1], "d", 1) != 1) return;
    }
}

static void r_echo(int cpu) {
    (void)cpu;
    unsigned char buf[MSG];
    while (read_exact(pdata[0], buf, MSG) && buf[0] != 0xfe)
        if (write(pack[1], buf, MSG) != MSG) return;
}

static void r_marker(void) {
    unsigned char m[MSG] = {0xff};
    if (write(pdata[1], m, MSG) != MSG) exit(1);
}

static double r_stream(long n) {
    unsigned char msg[MSG] = {1}, c;
    double t = bench_now();
    for (long i = 0; i < n; i++)
        if (write(pdata[1], msg, MSG) != MSG) exit(1);
    r_marker();
    if (!read_exact(pack[0], &c, 1)) exit(1);
    return bench_now() - t;
}

static double r_stream_2to2(long n) {
    long half = n / 2 ? n / 2 : 1;
    unsigned char c;
    double t = bench_now();
    for (int i = 0; i < 2; i++)
        if (write(pgo[1], &half, sizeof half) != sizeof half) exit(1);
    for (int i = 0; i < 2; i++)
        if (!read_exact(pdone[0], &c, 1)) exit(1);
    for (int i = 0; i < 2; i++) r_marker();
    for (int i = 0; i < 2; i++)
        if (!read_exact(pack[0], &c, 1)) exit(1);
    return (bench_now() - t) * (double)n / (double)(2 * half);
}

static double r_roundtrip(long n) {
    unsigned char msg[MSG] = {1};
    double t = bench_now();
    for (long i = 0; i < n; i++)
        if (write(pdata[1], msg, MSG) != MSG || !read_exact(pack[0], msg, MSG)) exit(1);
    return bench_now() - t;
}

/* ---- rows ---- */
static void pipes(void) {
    if (pipe(pdata) || pipe(pack) || pipe(pgo) || pipe(pdone)) exit(1);
}

static void close_pipes(void) {
    int *all[] = {pdata, pack, pgo, pdone};
    for (int i = 0; i < 4; i++) close(all[i][0]), close(all[i][1]);
}

static void queues(void) {
    if (conc_queue_new(&data, NULL) || conc_queue_new(&ack, NULL) || conc_queue_new(&go, NULL) ||
        conc_queue_new(&done, NULL))
        exit(1);
}

static void free_queues(void) {
    conc_queue_free(data);
    conc_queue_free(ack);
    conc_queue_free(go);
    conc_queue_free(done);
}

/* Both sides' children live for the whole row (asleep while the other side runs) and are told to
 * quit at its end: a child killed in a wait would leave its waiter count behind in the queue. */
static void quit_kids(void) {
    long stop = -1;
    unsigned char q[MSG] = {0xfe};
    for (int i = 0; i < 2; i++) {
        conc_queue_put(go, &stop, sizeof stop, CONC_FOREVER);
        conc_queue_put(data, "qq", QUIT, CONC_FOREVER);
        (void)!write(pgo[1], &stop, sizeof stop);
        (void)!write(pdata[1], q, MSG);
    }
    reap_kids();
}

static void row(const char *name, const char *unit, bench_fn c, bench_fn r) {
    long nc = bench_calibrate(c, 0.04), nr = bench_calibrate(r, 0.04);
    double tc[REPS], tr[REPS], ratio[REPS];
    for (int i = 0; i < REPS; i++) {
        tc[i] = c(nc) / (double)nc * 1e9;
        tr[i] = r(nr) / (double)nr * 1e9;
        ratio[i] = tc[i] / tr[i];
    }
    double m = bench_median(ratio, REPS);
    printf("%s\t%s\t%.1f\t%.1f\t%.3f\n", name, unit, bench_median(tc, REPS), bench_median(tr, REPS),
           m);
    fflush(stdout);
}

static void c_start_1to1(void) {
    spawn_kid(c_consumer, 1);
}
static void r_start_1to1(void) {
    spawn_kid(r_consumer, 1);
}
static void c_start_2to2(void) {
    spawn_kid(c_producer, 0), spawn_kid(c_producer, 0);
    spawn_kid(c_consumer, 1), spawn_kid(c_consumer, 1);
}
static void r_start_2to2(void) {
    spawn_kid(r_producer, 0), spawn_kid(r_producer, 0);
    spawn_kid(r_consumer, 1), spawn_kid(r_consumer, 1);
}
static void c_start_echo(void) {
    spawn_kid(c_echo, 1);
}
static void r_start_echo(void) {
    spawn_kid(r_echo, 1);
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    const char *only = argc > 1 ? argv[1] : NULL;
    bench_pin(0);
    signal(SIGPIPE, SIG_IGN);
    struct {
        const char *name, *unit;
        bench_fn c, r;
        void (*cs)(void), (*rs)(void);
    } rows[] = {
        {"queue_throughput_64b", "ns/msg", c_stream, r_stream, c_start_1to1, r_start_1to1},
        {"queue_throughput_64b_2to2", "ns/msg", c_stream_2to2, r_stream_2to2, c_start_2to2,
         r_start_2to2},
        {"queue_roundtrip_64b", "ns/roundtrip", c_roundtrip, r_roundtrip, c_start_echo,
         r_start_echo},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (only && strcmp(only, rows[i].name)) continue;
        queues();
        pipes();
        rows[i].cs();
        rows[i].rs();
        row(rows[i].name, rows[i].unit, rows[i].c, rows[i].r);
        quit_kids();
        free_queues();
        close_pipes();
    }
    return 0;
}
