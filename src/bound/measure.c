/* conc_bound_measure: measure a function in this process, the in-process `conc bound`.
 *
 * The process is measured as a whole (getrusage(RUSAGE_SELF), /proc/self/io), because the work a
 * function causes may run on threads it starts. What the measurement itself adds is taken back
 * out, so a function that only sleeps still reads as idle:
 * - a sampler thread polls /proc/self/task for the thread count and run delays; it skips its own
 *   tid, and its CPU time and context switches (getrusage(RUSAGE_THREAD) just before it exits) are
 *   subtracted from the process's;
 * - every byte read from /proc during the window (the sampler's files, and /proc/self/io itself,
 *   whose read is added to rchar just after the snapshot it returns) is subtracted from rchar.
 * The window opens before the sampler is created, so the whole of its life is inside it and the
 * subtraction is exact; what remains is the cost of creating and joining it and of the final
 * reads of /proc (a fraction of a millisecond: it only shows on very short functions).
 * The sampler sleeps on a futex word with a deadline, so stopping it is a wake, not a wait for
 * its next tick. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "conc/bound.h"
#include "conc/time.h"
#include "../internal/hooks.h"
#include "proc.h"

#define SAMPLE_FIRST 0.001
#define SAMPLE_MAX   0.010

typedef struct {
    conc__bound_tracker_t tr;
    pid_t pid;
    uint32_t stop;
    struct rusage own; /* the sampler thread's own usage */
} sampler_t;

static void *sampler_main(void *arg) {
    sampler_t *s = arg;
    s->tr.exclude_tid = gettid();
    double interval = SAMPLE_FIRST;
    while (!conc__load(&s->stop)) {
        conc__bound_sample(&s->tr, s->pid);
        conc__wait_nointr(&s->stop, 0, conc_monotonic() + interval, false);
        interval = interval * 2 < SAMPLE_MAX ? interval * 2 : SAMPLE_MAX;
    }
    getrusage(RUSAGE_THREAD, &s->own);
    return NULL;
}

static double tv_seconds(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static uint64_t delta(uint64_t after, uint64_t before, uint64_t minus) {
    return after > before + minus ? after - before - minus : 0;
}

int conc_bound_measure(void (*fn)(void *), void *arg, conc_bound_report_t *out) {
    if (!fn || !out) return -EINVAL;
    memset(out, 0, sizeof *out);
    sampler_t s;
    memset(&s, 0, sizeof s);
    s.pid = getpid();

    /* Threads alive now began before the window: only their run delay from here on counts. */
    s.tr.set_base = true;
    conc__bound_sample(&s.tr, s.pid);
    s.tr.set_base = false;
    s.tr.bytes = 0;

    struct rusage ru0, ru1;
    uint64_t r0 = 0, w0 = 0, r1 = 0, w1 = 0, io_self = 0;
    double t0 = conc_monotonic();
    getrusage(RUSAGE_SELF, &ru0);
    int io_ok = conc__bound_read_io(s.pid, &r0, &w0, &io_self) == 0;

    sigset_t old;
    conc__block_async_signals(&old); /* the sampler inherits the mask: SIGINT stays with main */
    pthread_t th;
    bool sampling = pthread_create(&th, NULL, sampler_main, &s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    fn(arg);

    if (sampling) {
        conc__store(&s.stop, 1);
        conc__futex_wake(&s.stop, 1, false);
        pthread_join(th, NULL);
    }
    conc__bound_sample(&s.tr, s.pid); /* fn's threads' final run delays, read by this thread */
    io_ok = io_ok && conc__bound_read_io(s.pid, &r1, &w1, NULL) == 0;
    getrusage(RUSAGE_SELF, &ru1);
    double t1 = conc_monotonic();

    out->wall = t1 - t0;
    out->user =
        fmax(0, tv_seconds(ru1.ru_utime) - tv_seconds(ru0.ru_utime) - tv_seconds(s.own.ru_utime));
    out->sys =
        fmax(0, tv_seconds(ru1.ru_stime) - tv_seconds(ru0.ru_stime) - tv_seconds(s.own.ru_stime));
    out->voluntary_switches =
        delta((uint64_t)ru1.ru_nvcsw, (uint64_t)ru0.ru_nvcsw, (uint64_t)s.own.ru_nvcsw);
    out->involuntary_switches =
        delta((uint64_t)ru1.ru_nivcsw, (uint64_t)ru0.ru_nivcsw, (uint64_t)s.own.ru_nivcsw);
    if (io_ok) {
        out->bytes_read = delta(r1, r0, io_self + s.tr.bytes);
        out->bytes_written = delta(w1, w0, 0);
    }
    out->cpu_wait = conc__bound_cpu_wait(&s.tr);
    out->peak_threads = s.tr.peak_threads ? s.tr.peak_threads : 1;
    out->exit_status = 0;
    conc__bound_tracker_free(&s.tr);
    conc_bound_classify(out);
    return 0;
}
