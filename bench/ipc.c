/* conc's Pipe and SharedMemory vs the raw system calls, row by row (bench/ipc.py: CPython's).
 *
 * Output: one line per row, tab-separated: row, unit, conc ns, raw ns, median ratio conc/raw.
 * - pipe_roundtrip_64b: a 64-byte message to a child process and back. conc: conc_pipe, the child
 *   echoes with conc_conn_recv/send (a malloc'd message each time, as the API has it). raw: a
 *   socketpair with the same framing done by hand - one send of header+body, a recv of the
 *   4-byte header and one of the body - into a reused buffer. The parent runs on CPU 0, the child
 *   on CPU 1 (a wake-up across vCPUs costs tens of µs on these VMs, so unpinned figures swing with
 *   placement). The parent called conc_init, so its receives take the SIGINT-aware path: on
 *   x86_64 a blocking recv the SIGINT handler can cancel (base/intr_syscall.c), the raw loop's
 *   syscalls exactly; under TSan or elsewhere a ppoll with an eventfd for SIGINT first
 *   (base/fdwait.c), one syscall more per message than the raw blocking recv.
 * - pipe_roundtrip_64b_thread: the same with both conc sides in threads other than the main one,
 *   which SIGINT does not concern: a plain blocking recv, the raw loop's syscalls exactly.
 * - shm_lifecycle_4k: create a 4 KiB segment, attach it by name, close both, unlink. raw:
 *   shm_open/ftruncate/mmap, shm_open/fstat/mmap, munmap/close twice, shm_unlink. conc adds the
 *   resource tracker's two records and the inode check in unlink. Pinned to CPU 0. */
#include "harness.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"

enum { MSG = 64, REPS = 101 };

/* bench_pair with more repetitions of shorter samples: the round trip rows hinge on cross-CPU
 * wake-ups whose cost swings by several times from one moment to the next on these VMs, and only
 * many alternating samples give a stable median ratio. */
static void pair_many(const char *row, const char *unit, bench_fn a, bench_fn b) {
    long na = bench_calibrate(a, 0.005), nb = bench_calibrate(b, 0.005);
    double ta[REPS], tb[REPS], r[REPS];
    for (int i = 0; i < REPS; i++) {
        ta[i] = a(na) / (double)na * 1e9;
        tb[i] = b(nb) / (double)nb * 1e9;
        r[i] = ta[i] / tb[i];
    }
    double ratio = bench_median(r, REPS);
    printf("%s\t%s\t%.1f\t%.1f\t%.3f\n", row, unit, bench_median(ta, REPS), bench_median(tb, REPS),
           ratio);
    fflush(stdout);
}

/* ---- Pipe round trip ---- */
static conc_conn_t *c_end, *c_end_t; /* the _t child echoes in a second thread */
static int raw_fd = -1;
static pid_t c_child, c_child_t, raw_child;

static void c_echo(conc_conn_t *c) {
    for (;;) {
        void *buf;
        size_t len;
        if (conc_conn_recv(c, &buf, &len, CONC_FOREVER) != 0) _exit(0);
        int r = conc_conn_send(c, buf, len);
        free(buf);
        if (r != 0) _exit(0);
    }
}

static void *c_echo_main(void *arg) {
    bench_pin(1);
    c_echo(arg);
    return NULL;
}

static pid_t start_c_child(conc_conn_t **mine, bool in_thread) {
    conc_conn_t *a, *b;
    if (conc_pipe(&a, &b, true) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        bench_pin(1);
        conc_conn_close(a);
        if (in_thread) {
            pthread_t th;
            pthread_create(&th, NULL, c_echo_main, b);
            pthread_join(th, NULL);
        }
        c_echo(b);
    }
    conc_conn_close(b);
    *mine = a;
    return pid;
}

static bool read_exact(int fd, void *p, size_t n) {
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) return false;
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return true;
}

/* The hand-framed peer: 4-byte big-endian length, then the body. */
static bool raw_recv(int fd, unsigned char *buf, size_t cap, size_t *len) {
    unsigned char h[4];
    if (!read_exact(fd, h, 4)) return false;
    size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    if (n > cap || !read_exact(fd, buf, n)) return false;
    *len = n;
    return true;
}

