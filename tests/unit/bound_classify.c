/* The verdict rule on made-up numbers: thresholds, CPU wait counted as demand, and reasons that
 * quote the numbers. */
#include <string.h>
#include "conc.h"
#include "test.h"

static conc_bound_report_t report(double wall, double user, double sys, double cpu_wait,
                                  unsigned long long vol) {
    conc_bound_report_t r;
    memset(&r, 0, sizeof r);
    r.wall = wall;
    r.user = user;
    r.sys = sys;
    r.cpu_wait = cpu_wait;
    r.voluntary_switches = vol;
    conc_bound_classify(&r);
    return r;
}

static void busy_core_is_cpu_bound(void **state) {
    (void)state;
    conc_bound_report_t r = report(1.0, 0.97, 0.01, 0, 2);
    assert_int_equal(r.verdict, CONC_BOUND_CPU);
    assert_true(r.utilisation > 0.97 && r.utilisation < 0.99);
    assert_string_equal(r.reason,
                        "CPU busy 98% of wall time (parallelism 1.0): the work is computation");
}

static void two_busy_cores_name_the_cores(void **state) {
    (void)state;
    conc_bound_report_t r = report(0.5, 0.95, 0.02, 0, 2);
    assert_int_equal(r.verdict, CONC_BOUND_CPU);
    assert_non_null(strstr(r.reason, "CPU busy 194% of wall time (parallelism 1.9, on ~2 cores)"));
    r = report(1.0, 1.4, 0, 0, 0);
    assert_non_null(strstr(r.reason, "(parallelism 1.4, on ~2 cores)"));
    r = report(1.0, 2.6, 0, 0, 0);
    assert_non_null(strstr(r.reason, "(parallelism 2.6, on ~3 cores)"));
    r = report(1.0, 1.2, 0, 0, 0); /* up to 1.3 it is still "about one core" */
    assert_null(strstr(r.reason, "cores"));
}

static void idle_cpu_is_io_bound(void **state) {
    (void)state;
    conc_bound_report_t r = report(1.0, 0.01, 0.02, 0, 3);
    assert_int_equal(r.verdict, CONC_BOUND_IO);
    assert_string_equal(r.reason, "CPU idle 97% of wall time: waiting on I/O, sleep or other "
                                  "processes; 3 voluntary switches");
    r = report(1.0, 0, 0, 0, 1);
    assert_non_null(strstr(r.reason, "CPU idle 100%"));
    assert_non_null(strstr(r.reason, "; 1 voluntary switch"));
    assert_null(strstr(r.reason, "switches"));
}

static void half_busy_is_mixed(void **state) {
    (void)state;
    conc_bound_report_t r = report(2.0, 0.8, 0.2, 0, 40);
    assert_int_equal(r.verdict, CONC_BOUND_MIXED);
    assert_string_equal(r.reason, "CPU busy 50% of wall time (parallelism 0.5), idle 50%: part "
                                  "computation, part waiting; 40 voluntary switches");
}

static void thresholds_are_inclusive(void **state) {
    (void)state;
    assert_int_equal(report(1.0, 0.7, 0, 0, 0).verdict, CONC_BOUND_CPU);
    assert_int_equal(report(1.0, 0.69, 0, 0, 0).verdict, CONC_BOUND_MIXED);
    assert_int_equal(report(1.0, 0.3, 0, 0, 0).verdict, CONC_BOUND_IO);
    assert_int_equal(report(1.0, 0.31, 0, 0, 0).verdict, CONC_BOUND_MIXED);
    assert_true(CONC_BOUND_IO_AT < CONC_BOUND_CPU_AT);
}

/* A busy loop that got half a core on a loaded machine waited for a CPU, not for I/O. */
static void waiting_for_a_core_counts_as_cpu_demand(void **state) {
    (void)state;
    conc_bound_report_t r = report(1.0, 0.45, 0.0, 0.5, 1);
    assert_int_equal(r.verdict, CONC_BOUND_CPU);
    assert_true(r.utilisation > 0.44 && r.utilisation < 0.46);
    assert_string_equal(r.reason, "CPU busy 45% of wall time (parallelism 0.5) and waiting for a "
                                  "free core 50%: the work is computation");
    r = report(1.0, 0.35, 0.0, 0.2, 1);
    assert_int_equal(r.verdict, CONC_BOUND_MIXED);
    assert_non_null(strstr(r.reason, "(parallelism 0.3), waiting for a free core 20%, idle 45%"));
}

/* Waiting for a core alone does not make work that hardly ran mixed: the wait decides only between
 * CPU-bound and the rest. (Measurements weight each thread's wait by how much of its life it
 * wanted a CPU before it gets here.) */
static void waiting_without_running_is_not_computation(void **state) {
    (void)state;
    conc_bound_report_t r = report(1.0, 0.1, 0.0, 0.4, 12);
    assert_int_equal(r.verdict, CONC_BOUND_IO);
    assert_non_null(strstr(r.reason, "CPU idle 90% of wall time"));
    assert_int_equal(report(1.0, 0.3, 0.0, 0.55, 12).verdict, CONC_BOUND_IO);
    assert_int_equal(report(1.0, 0.3, 0.0, 0.6, 12).verdict, CONC_BOUND_CPU);
    /* a sleeper delayed on a loaded machine: little CPU, long runnable waits */
    assert_int_equal(report(0.48, 0.023, 0.0, 0.38, 4).verdict, CONC_BOUND_IO);
}

static void degenerate_numbers_do_not_break_it(void **state) {
    (void)state;
    conc_bound_report_t r = report(0, 0, 0, 0, 0);
    assert_int_equal(r.verdict, CONC_BOUND_IO);
    assert_true(r.utilisation == 0);
    r = report(0, 1, 1, 0, 0); /* CPU without wall time: treated as no measurement */
    assert_true(r.utilisation == 0);
    r = report(1e-9, 1e6, 0, 0, 0);
    assert_int_equal(r.verdict, CONC_BOUND_CPU);
    assert_true(strlen(r.reason) < sizeof r.reason);
}

static void verdict_names(void **state) {
    (void)state;
    assert_string_equal(conc_bound_verdict_name(CONC_BOUND_CPU), "CPU-bound");
    assert_string_equal(conc_bound_verdict_name(CONC_BOUND_IO), "IO-bound");
    assert_string_equal(conc_bound_verdict_name(CONC_BOUND_MIXED), "mixed");
    assert_string_equal(conc_bound_verdict_name((conc_bound_verdict_t)0), "unknown");
}

CONC_TEST_MAIN(cmocka_unit_test(busy_core_is_cpu_bound),
               cmocka_unit_test(two_busy_cores_name_the_cores),
               cmocka_unit_test(idle_cpu_is_io_bound), cmocka_unit_test(half_busy_is_mixed),
               cmocka_unit_test(thresholds_are_inclusive),
               cmocka_unit_test(waiting_for_a_core_counts_as_cpu_demand),
               cmocka_unit_test(waiting_without_running_is_not_computation),
               cmocka_unit_test(degenerate_numbers_do_not_break_it),
               cmocka_unit_test(verdict_names))
