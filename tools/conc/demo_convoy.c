/* The convoy panel: round trips per second of an I/O thread, alone and beside one CPU-bound
 * thread, under conc's GIL as CPython's (no I/O priority) and with I/O priority; then the same
 * experiment on CPython itself, when python3 is installed.
 *
 * The I/O thread is a VM thread (convoy_io): it writes a byte to the echo process (fast mode),
 * reads it back, releasing the GIL around each call, and counts. Beside a CPU-bound VM thread, a
 * GIL without I/O priority makes each re-acquire wait for the CPU thread to drop the GIL, up to a
 * switch interval (5 ms) per call: that is the convoy effect (bpo-7946). The CPython run uses the
 * same echo process and the same layout (send + recv in the main thread, a counting loop in a
 * second thread), so the two panels compare like with like. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "demo.h"

extern char **environ;

typedef struct {
    const conc_vm_prog_t *prog;
    conc_gil_t *gil;
    int64_t deadline_us;
} spinner_t;

static void *spinner(void *arg) {
    spinner_t *s = arg;
    char err[CONC_VM_ERRLEN];
    conc_vm_opts_t o = {s->gil, NULL};
    conc_vm_run(s->prog, "convoy_cpu", &s->deadline_us, 1, &o, NULL, err, sizeof err);
    return NULL;
}

/* Round trips/s of the I/O thread over secs; 0 with_cpu: alone. Negative: -errno. */
static double convoy_case(demo_t *d, bool with_cpu, bool io_priority) {
    conc_gil_opts_t go = CONC_GIL_OPTS_INIT;
    go.io_priority = io_priority;
    conc_gil_t gil;
    conc_gil_init(&gil, &go);
    int fd = demo_echo_connect(&d->echo_addr, d->echo_addrlen, 'F');
    if (fd < 0) {
        conc_gil_destroy(&gil);
        return fd;
    }
    double t0 = conc_monotonic();
    spinner_t s = {d->prog, &gil, (int64_t)((t0 + d->convoy_secs + 0.02) * 1e6)};
    conc_thread_t *t = NULL;
    if (with_cpu && conc_thread_start(&t, spinner, &s, NULL) != 0) t = NULL;
    int64_t args[2] = {fd, (int64_t)((t0 + d->convoy_secs) * 1e6)}, trips = -1;
    char err[CONC_VM_ERRLEN];
    conc_vm_opts_t o = {&gil, NULL};
    int r = conc_vm_run(d->prog, "convoy_io", args, 2, &o, &trips, err, sizeof err);
    double wall = conc_monotonic() - t0;
    if (t) {
        while (conc_thread_join(t, -1, NULL) == -EINTR) {
        }
        conc_thread_release(t);
    }
    close(fd);
    conc_gil_destroy(&gil);
    if (r != 0 || trips < 0 || (with_cpu && !t)) return -EIO;
    return (double)trips / wall;
}

void demo_convoy(demo_t *d) {
    demo_progress(d, "convoy: I/O thread alone");
    d->convoy_alone = convoy_case(d, false, false);
    demo_progress(d, "convoy: beside a CPU-bound thread, no I/O priority");
    d->convoy_gil = convoy_case(d, true, false);
    demo_progress(d, "convoy: beside a CPU-bound thread, I/O priority");
    d->convoy_prio = convoy_case(d, true, true);
    if (d->convoy_alone < 0 || d->convoy_gil < 0 || d->convoy_prio < 0) d->convoy_err = -EIO;
}

static const char py_script[] = "import socket, sys, threading, time\n"
                                "addr, secs = '\\0' + sys.argv[1], float(sys.argv[2])\n"
                                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                                "s.connect(addr)\n"
                                "s.sendall(b'F')\n"
                                "def io():\n"
                                "    n, t0 = 0, time.perf_counter()\n"
                                "    while True:\n"
                                "        s.send(b'x')\n"
                                "        s.recv(1)\n"
                                "        n += 1\n"
                                "        t = time.perf_counter() - t0\n"
                                "        if t >= secs:\n"
                                "            return n / t\n"
                                "stop = False\n"
                                "def spin():\n"
                                "    x = 0\n"
                                "    while not stop:\n"
                                "        x += 1\n"
                                "alone = io()\n"
                                "th = threading.Thread(target=spin)\n"
                                "th.start()\n"
                                "busy = io()\n"
                                "stop = True\n"
                                "th.join()\n"
                                "print(sys.version.split()[0], alone, busy, flush=True)\n";

void demo_convoy_cpython(demo_t *d) {
    demo_cpython_t *py = &d->py;
    py->ran = true;
    demo_progress(d, "convoy: the same on CPython (python3)");
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        py->err = -errno;
        return;
    }
    char secs[32];
    snprintf(secs, sizeof secs, "%.3f", d->convoy_secs);
    char *argv[] = {"python3", "-c", (char *)py_script, d->echo_addr.sun_path + 1, secs, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    pid_t pid;
    int r = posix_spawnp(&pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (r != 0) {
        close(fds[0]);
        py->err = -r;
        return;
    }
    char out[256];
    size_t len = 0;
    double deadline = conc_monotonic() + 10 + 4 * d->convoy_secs;
    for (;;) {
        double left = deadline - conc_monotonic();
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == 0) {
            kill(pid, SIGKILL); /* our own child, stuck */
            r = -ETIMEDOUT;
            break;
        }
        ssize_t n = read(fds[0], out + len, sizeof out - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    out[len] = 0;
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) r = -ENOENT; /* 127: no python3 */
    if (r == 0 && sscanf(out, "%31s %lf %lf", py->version, &py->alone, &py->with_cpu) != 3)
        r = -EPROTO;
    py->err = r;
}