static bool raw_send(int fd, const unsigned char *body, size_t n) {
    unsigned char m[4 + MSG];
    m[0] = (unsigned char)(n >> 24), m[1] = (unsigned char)(n >> 16);
    m[2] = (unsigned char)(n >> 8), m[3] = (unsigned char)n;
    memcpy(m + 4, body, n);
    return send(fd, m, 4 + n, MSG_NOSIGNAL) == (ssize_t)(4 + n);
}

static void raw_echo(int fd) {
    unsigned char buf[MSG];
    size_t len;
    while (raw_recv(fd, buf, sizeof buf, &len) && raw_send(fd, buf, len)) {
    }
    _exit(0);
}

static void start_children(void) {
    c_child = start_c_child(&c_end, false);
    c_child_t = start_c_child(&c_end_t, true);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) exit(1);
    raw_child = fork();
    if (raw_child == 0) {
        bench_pin(1);
        close(sv[0]);
        raw_echo(sv[1]);
    }
    close(sv[1]);
    raw_fd = sv[0];
}

static void stop_children(void) {
    conc_conn_close(c_end);
    conc_conn_close(c_end_t);
    close(raw_fd);
    waitpid(c_child, NULL, 0);
    waitpid(c_child_t, NULL, 0);
    waitpid(raw_child, NULL, 0);
}

static double c_roundtrips(conc_conn_t *c, long n) {
    unsigned char msg[MSG] = {1};
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        void *buf;
        size_t len;
        if (conc_conn_send(c, msg, sizeof msg) != 0) exit(2);
        if (conc_conn_recv(c, &buf, &len, CONC_FOREVER) != 0 || len != MSG) exit(3);
        free(buf);
    }
    return bench_now() - t;
}

static double c_pipe(long n) {
    return c_roundtrips(c_end, n);
}

static double c_pipe_t(long n) {
    return c_roundtrips(c_end_t, n);
}

static double raw_pipe(long n) {
    unsigned char msg[MSG] = {1}, buf[MSG];
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        size_t len;
        if (!raw_send(raw_fd, msg, sizeof msg)) exit(2);
        if (!raw_recv(raw_fd, buf, sizeof buf, &len) || len != MSG) exit(3);
    }
    return bench_now() - t;
}

static void *pipe_rows_in_thread(void *arg) {
    (void)arg;
    bench_pin(0);
    pair_many("pipe_roundtrip_64b_thread", "ns/roundtrip", c_pipe_t, raw_pipe);
    return NULL;
}

/* ---- SharedMemory life cycle ---- */
static double c_shm(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_shm_t *s, *a;
        if (conc_shm_create(&s, NULL, 4096) != 0) exit(4);
        if (conc_shm_attach(&a, conc_shm_name(s)) != 0) exit(5);
        conc_shm_close(a);
        conc_shm_unlink(s);
        conc_shm_close(s);
    }
    return bench_now() - t;
}

static double raw_shm(long n) {
    char name[64];
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "/bench_raw_%d_%ld", (int)getpid(), i);
        int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
        if (fd < 0 || ftruncate(fd, 4096) != 0) exit(4);
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        int fd2 = shm_open(name, O_RDWR, 0);
        struct stat st;
        if (fd2 < 0 || fstat(fd2, &st) != 0) exit(5);
        void *q = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
        munmap(q, (size_t)st.st_size);
        close(fd2);
        shm_unlink(name);
        munmap(p, 4096);
        close(fd);
    }
    return bench_now() - t;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    const char *only = argc > 1 ? argv[1] : NULL;
    bench_pin(0);
    if (!only || !strncmp(only, "pipe", 4)) {
        start_children();
        if (!only || !strcmp(only, "pipe_roundtrip_64b"))
            pair_many("pipe_roundtrip_64b", "ns/roundtrip", c_pipe, raw_pipe);
        if (!only || !strcmp(only, "pipe_roundtrip_64b_thread")) {
            pthread_t th;
            pthread_create(&th, NULL, pipe_rows_in_thread, NULL);
            pthread_join(th, NULL);
        }
        stop_children();
    }
    if (!only || !strcmp(only, "shm_lifecycle_4k"))
        bench_pair("shm_lifecycle_4k", "ns/op", c_shm, raw_shm);
    return 0;
}
