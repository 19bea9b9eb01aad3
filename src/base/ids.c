/* Cached thread and process ids. gettid() and getpid() are syscalls; the lock fast paths need the
 * ids on every acquire, so they are read once and forgotten in a fork child, where both change. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../internal/base.h"

__thread pid_t conc__tls_tid __attribute__((tls_model("initial-exec")));
static pid_t cached_pid;
static pid_t main_tid;

void conc__ids_after_fork(void) {
    conc__tls_tid = 0;
    cached_pid = 0;
    /* As in Python, the thread that forked is the child's main thread. */
    main_tid = (pid_t)getpid();
}

__attribute__((constructor)) static void ids_init(void) {
    main_tid = (pid_t)getpid();
    pthread_atfork(NULL, NULL, conc__ids_after_fork);
}

pid_t conc__self_tid_slow(void) {
    conc__tls_tid = gettid();
    return conc__tls_tid;
}

pid_t conc__self_pid(void) {
    pid_t p = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
    if (conc__unlikely(p == 0)) {
        p = getpid();
        __atomic_store_n(&cached_pid, p, __ATOMIC_RELAXED);
    }
    return p;
}

pid_t conc__main_tid(void) {
    return main_tid;
}

bool conc__is_main_thread(void) {
    return conc__self_tid() == main_tid;
}

/* /proc/<id>/stat: "pid (comm) S ... num_threads(20th field)". comm may hold spaces and ')', so parse
 * from the last ')'. A process whose every thread has exited stays a zombie ('Z') until reaped; a
 * thread leader that exited early is also 'Z' but its process still has other threads. */
bool conc__task_dead(pid_t id, bool whole_process) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT || errno == ESRCH;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return true; /* the task went away while we read it */
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ') return false;
    char state = p[2];
    if (state != 'Z' && state != 'X' && state != 'x') return false;
    if (!whole_process) return true;
    /* fields after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime priority nice num_threads(20) */
    long threads = 0;
    int field = 3;
    for (char *q = p + 2; *q && field < 20; q++)
        if (*q == ' ') {
            field++;
            if (field == 20) threads = strtol(q + 1, NULL, 10);
        }
    return threads <= 1;
}
