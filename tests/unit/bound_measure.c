/* conc_bound_measure: a function in this process - CPU, sleep, threads it starts, bytes it moves -
 * and the measurement's own sampler thread and /proc reads left out of the numbers. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

static void burn(void *arg) {
    double end = conc_monotonic() + *(double *)arg;
    volatile unsigned long x = 1;
    while (conc_monotonic() < end)
        for (int i = 0; i < 4096; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
}

static void nap(void *arg) {
    double s = *(double *)arg;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0) {
    }
}

static unsigned proc_threads(void) {
    char buf[4096];
    FILE *f = fopen("/proc/self/status", "r");
    unsigned n = 0;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "Threads: %u", &n) == 1) break;
    fclose(f);
    return n;
}

static void *nothing(void *arg) {
    return arg;
}

/* Threads now, after any a sanitizer runtime starts lazily at the first pthread_create. */
static unsigned threads_now(void) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, nothing, NULL), 0);
    pthread_join(t, NULL);
    return proc_threads();
}

static conc_bound_report_t measure(void (*fn)(void *), void *arg) {
    conc_bound_report_t r;
    assert_int_equal(conc_bound_measure(fn, arg, &r), 0);
    conc_bound_print(stderr, &r, 0);
    return r;
}

static void cpu_function_is_cpu_bound(void **state) {
    (void)state;
    double s = 0.3;
    conc_bound_report_t r = measure(burn, &s);
    assert_int_equal(r.verdict, CONC_BOUND_CPU);
    assert_true(r.wall >= 0.3 && r.wall < 10);
    assert_true(r.user + r.sys + r.cpu_wait > 0.2); /* it may get only part of a core */
    assert_true(r.user + r.sys > 0.02);
    assert_true(r.peak_threads >= 1);
    assert_int_equal(r.exit_status, 0);
    assert_string_equal(r.command, "");
}

static void sleeping_function_is_io_bound(void **state) {
    (void)state;
    double s = 0.3;
    unsigned before = threads_now();
    conc_bound_report_t r = measure(nap, &s);
    assert_int_equal(r.verdict, CONC_BOUND_IO);
    assert_true(r.wall >= 0.3 && r.wall < 5);
    assert_true(r.utilisation < 0.1);
    /* the sampler thread is not counted, nor its wake-ups (it woke ~40 times) */
    assert_int_equal(r.peak_threads, before);
    assert_true(r.voluntary_switches < 10);
}

/* rchar counts the sampler's reads of /proc too; they are taken back out. */
static void the_measurement_reads_nothing_itself(void **state) {
    (void)state;
    double s = 0.3;
    conc_bound_report_t r = measure(nap, &s);
    assert_true(r.bytes_read < 512);
    assert_true(r.bytes_written == 0);
}

static void read_zero(void *arg) {
    static char buf[65536];
    size_t left = *(size_t *)arg;
    int fd = open("/dev/zero", O_RDONLY);
    while (left > 0) {
        ssize_t n = read(fd, buf, left < sizeof buf ? left : sizeof buf);
        if (n <= 0) break;
        left -= (size_t)n;
    }
    close(fd);
}

static void write_null(void *arg) {
    static char buf[65536];
    size_t left = *(size_t *)arg;
    int fd = open("/dev/null", O_WRONLY);
    while (left > 0) {
        ssize_t n = write(fd, buf, left < sizeof buf ? left : sizeof buf);
        if (n <= 0) break;
        left -= (size_t)n;
    }
    close(fd);
}

static void bytes_are_counted(void **state) {
    (void)state;
    size_t n = 1 << 20;
    conc_bound_report_t r = measure(read_zero, &n);
    assert_true(r.bytes_read >= n && r.bytes_read < n + 4096);
    n = 3 << 18;
    r = measure(write_null, &n);
    assert_true(r.bytes_written >= n && r.bytes_written < n + 4096);
}

static void *nap_thread(void *arg) {
    nap(arg);
    return NULL;
}

static void start_two_nappers(void *arg) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, nap_thread, arg), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

static void threads_the_function_starts_are_counted(void **state) {
    (void)state;
    double s = 0.2; /* long enough for several samples; not a synchronisation sleep */
    unsigned before = threads_now();
    conc_bound_report_t r = measure(start_two_nappers, &s);
    assert_int_equal(r.peak_threads, before + 2);
    assert_int_equal(r.verdict, CONC_BOUND_IO);
}

static void bad_arguments_are_einval(void **state) {
    (void)state;
    conc_bound_report_t r;
    double s = 0;
    assert_int_equal(conc_bound_measure(NULL, NULL, &r), -EINVAL);
    assert_int_equal(conc_bound_measure(nap, &s, NULL), -EINVAL);
}

CONC_TEST_MAIN(cmocka_unit_test(cpu_function_is_cpu_bound),
               cmocka_unit_test(sleeping_function_is_io_bound),
               cmocka_unit_test(the_measurement_reads_nothing_itself),
               cmocka_unit_test(bytes_are_counted),
               cmocka_unit_test(threads_the_function_starts_are_counted),
               cmocka_unit_test(bad_arguments_are_einval))
