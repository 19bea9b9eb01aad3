/* What the bound module reads from /proc, shared by conc_bound_run (a child) and
 * conc_bound_measure (this process). Private to src/bound. */
#ifndef CONC_BOUND_PROC_H
#define CONC_BOUND_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../internal/base.h"

/* One thread seen while sampling: its CPU time and run delay (ns running, and ns runnable but not
 * running, from schedstat) and the time (conc_monotonic) when first and when last seen. */
typedef struct {
    pid_t tid; /* 0: empty slot */
    uint64_t run0, delay0, run, delay;
    double seen0, seen;
} conc__bound_task_t;

typedef struct {
    conc__bound_task_t *tasks; /* open-addressing table keyed by tid, cap a power of two */
    size_t n, cap;
    double retired;        /* counted wait (ns) of threads whose tid was later reused */
    unsigned peak_threads; /* most threads counted in one sample */
    pid_t exclude_tid;     /* a thread to ignore entirely (measure's sampler) */
    bool set_base;         /* threads seen now began before the window: their times are not ours */
    bool tree;             /* also sample the live descendants of the root process */
    uint64_t bytes;        /* bytes this tracker read from /proc (to subtract from rchar) */
} conc__bound_tracker_t;

/* Count the threads of root (and, with tree, of its descendants) and update their run delays. */
CONC_HIDDEN void conc__bound_sample(conc__bound_tracker_t *t, pid_t root);
/* Seconds the sampled threads spent runnable but waiting for a CPU, each thread's weighted by the
 * share of its life it wanted a CPU (see conc/bound.h). */
CONC_HIDDEN double conc__bound_cpu_wait(const conc__bound_tracker_t *t);
CONC_HIDDEN void conc__bound_tracker_free(conc__bound_tracker_t *t);

/* Read a small /proc file whole. Returns the bytes read (NUL-terminated in buf) or -errno. */
CONC_HIDDEN ssize_t conc__bound_read_file(const char *path, char *buf, size_t size);
/* rchar and wchar of /proc/<pid>/io; *nread gets the bytes this read itself took (the kernel adds
 * them to our rchar after the snapshot was taken). 0 or -errno. */
CONC_HIDDEN int conc__bound_read_io(pid_t pid, uint64_t *rchar, uint64_t *wchar, uint64_t *nread);

#endif
