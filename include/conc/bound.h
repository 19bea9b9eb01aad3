/* conc/bound.h - is this work CPU-bound or IO-bound? Measure it and say why.
 *
 * The same measurement backs `conc bound -- CMD` (a child process) and conc_bound_measure (a
 * function in this process). It answers the question that decides between threads and processes
 * in Python: does the work keep a CPU busy (threads will not help under a GIL; processes will), or
 * does it mostly wait (threads or asyncio overlap the waits)?
 *
 * The verdict rule (conc_bound_classify):
 *   utilisation u = (user + sys) / wall   how many cores were busy on average (2.0 = two)
 *   CPU wait    w = cpu_wait / wall       runnable but waiting for a free core (a busy machine)
 *   CPU-bound       if u / (1 - w) >= 0.7 (CONC_BOUND_CPU_AT; 1 - w at least 0.05)
 *   IO/wait-bound   else if u <= 0.3  (CONC_BOUND_IO_AT)
 *   mixed           otherwise.
 * Counting the wait for a core keeps a busy loop CPU-bound on a loaded machine, where it gets only
 * part of a core: it waited for a CPU, not for I/O. But every start-up and every wake-up (I/O done,
 * sleep over) also waits for a core there, and summed over the four processes of
 * `(sleep 1; echo) | cat` such waits can dwarf their CPU time while the work is plainly waiting on
 * the outside world. So each thread's wait is weighted by the share of its life it was runnable
 * (running or waiting to run): a busy loop was runnable all along and its wait counts in full;
 * a process that slept 95% of its life counts 5% of the waits it had at its wake-ups.
 * The reason line quotes the numbers, e.g. "CPU busy 98% of wall time (parallelism 1.0): the work
 * is computation", "CPU idle 97% of wall time: waiting on I/O, sleep or other processes;
 * 3 voluntary switches"; past a utilisation of 1.3 it names the cores ("on ~2 cores"). */
#ifndef CONC_BOUND_H
#define CONC_BOUND_H

#include <stdint.h>
#include <stdio.h>
#include "conc/error.h"

#define CONC_BOUND_CPU_AT 0.7 /* u / (1 - w) at or above: CPU-bound */
#define CONC_BOUND_IO_AT  0.3 /* otherwise u at or below: IO/wait-bound */

typedef enum { CONC_BOUND_CPU = 1, CONC_BOUND_IO = 2, CONC_BOUND_MIXED = 3 } conc_bound_verdict_t;

typedef struct {
    double wall;           /* seconds */
    double user, sys;      /* CPU seconds */
    double utilisation;    /* (user + sys) / wall: 2.0 means two cores busy all the time */
    double cpu_wait;       /* seconds runnable but waiting for a free core, summed over threads,
                              each weighted by the share of its life it was runnable (sampled) */
    unsigned peak_threads; /* most threads seen at once (sampled every 1-10 ms) */
    uint64_t voluntary_switches, involuntary_switches;
    uint64_t bytes_read, bytes_written; /* through read/write-family calls (rchar/wchar) */
    int exit_status;                    /* the command's: >= 0 status, -signo if killed */
    conc_bound_verdict_t verdict;
    char reason[160];  /* one line: why the verdict */
    char command[256]; /* the command line, shell-quoted, "..." if cut; "" for a function */
} conc_bound_report_t;

#ifdef __cplusplus
extern "C" {
#endif

/* Run fn(arg) in this thread and measure the whole process while it runs: threads fn starts count,
 * and so does anything other threads of the process do meanwhile.
 * - CPU and switches: getrusage(RUSAGE_SELF) deltas, minus the sampler thread's own usage.
 * - peak threads: the threads of this process seen at once, not counting the sampler (a sanitizer's
 *   runtime threads do count); CPU wait: /proc/self/task/<tid>/schedstat run delays.
 * - bytes: /proc/self/io rchar/wchar deltas, minus what the measurement itself read from /proc.
 *   Caveat: rchar counts every read-family call (pipes, sockets, cached files), not disk I/O, and
 *   reads by other threads of the process (or a sanitizer runtime) during fn are counted too.
 * Returns 0, or -EINVAL (fn or out NULL). exit_status is 0 and command "". */
CONC_API int conc_bound_measure(void (*fn)(void *), void *arg, conc_bound_report_t *out);

/* Run argv[0] (searched in PATH like execvp) with argv, wait for it and measure it.
 * - CPU and switches: wait4's rusage, so they include descendants the command waited for.
 * - peak threads and CPU wait: sampled from /proc every 1-10 ms over the command's process tree
 *   (the command and its live descendants), so a thread that lives less than a sample may be missed.
 * - bytes: /proc/<pid>/io of the command read as a zombie, which includes reaped descendants.
 * The command inherits stdin/stdout/stderr and the environment; signals are unblocked in it.
 * Returns 0 with out->exit_status the command's (-signo if killed by a signal); -ENOENT if it cannot
 * be found, -EACCES (or another -errno from execvp) if it cannot be executed; -EINVAL for NULL
 * arguments; -ECHILD if the child was reaped behind our back (SIGCHLD ignored). */
CONC_API int conc_bound_run(char *const argv[], conc_bound_report_t *out);

/* Fill in utilisation, verdict and reason from the measured fields (rule above). */
CONC_API void conc_bound_classify(conc_bound_report_t *r);
/* "CPU-bound", "IO-bound", "mixed" ("unknown" for anything else). */
CONC_API const char *conc_bound_verdict_name(conc_bound_verdict_t v);
/* Print the report as an aligned table, or as one JSON object (keys: command, exit_status, signal,
 * wall, user, sys, utilisation, parallelism, cpu_wait, peak_threads, voluntary_switches,
 * involuntary_switches, bytes_read, bytes_written, verdict ("cpu", "io", "mixed"), reason) followed
 * by a newline. */
CONC_API void conc_bound_print(FILE *out, const conc_bound_report_t *r, int json);

#ifdef __cplusplus
}
#endif
#endif
