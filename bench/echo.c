/* TCP echo, 64-byte request/response round trips: the SAME C client against five servers - conc
 * streams, libuv, a bare epoll loop, Python asyncio streams and uvloop (bench/echo_server.py).
 *
 * Each server is a process of its own pinned to CPU 0, serving a listening socket made here; the
 * client (this process) is pinned to CPU 1 and keeps one request in flight per connection (1 or 50
 * connections) from one epoll loop. All servers run at once and are sampled in turn, repetition
 * after repetition, so each sees the same machine noise; a row's ratio is the median of the
 * per-repetition ratios. Output (bench/report.py format): ns per round trip, lower is better:
 *   echo_rt_<n>conn         conc vs libuv          (target: conc at least as fast, ratio <= 1)
 *   echo_rt_<n>conn_epoll   conc vs bare epoll     (the floor; the aim is 0.9x its throughput)
 *   echo_rt_<n>conn_uvloop  conc vs uvloop         (skipped without python3-uvloop)
 * and, into the file named by argv[1], asyncio's figures for echo_rt_<n>conn (CPython column).
 * Round trips per second go to stderr. */
#include "harness.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include "conc.h"

#define MSG 64

/* ---- servers ---- */

static void conc_echo(conc_stream_t *s, void *arg) {
    (void)arg;
    char buf[65536];
    for (;;) {
        ssize_t n = conc_stream_read(s, buf, sizeof buf);
        if (n <= 0) return;
        if (conc_stream_write(s, buf, (size_t)n) < 0 || conc_stream_drain(s) < 0) return;
    }
}

/* Serve forever as asyncio's serve_forever does, awaiting something that never happens. Not a
 * sleep loop: a pending timer makes every epoll_wait arm and cancel a kernel hrtimer, which the
 * libuv server (no timers) does not pay. */
static int serve_fd;
static void *conc_main(void *arg) {
    (void)arg;
    conc_server_t *srv;
    conc_aevent_t never;
    conc_aevent_init(&never);
    if (conc_server_from_fd(NULL, serve_fd, conc_echo, NULL, &srv) < 0) return NULL;
    conc_aevent_wait(&never, -1);
    return NULL;
}

static void run_conc(int fd) {
    serve_fd = fd;
    conc_run(conc_main, NULL, NULL);
}

/* libuv, as its users write an echo server: try_write first, uv_write for what is left */
static uv_loop_t *uloop;
static uv_tcp_t userver;
static char ubuf[65536];
static void u_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
    (void)h;
    (void)sz;
    *b = uv_buf_init(ubuf, sizeof ubuf);
}
static void u_closed(uv_handle_t *h) {
    free(h);
}
static void u_written(uv_write_t *req, int status) {
    (void)status;
    free(req);
}
static void u_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    if (n < 0) {
        uv_close((uv_handle_t *)s, u_closed);
        return;
    }
    if (n == 0) return;
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    int w = uv_try_write(s, &out, 1);
    if (w == n) return;
    if (w < 0) w = 0;
    struct {
        uv_write_t req;
        char data[];
    } *r = malloc(sizeof *r + (size_t)(n - w));
    memcpy(r->data, b->base + w, (size_t)(n - w));
    uv_buf_t rest = uv_buf_init(r->data, (unsigned)(n - w));
    uv_write(&r->req, s, &rest, 1, u_written);
}
static void u_conn(uv_stream_t *server, int status) {
    if (status < 0) return;
    uv_tcp_t *c = malloc(sizeof *c);
    uv_tcp_init(uloop, c);
    if (uv_accept(server, (uv_stream_t *)c) == 0) {
        uv_tcp_nodelay(c, 1);
        uv_read_start((uv_stream_t *)c, u_alloc, u_read);
    } else {
        uv_close((uv_handle_t *)c, u_closed);
    }
}
static void run_libuv(int fd) {
    uloop = uv_default_loop();
    uv_tcp_init(uloop, &userver);
    uv_tcp_open(&userver, fd);
    uv_listen((uv_stream_t *)&userver, 128, u_conn);
    uv_run(uloop, UV_RUN_DEFAULT);
}

/* the floor: level-triggered epoll, read then write back at once */
static void run_epoll(int lfd) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[64];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    char buf[65536];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (c < 0) continue;
                int one = 1;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                continue;
            }
            ssize_t m = read(fd, buf, sizeof buf);
            if (m <= 0) {
                close(fd);
                continue;
            }
            for (ssize_t off = 0; off < m;) {
                ssize_t w = write(fd, buf + off, (size_t)(m - off));
                if (w < 0) break; /* a 64 B echo never fills the socket buffer */
                off += w;
            }
        }
    }
}

/* ---- starting them ---- */

static int listener(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    listen(fd, 128);
    return fd;
}

static int port_of(int fd) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

struct server {
    const char *name;
    pid_t pid;
    int port;
    bool ok;
};

static void start_c(struct server *s, void (*run)(int)) {
    int fd = listener();
    s->port = port_of(fd);
    s->pid = fork();
    if (s->pid == 0) {
        bench_pin(0);
        run(fd);
        _exit(0);
    }
    close(fd);
    s->ok = s->pid > 0;
}

