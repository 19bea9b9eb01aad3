/* conc_bound_run: run a command as a child and measure it, for `conc bound -- CMD`.
 *
 * fork + execvp with a close-on-exec "report pipe": if exec fails the child writes errno into it,
 * if exec succeeds the kernel closes it and the parent reads EOF. So the parent knows for certain
 * whether the command started (and can say "command not found" instead of measuring a shell's exit
 * status 127) before it measures anything.
 *
 * While the command runs the parent samples its process tree (proc.c) - at once, then at intervals
 * growing from 1 ms to 10 ms - waiting on a pidfd so the exit is seen without polling delay. When
 * the child exits it is first waited for with WNOWAIT: it stays a zombie, and a zombie's
 * /proc/<pid>/io still holds its final rchar/wchar (including what its reaped children did). Only
 * then is it reaped with wait4, whose rusage gives user/sys time and context switches of the
 * command and every descendant it waited for. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "conc/bound.h"
#include "conc/time.h"
#include "proc.h"

#define SAMPLE_FIRST 0.001
#define SAMPLE_MAX   0.010

/* The command line as a shell would need it typed, so the report can be pasted back. */
static void describe(char *const argv[], char *buf, size_t size) {
    size_t len = 0, room = size - 4; /* space for "..." and the NUL */
    bool cut = false;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (len < room)                                                                            \
            buf[len++] = (c);                                                                      \
        else                                                                                       \
            cut = true;                                                                            \
    } while (0)
    for (size_t i = 0; argv[i] && !cut; i++) {
        const char *a = argv[i], *p;
        if (i) PUT(' ');
        bool plain = *a != 0;
        for (p = a; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("-_./=:,+%@^", *p)) plain = false;
        if (plain) {
            for (p = a; *p; p++) PUT(*p);
            continue;
        }
        PUT('\'');
        for (p = a; *p; p++) {
            if (*p != '\'') {
                PUT(*p);
                continue;
            }
            PUT('\'');
            PUT('\\');
            PUT('\'');
            PUT('\'');
        }
        PUT('\'');
    }
#undef PUT
    if (cut) {
        memcpy(buf + len, "...", 3);
        len += 3;
    }
    buf[len] = 0;
}

static double tv_seconds(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void nap(double seconds) {
    struct timespec ts = {0, (long)(seconds * 1e9)};
    nanosleep(&ts, NULL); /* an early return (signal) only means an early sample */
}

/* This thread's run delay so far (seconds spent runnable but not running), or 0 if unknown. */
static double own_run_delay(void) {
    char buf[128];
    unsigned long long run, delay;
    if (conc__bound_read_file("/proc/thread-self/schedstat", buf, sizeof buf) <= 0) return 0;
    return sscanf(buf, "%llu %llu", &run, &delay) == 2 ? (double)delay / 1e9 : 0;
}

/* Sample pid until it has exited (it stays a zombie: nothing here reaps it). *late is how long this
 * thread, woken by the exit, then waited for a core: on a loaded machine that can be longer than
 * the command ran, and the command was not alive for any of it, so it is no part of its wall. */
static int sample_until_exit(conc__bound_tracker_t *tr, pid_t pid, double *late) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1 on kernels before 5.3: poll waitid */
    double interval = SAMPLE_FIRST;
    int err = 0;
    for (;;) {
        conc__bound_sample(tr, pid);
        if (pidfd >= 0) {
            struct pollfd p = {.fd = pidfd, .events = POLLIN};
            struct timespec ts = {0, (long)(interval * 1e9)};
            double before = own_run_delay();
            int r = ppoll(&p, 1, &ts, NULL);
            if (r > 0) {
                *late = fmax(0, own_run_delay() - before);
                break;
            }
            if (r < 0 && errno != EINTR) {
                close(pidfd);
                pidfd = -1;
            }
        } else {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
                if (errno == EINTR) continue;
                err = -errno;
                break;
            }
            if (si.si_pid == pid) break;
            nap(interval);
        }
        interval = interval * 2 < SAMPLE_MAX ? interval * 2 : SAMPLE_MAX;
    }
    if (pidfd >= 0) close(pidfd);
    if (err) return err;
    siginfo_t si; /* the pidfd may report the exit a moment before the zombie is waitable */
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
        if (errno != EINTR) return -errno;
    return 0;
}

static void reap(pid_t pid, int *status, struct rusage *ru) {
    while (wait4(pid, status, 0, ru) < 0 && errno == EINTR) {
    }
}

int conc_bound_run(char *const argv[], conc_bound_report_t *out) {
    if (!argv || !argv[0] || !out) return -EINVAL;
    memset(out, 0, sizeof *out);
    describe(argv, out->command, sizeof out->command);

    int rep[2];
    if (pipe2(rep, O_CLOEXEC) < 0) return -errno;
    double t0 = conc_monotonic();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(rep[0]);
        close(rep[1]);
        return -e;
    }
    if (pid == 0) {
        /* Threads conc starts block SIGINT and friends; the command must not inherit that. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w = write(rep[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(rep[1]);
    int exec_err = 0;
    ssize_t n;
    while ((n = read(rep[0], &exec_err, sizeof exec_err)) < 0 && errno == EINTR) {
    }
    close(rep[0]);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (n == (ssize_t)sizeof exec_err) {
        reap(pid, &status, &ru);
        return exec_err > 0 ? -exec_err : -ENOEXEC;
    }

    conc__bound_tracker_t tr;
    memset(&tr, 0, sizeof tr);
    tr.tree = true;
    double late = 0;
    int err = sample_until_exit(&tr, pid, &late);
    double t1 = conc_monotonic() - late;
    if (err) {
        conc__bound_tracker_free(&tr);
        reap(pid, &status, &ru);
        return err;
    }
    conc__bound_sample(&tr, pid); /* the zombie's final run delay */
    uint64_t rchar = 0, wchar = 0;
    conc__bound_read_io(pid, &rchar, &wchar, NULL); /* unreadable: the bytes stay 0 */
    reap(pid, &status, &ru);

    out->wall = t1 - t0;
    out->user = tv_seconds(ru.ru_utime);
    out->sys = tv_seconds(ru.ru_stime);
    out->cpu_wait = conc__bound_cpu_wait(&tr);
    out->peak_threads = tr.peak_threads ? tr.peak_threads : 1;
    out->voluntary_switches = (uint64_t)ru.ru_nvcsw;
    out->involuntary_switches = (uint64_t)ru.ru_nivcsw;
    out->bytes_read = rchar;
    out->bytes_written = wchar;
    out->exit_status = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    conc__bound_tracker_free(&tr);
    conc_bound_classify(out);
    return 0;
}
