/* IO-bound or CPU-bound? conc_bound_measure runs a function and measures the process while it
 * runs: CPU time against wall time, context switches, bytes moved, and gives a verdict.
 *
 * The seed's definition, made measurable: "if the CPU is idle mostly and some read/write is
 * happening the code is IO bound; if the CPU is executing instructions mostly it is CPU bound".
 * The same measurement is `conc bound -- CMD` for a whole command. */
#include <conc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* CPU-bound: arithmetic for about 0.3 s of wall time, never waiting. */
static void crunch(void *arg) {
    volatile unsigned long *sink = arg;
    unsigned long x = 1;
    double end = conc_monotonic() + 0.3;
    while (conc_monotonic() < end) {
        for (int i = 0; i < 10000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    }
    *sink = x;
}

/* IO-bound (waiting-bound): six short naps, as a program waiting on the network would. */
static void nap(void *arg) {
    (void)arg;
    for (int i = 0; i < 6; i++) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
}

static int measure(const char *what, void (*fn)(void *), void *arg) {
    conc_bound_report_t r;
    int err = conc_bound_measure(fn, arg, &r);
    if (err < 0) {
        fprintf(stderr, "conc_bound_measure: %s\n", conc_strerror(err));
        return -1;
    }
    printf("%-8s wall %.2f s, cpu %.2f s, utilisation %.2f -> %s (%s)\n", what, r.wall,
           r.user + r.sys, r.utilisation, conc_bound_verdict_name(r.verdict), r.reason);
    return (int)r.verdict;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    volatile unsigned long sink = 0;
    int cpu = measure("crunch:", crunch, (void *)&sink);
    int io = measure("nap:", nap, NULL);
    if (cpu != CONC_BOUND_CPU || io != CONC_BOUND_IO) return 1;
    printf("crunch is %s, nap is %s\n", conc_bound_verdict_name(cpu), conc_bound_verdict_name(io));
    return 0;
}