static void start_py(struct server *s, const char *python, const char *flavour) {
    int fd = listener();
    s->port = port_of(fd);
    s->pid = fork();
    if (s->pid == 0) {
        bench_pin(0);
        char fds[16];
        snprintf(fds, sizeof fds, "%d", fd);
        execlp(python, python, "bench/echo_server.py", fds, flavour, (char *)NULL);
        _exit(127);
    }
    close(fd);
    s->ok = s->pid > 0;
}

/* ---- the client ---- */

struct conn {
    int fd;
    size_t got;
};

/* Round trips per second over `seconds` with n connections to port, or -1 on failure. */
static double client(int port, int n, double seconds) {
    struct conn c[64];
    int ep = epoll_create1(0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char msg[MSG], buf[4096];
    memset(msg, 'x', sizeof msg);
    for (int i = 0; i < n; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        c[i].got = 0;
        int one = 1;
        setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c[i].fd, (struct sockaddr *)&a, sizeof a) < 0) return -1;
        fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
        if (write(c[i].fd, msg, MSG) != MSG) return -1;
    }
    long done = 0;
    double t0 = bench_now(), end = t0 + seconds, now = t0;
    struct epoll_event evs[64];
    while (now < end) {
        int k = epoll_wait(ep, evs, 64, 5000);
        if (k <= 0) return -1; /* the server died or stalled */
        for (int j = 0; j < k; j++) {
            struct conn *cc = &c[evs[j].data.u32];
            ssize_t m = read(cc->fd, buf, sizeof buf);
            if (m <= 0) {
                if (m < 0 && errno == EAGAIN) continue;
                return -1;
            }
            cc->got += (size_t)m;
            while (cc->got >= MSG) {
                cc->got -= MSG;
                done++;
                if (write(cc->fd, msg, MSG) != MSG) return -1;
            }
        }
        now = bench_now();
    }
    for (int i = 0; i < n; i++) close(c[i].fd);
    close(ep);
    return (double)done / (now - t0);
}

#define REPS    7
#define SAMPLE  0.4
#define NSERVER 5

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    struct server sv[NSERVER] = {{.name = "conc"},
                                 {.name = "libuv"},
                                 {.name = "epoll"},
                                 {.name = "asyncio"},
                                 {.name = "uvloop"}};
    start_c(&sv[0], run_conc);
    start_c(&sv[1], run_libuv);
    start_c(&sv[2], run_epoll);
    bool py = system("python3 -c 'import asyncio' >/dev/null 2>&1") == 0;
    /* uvloop as Debian packages it, for Debian's interpreter (python3 on PATH may be another) */
    bool uvl = system("/usr/bin/python3 -c 'import uvloop' >/dev/null 2>&1") == 0;
    if (py) start_py(&sv[3], "python3", "asyncio");
    if (uvl) start_py(&sv[4], "/usr/bin/python3", "uvloop");
    if (!uvl)
        fprintf(stderr, "echo: no uvloop for /usr/bin/python3 (python3-uvloop): row skipped\n");
    bench_pin(1);
    int conns[2] = {1, 50};
    FILE *pyout = argc > 1 ? fopen(argv[1], "a") : NULL;
    for (int ci = 0; ci < 2; ci++) {
        int n = conns[ci];
        double rate[NSERVER][REPS];
        for (int s = 0; s < NSERVER; s++) /* warm up: connections, caches, Python's start */
            if (sv[s].ok && client(sv[s].port, n, 0.2) < 0) sv[s].ok = false;
        for (int r = 0; r < REPS; r++)
            for (int s = 0; s < NSERVER; s++)
                rate[s][r] = sv[s].ok ? client(sv[s].port, n, SAMPLE) : -1;
        double med[NSERVER];
        for (int s = 0; s < NSERVER; s++) {
            double v[REPS];
            for (int r = 0; r < REPS; r++) v[r] = rate[s][r];
            med[s] = bench_median(v, REPS);
            if (sv[s].ok && med[s] > 0)
                fprintf(stderr, "echo %2d conn: %-8s %9.0f round trips/s\n", n, sv[s].name, med[s]);
        }
        static const char *suffix[NSERVER] = {"", "", "_epoll", "", "_uvloop"};
        for (int s = 1; s < NSERVER; s++) {
            if (s == 3 || !sv[s].ok || med[s] <= 0 || med[0] <= 0) continue;
            double ratios[REPS];
            for (int r = 0; r < REPS; r++) ratios[r] = rate[s][r] / rate[0][r]; /* ns conc/peer */
            printf("echo_rt_%dconn%s\tns\t%.1f\t%.1f\t%.3f\n", n, suffix[s], 1e9 / med[0],
                   1e9 / med[s], bench_median(ratios, REPS));
        }
        if (pyout && sv[3].ok && med[3] > 0)
            fprintf(pyout, "echo_rt_%dconn\t%.1f\n", n, 1e9 / med[3]);
        fflush(stdout);
    }
    if (pyout) fclose(pyout);
    for (int s = 0; s < NSERVER; s++)
        if (sv[s].pid > 0) {
            kill(sv[s].pid, SIGKILL);
            waitpid(sv[s].pid, NULL, 0);
        }
    return 0;
}
