/* Talking to a child program over pipes, for the signal tests: the test writes lines to the
 * child's stdin and reads lines from its stdout, with timeouts, and looks at the child through
 * /proc to know when a signal was delivered or a thread is asleep, so that no test sleeps blindly.
 *
 * The test side (child_*, proc_*) is used by tests/unit/signal_*.c, the helper side (say, hear) by
 * tests/helpers/signal_*.c. Every child started is SIGKILLed at exit if the test did not reap it,
 * so a failed assertion never leaves a child behind (a stopped child would hold ctest's pipe). */
#ifndef CONC_TEST_SIGNAL_PROC_H
#define CONC_TEST_SIGNAL_PROC_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SP_UNUSED __attribute__((unused))

static double sp_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- helper side ---- */

/* One line to stdout, unbuffered (signal handlers and several processes share the pipe). */
SP_UNUSED static void say(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(1, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(4);
        off += (int)w;
    }
}

/* One line from stdin, without the newline. EOF (the test is gone) ends the helper.
 *
 * It sleeps in poll(), not read(): under ThreadSanitizer a signal that interrupts read() has its
 * handler deferred to read's return, and one that lands just before read() enters the kernel
 * waits until input arrives - a hang for a helper that sleeps until a signal. poll() is one of
 * TSan's "blocking" interceptors, where handlers run at once and that window is closed. */
SP_UNUSED static void hear(char *buf, size_t cap) {
    size_t n = 0;
    for (;;) {
        char ch;
        struct pollfd p = {.fd = 0, .events = POLLIN};
        if (poll(&p, 1, -1) < 0) continue; /* EINTR */
        ssize_t r = read(0, &ch, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) _exit(3);
        if (ch == '\n') break;
        if (n + 1 < cap) buf[n++] = ch;
    }
    buf[n] = 0;
}

/* ---- test side ---- */

struct child {
    pid_t pid;
    int to;   /* the child's stdin */
    int from; /* the child's stdout */
    char buf[4096];
    size_t len;
};

static pid_t sp_started[16];
static int sp_nstarted;

static void sp_kill_leftovers(void) {
    for (int i = 0; i < sp_nstarted; i++)
        if (sp_started[i] > 0) {
            kill(sp_started[i], SIGKILL);
            waitpid(sp_started[i], NULL, 0);
        }
}

static void sp_forget(pid_t pid) {
    for (int i = 0; i < sp_nstarted; i++)
        if (sp_started[i] == pid) sp_started[i] = 0;
}

/* Start helper `path` with argv[1] = mode, stdin and stdout on pipes, every signal at its default
 * action and none blocked (whatever ran the tests may have ignored SIGINT). 0 or -errno. */
SP_UNUSED static int child_start(struct child *c, const char *path, const char *mode) {
    memset(c, 0, sizeof *c);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0) return -errno;
    if (pipe2(out, O_CLOEXEC) < 0) return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char *argv[] = {(char *)path, (char *)mode, NULL};
    extern char **environ;
    int e = posix_spawn(&c->pid, path, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    if (e) {
        close(in[1]);
        close(out[0]);
        return -e;
    }
    c->to = in[1];
    c->from = out[0];
    if (sp_nstarted == 0) atexit(sp_kill_leftovers);
    if (sp_nstarted < 16) sp_started[sp_nstarted++] = c->pid;
    return 0;
}

/* The child's next output line (without newline) into out; false on EOF or after timeout s. */
SP_UNUSED static bool child_line(struct child *c, char *out, size_t cap, double timeout) {
    double end = sp_now() + timeout;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            size_t k = n < cap - 1 ? n : cap - 1;
            memcpy(out, c->buf, k);
            out[k] = 0;
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return true;
        }
        double left = end - sp_now();
        if (left <= 0 || c->len == sizeof c->buf) return false;
        struct pollfd p = {.fd = c->from, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        ssize_t got = read(c->from, c->buf + c->len, sizeof c->buf - c->len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        c->len += (size_t)got;
    }
}

SP_UNUSED static void child_say(struct child *c, const char *line) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    if (write(c->to, buf, (size_t)n) != n) perror("child_say");
}

/* Wait for the child to end; its wait status, or -1 after timeout s (then it is SIGKILLed). */
SP_UNUSED static int child_exit(struct child *c, double timeout) {
    int st = -1;
    int pfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
    if (pfd >= 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        int r;
        do r = poll(&p, 1, (int)(timeout * 1000));
        while (r < 0 && errno == EINTR);
        close(pfd);
        if (r <= 0) kill(c->pid, SIGKILL), st = -2;
    }
    int ws;
    if (waitpid(c->pid, &ws, 0) == c->pid && st != -2) st = ws;
    if (st == -2) st = -1;
    sp_forget(c->pid);
    close(c->to);
    close(c->from);
    return st;
}

/* A line from /proc/<pid>/<file> that starts with key, or false. */
static bool sp_proc_field(pid_t pid, const char *file, const char *key, char *out, size_t cap) {
    char path[128], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (strncmp(line, key, kl) == 0) {
            snprintf(out, cap, "%s", line + kl);
            return true;
        }
        line = next;
    }
    return false;
}

/* State letter of a task from /proc/<pid>/task/<tid>/stat ('S', 'T', ...), '?' if unreadable. */
SP_UNUSED static char proc_state(pid_t pid, pid_t tid) {
    char path[128], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return '?';
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

static void sp_pause(void) {
    struct timespec ts = {0, 1000000}; /* 1 ms between looks at /proc */
    nanosleep(&ts, NULL);
}

/* Bounded wait until the task is in state `state`. */
SP_UNUSED static bool proc_wait_state(pid_t pid, pid_t tid, char state, double timeout) {
    double end = sp_now() + timeout;
    while (proc_state(pid, tid) != state)
        if (sp_now() > end)
            return false;
        else
            sp_pause();
    return true;
}

/* Bounded wait until signo, sent with kill(), is no longer pending in the process: a thread has
 * taken it, and its handler runs (a handled signal stays blocked until that handler returns). */
SP_UNUSED static bool proc_wait_delivered(pid_t pid, int signo, double timeout) {
    double end = sp_now() + timeout;
    unsigned long long bit = 1ULL << (signo - 1);
    for (;;) {
        char shd[64], pnd[64];
        if (!sp_proc_field(pid, "status", "ShdPnd:", shd, sizeof shd) ||
            !sp_proc_field(pid, "status", "SigPnd:", pnd, sizeof pnd))
            return false;
        if (!((strtoull(shd, NULL, 16) | strtoull(pnd, NULL, 16)) & bit)) return true;
        if (sp_now() > end) return false;
        sp_pause();
    }
}

#endif
