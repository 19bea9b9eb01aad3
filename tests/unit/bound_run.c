/* conc_bound_run: real commands, measured. Workloads run for a wall-clock duration (helper
 * bound_burn), so the verdicts hold under sanitizers and on a shared machine. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

#define BURN CONC_TEST_HELPER("bound_burn")

static conc_bound_report_t run(char *const argv[]) {
    conc_bound_report_t r;
    int err = conc_bound_run(argv, &r);
    if (err) fail_msg("conc_bound_run(%s): %s", argv[0], conc_strerror(err));
    print_message("%s\n", r.command);
    conc_bound_print(stderr, &r, 0);
    return r;
}

static void busy_loop_is_cpu_bound(void **state) {
    (void)state;
    conc_bound_report_t r = run((char *[]){BURN, "--seconds", "0.4", NULL});
    assert_int_equal(r.verdict, CONC_BOUND_CPU);
    assert_int_equal(r.exit_status, 0);
    assert_true(r.wall >= 0.4 && r.wall < 10);
    /* it ran or waited for a core nearly all the time (it may get only part of one) */
    assert_true(r.user + r.sys + r.cpu_wait > 0.3);
    assert_true(r.user + r.sys > 0.02);
    assert_true(r.peak_threads >= 1);
    assert_non_null(strstr(r.reason, "CPU busy"));
    assert_non_null(strstr(r.reason, "the work is computation"));
}

static void sleep_is_io_bound(void **state) {
    (void)state;
    conc_bound_report_t r = run((char *[]){"sleep", "0.3", NULL});
    assert_int_equal(r.verdict, CONC_BOUND_IO);
    assert_true(r.wall >= 0.3 && r.wall < 5);
    assert_true(r.utilisation <= CONC_BOUND_IO_AT);
    assert_int_equal(r.peak_threads, 1);
    assert_true(r.voluntary_switches >= 1);
    assert_non_null(strstr(r.reason, "CPU idle"));
    assert_string_equal(r.command, "sleep 0.3");
}

static void reading_a_slow_pipe_is_io_bound(void **state) {
    (void)state;
    conc_bound_report_t r =
        run((char *[]){"sh", "-c", "(sleep 0.3; echo x) | cat >/dev/null", NULL});
    assert_int_equal(r.verdict, CONC_BOUND_IO);
    assert_true(r.wall >= 0.3 && r.wall < 5);
    assert_true(r.peak_threads >= 2); /* the shell's pipeline is part of the tree */
    /* a sanitized helper spends ~0.1 s of CPU starting up: wait long enough to dwarf it */
    r = run((char *[]){BURN, "--pipe", "0.8", NULL});
    assert_int_equal(r.verdict, CONC_BOUND_IO);
    assert_true(r.wall >= 0.8 && r.wall < 5);
    assert_int_equal(r.exit_status, 0);
}

static void bytes_read_and_written_are_counted(void **state) {
    (void)state;
    conc_bound_report_t r =
        run((char *[]){"sh", "-c", "head -c 1048576 /dev/zero > /dev/null", NULL});
    assert_int_equal(r.exit_status, 0);
    assert_true(r.bytes_read >= 1048576);
    assert_true(r.bytes_written >= 1048576);
    r = run((char *[]){BURN, "--read-zero", "3145728", NULL});
    assert_true(r.bytes_read >= 3145728);
    assert_true(r.bytes_read < 3145728 + (4u << 20)); /* plus what loading the program read */
    r = run((char *[]){"true", NULL});
    assert_true(r.bytes_read < 1048576);
    assert_true(r.bytes_written == 0);
}

static void exit_status_and_signals_pass_through(void **state) {
    (void)state;
    conc_bound_report_t r = run((char *[]){"sh", "-c", "exit 7", NULL});
    assert_int_equal(r.exit_status, 7);
    r = run((char *[]){BURN, "--sleep", "0", "--exit", "3", NULL});
    assert_int_equal(r.exit_status, 3);
    r = run((char *[]){"sh", "-c", "kill -TERM $$", NULL});
    assert_int_equal(r.exit_status, -SIGTERM);
}

static void a_missing_command_is_enoent(void **state) {
    (void)state;
    conc_bound_report_t r;
    assert_int_equal(conc_bound_run((char *[]){"conc-no-such-command-xyz", NULL}, &r), -ENOENT);
    assert_int_equal(conc_bound_run((char *[]){"/nonexistent/dir/cmd", NULL}, &r), -ENOENT);
}

static void a_file_that_is_not_executable_is_eacces(void **state) {
    (void)state;
    char path[] = "/tmp/conc_bound_noexec_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);
    assert_int_equal(chmod(path, 0644), 0);
    conc_bound_report_t r;
    int err = conc_bound_run((char *[]){path, NULL}, &r);
    unlink(path);
    assert_int_equal(err, -EACCES);
}

static void bad_arguments_are_einval(void **state) {
    (void)state;
    conc_bound_report_t r;
    assert_int_equal(conc_bound_run(NULL, &r), -EINVAL);
    assert_int_equal(conc_bound_run((char *[]){NULL}, &r), -EINVAL);
    assert_int_equal(conc_bound_run((char *[]){"true", NULL}, NULL), -EINVAL);
}

static void the_command_line_is_quoted_and_cut(void **state) {
    (void)state;
    conc_bound_report_t r = run((char *[]){"sh", "-c", "exit 0", "it's", "", "a-b_c/d.e", NULL});
    assert_string_equal(r.command, "sh -c 'exit 0' 'it'\\''s' '' a-b_c/d.e");
    char *argv[102];
    argv[0] = "true";
    for (int i = 1; i < 101; i++) argv[i] = "abcdefgh";
    argv[101] = NULL;
    r = run(argv);
    size_t n = strlen(r.command);
    assert_true(n < sizeof r.command);
    assert_string_equal(r.command + n - 3, "...");
    assert_int_equal(strncmp(r.command, "true abcdefgh abcdefgh", 22), 0);
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void nothing_leaks(void **state) {
    (void)state;
    int before = count_fds();
    conc_bound_report_t r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(conc_bound_run((char *[]){"true", NULL}, &r), 0);
        assert_int_equal(conc_bound_run((char *[]){"conc-no-such-command-xyz", NULL}, &r), -ENOENT);
    }
    assert_int_equal(count_fds(), before);
}

CONC_TEST_MAIN(cmocka_unit_test(busy_loop_is_cpu_bound), cmocka_unit_test(sleep_is_io_bound),
               cmocka_unit_test(reading_a_slow_pipe_is_io_bound),
               cmocka_unit_test(bytes_read_and_written_are_counted),
               cmocka_unit_test(exit_status_and_signals_pass_through),
               cmocka_unit_test(a_missing_command_is_enoent),
               cmocka_unit_test(a_file_that_is_not_executable_is_eacces),
               cmocka_unit_test(bad_arguments_are_einval),
               cmocka_unit_test(the_command_line_is_quoted_and_cut),
               cmocka_unit_test(nothing_leaks))
