/* Sampling /proc for the bound module: threads alive at once, and how long they waited for a CPU.
 *
 * getrusage and wait4 give exact CPU totals but say nothing about threads or contention. The
 * thread count exists only "now", so it is polled. The run delay (field 2 of
 * /proc/<pid>/task/<tid>/schedstat: ns spent runnable on a runqueue, not running) is cumulative per
 * thread, so polling loses only what a thread accrues after its last sample. Threads are kept in a
 * small hash table by tid, so each one is counted exactly once, even after it exits; a tid that
 * comes back with smaller values is a new thread reusing the id. Each thread's wait is weighted by
 * the share of its life it was runnable (field 1, CPU time, plus the wait), for the reason given in
 * conc/bound.h. The process tree is
 * walked through /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN); without it only the root
 * is seen.
 *
 * Every byte read here is counted in t->bytes: reading /proc goes through read(), and when a
 * process samples itself those bytes land in the very rchar it is measuring. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conc/time.h"
#include "proc.h"

#define MAX_PROCS 256 /* processes visited per sample: bounds the cost on a huge tree */

ssize_t conc__bound_read_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t got = 0;
    while (got + 1 < size) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    return (ssize_t)got;
}

int conc__bound_read_io(pid_t pid, uint64_t *rchar, uint64_t *wchar, uint64_t *nread) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    ssize_t n = conc__bound_read_file(path, buf, sizeof buf);
    if (nread) *nread = n > 0 ? (uint64_t)n : 0;
    if (n < 0) return (int)n;
    unsigned long long r, w;
    if (sscanf(buf, "rchar: %llu wchar: %llu", &r, &w) != 2) return -EIO;
    *rchar = r;
    *wchar = w;
    return 0;
}

static bool reserve(conc__bound_tracker_t *t) {
    if (t->cap && (t->n + 1) * 2 <= t->cap) return true;
    size_t cap = t->cap ? t->cap * 2 : 64;
    conc__bound_task_t *tasks = calloc(cap, sizeof *tasks);
    if (!tasks) return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->tasks[i].tid) continue;
        size_t j = ((size_t)t->tasks[i].tid * 2654435761u) & (cap - 1);
        while (tasks[j].tid) j = (j + 1) & (cap - 1);
        tasks[j] = t->tasks[i];
    }
    free(t->tasks);
    t->tasks = tasks;
    t->cap = cap;
    return true;
}

/* The wait a thread is credited with: its run delay times the share of its life it was runnable
 * (running or waiting to run). Its life is known only between samples, and can be no shorter than
 * the time it was runnable; a thread seen once counts whole. */
static double credited(const conc__bound_task_t *s) {
    double delay = (double)(s->delay - s->delay0), busy = (double)(s->run - s->run0) + delay;
    double life = (s->seen - s->seen0) * 1e9;
    if (life < busy) life = busy;
    return life > 0 ? delay * (busy / life) : 0;
}

static void note(conc__bound_tracker_t *t, pid_t tid, uint64_t run, uint64_t delay, double now) {
    if (!reserve(t)) return; /* out of memory: this thread's wait goes uncounted */
    size_t mask = t->cap - 1, i = ((size_t)tid * 2654435761u) & mask;
    while (t->tasks[i].tid && t->tasks[i].tid != tid) i = (i + 1) & mask;
    conc__bound_task_t *s = &t->tasks[i];
    if (!s->tid) {
        s->tid = tid;
        s->run0 = t->set_base ? run : 0;
        s->delay0 = t->set_base ? delay : 0;
        s->seen0 = now;
        t->n++;
    } else if (run < s->run || delay < s->delay) { /* the tid was reused by a new thread */
        t->retired += credited(s);
        s->run0 = s->delay0 = 0;
        s->seen0 = now;
    }
    s->run = run;
    s->delay = delay;
    s->seen = now;
}

void conc__bound_sample(conc__bound_tracker_t *t, pid_t root) {
    pid_t procs[MAX_PROCS];
    size_t nprocs = 0, next = 0;
    unsigned threads = 0;
    char path[96], buf[4096];
    double now = conc_monotonic();
    procs[nprocs++] = root;
    while (next < nprocs) {
        pid_t pid = procs[next++];
        snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
        DIR *dir = opendir(path); /* getdents is not a read: it adds nothing to rchar */
        if (!dir) continue;       /* gone since its parent listed it */
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid == t->exclude_tid) continue;
            threads++;
            snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
            ssize_t n = conc__bound_read_file(path, buf, sizeof buf);
            unsigned long long run, delay;
            if (n > 0) {
                t->bytes += (uint64_t)n;
                if (sscanf(buf, "%llu %llu", &run, &delay) == 2) note(t, tid, run, delay, now);
            }
            if (!t->tree) continue;
            snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)tid);
            n = conc__bound_read_file(path, buf, sizeof buf);
            if (n <= 0) continue;
            t->bytes += (uint64_t)n;
            for (char *p = buf, *end; nprocs < MAX_PROCS; p = end) {
                long child = strtol(p, &end, 10);
                if (end == p) break;
                if (child > 0) procs[nprocs++] = (pid_t)child;
            }
        }
        closedir(dir);
    }
    if (threads > t->peak_threads) t->peak_threads = threads;
}

double conc__bound_cpu_wait(const conc__bound_tracker_t *t) {
    double ns = t->retired;
    for (size_t i = 0; i < t->cap; i++)
        if (t->tasks[i].tid) ns += credited(&t->tasks[i]);
    return ns / 1e9;
}

void conc__bound_tracker_free(conc__bound_tracker_t *t) {
    free(t->tasks);
    t->tasks = NULL;
    t->n = t->cap = 0;
}
