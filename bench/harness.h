/* A tiny benchmark harness in the libdill perf/ style: time N operations with the monotonic clock,
 * calibrate N so one sample takes ~40 ms, repeat, report medians. Each row runs conc and its
 * pthread peer alternately in the same process, so both see the same machine noise, and the row's
 * ratio is the median of the per-repetition ratios. */
#ifndef CONC_BENCH_HARNESS_H
#define CONC_BENCH_HARNESS_H

#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_REPS 9

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs `iters` operations and returns the elapsed seconds. */
typedef double (*bench_fn)(long iters);

static inline int bench_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Pick an iteration count for which fn takes about target seconds. One slow sample (a partner
 * thread that took long to start) would lock onto a tiny n whose every sample then measures thread
 * start-up, so calibrate three times and keep the largest n, never fewer than 1000 operations. */
static inline long bench_calibrate_once(bench_fn fn, double target) {
    long n = 16;
    for (;;) {
        double t = fn(n);
        if (t > target / 4 || n > (1L << 40))
            return (long)((double)n * target / (t > 0 ? t : 1e-9));
        n *= 4;
    }
}

static inline long bench_calibrate(bench_fn fn, double target) {
    long best = 1000;
    for (int i = 0; i < 3; i++) {
        long n = bench_calibrate_once(fn, target);
        if (n > best) best = n;
    }
    return best;
}

/* Medians of ns/op for a and b, and the median of the per-repetition ratios a/b. */
static inline void bench_pair(const char *row, const char *unit, bench_fn a, bench_fn b) {
    long na = bench_calibrate(a, 0.04), nb = bench_calibrate(b, 0.04);
    double ta[BENCH_REPS], tb[BENCH_REPS], r[BENCH_REPS];
    for (int i = 0; i < BENCH_REPS; i++) {
        ta[i] = a(na) / (double)na * 1e9;
        tb[i] = b(nb) / (double)nb * 1e9;
        r[i] = ta[i] / tb[i];
    }
    double ratio = bench_median(r, BENCH_REPS);
    printf("%s\t%s\t%.1f\t%.1f\t%.3f\n", row, unit, bench_median(ta, BENCH_REPS),
           bench_median(tb, BENCH_REPS), ratio);
    fflush(stdout);
}

static inline void bench_pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % CPU_SETSIZE, &set);
    sched_setaffinity(0, sizeof set, &set); /* 0: the calling thread */
}

#endif
