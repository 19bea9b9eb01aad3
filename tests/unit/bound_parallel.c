/* Parallelism: two threads burning CPU measure as about two busy cores, in a command and in a
 * function. These cases run alone (RUN_SERIAL) so other tests do not take the second core.
 * On a machine other work shares anyway, a thread that waits for a core shows up as CPU wait, so
 * the check is on the CPU asked for (utilisation + CPU wait share), and utilisation itself must
 * exceed 1.4 whenever the threads did not have to wait. */
/* TEST_SERIAL */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "conc.h"
#include "test.h"

#define BURN CONC_TEST_HELPER("bound_burn")

static void check_two_cores(const conc_bound_report_t *r) {
    conc_bound_print(stderr, r, 0);
    double wait = r->cpu_wait / r->wall;
    assert_int_equal(r->verdict, CONC_BOUND_CPU);
    assert_true(r->peak_threads >= 3); /* main + 2 */
    assert_true(r->utilisation + wait > 1.4);
    if (wait < 0.2) assert_true(r->utilisation > 1.4);
    if (r->utilisation > 1.3) assert_non_null(strstr(r->reason, "on ~2 cores"));
}

static void command_with_two_busy_threads(void **state) {
    (void)state;
    conc_bound_report_t r;
    assert_int_equal(
        conc_bound_run((char *[]){BURN, "--threads", "2", "--seconds", "0.5", NULL}, &r), 0);
    assert_int_equal(r.exit_status, 0);
    assert_true(r.wall >= 0.5 && r.wall < 10);
    check_two_cores(&r);
}

static void *burn(void *arg) {
    double end = conc_monotonic() + *(double *)arg;
    volatile unsigned long x = 1;
    while (conc_monotonic() < end)
        for (int i = 0; i < 4096; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
    return NULL;
}

static void two_burners(void *arg) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, burn, arg), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

static void function_with_two_busy_threads(void **state) {
    (void)state;
    double s = 0.5;
    conc_bound_report_t r;
    assert_int_equal(conc_bound_measure(two_burners, &s, &r), 0);
    assert_true(r.wall >= 0.5 && r.wall < 10);
    check_two_cores(&r);
}

CONC_TEST_MAIN(cmocka_unit_test(command_with_two_busy_threads),
               cmocka_unit_test(function_with_two_busy_threads))
