/* `conc bound` end to end: the real binary, its report, its JSON, and its exit statuses (the
 * command's, 128+signo, 127 not found, 126 not executable, 2 usage errors). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

#define CONC CONC_BINARY_DIR "/tools/conc/conc"
#define BURN CONC_TEST_HELPER("bound_burn")

typedef struct {
    int status; /* exit status, 128+signo if killed */
    char out[16384], err[4096];
} result_t;

static result_t res;

static void slurp(FILE *f, char *buf, size_t size) {
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

/* Run conc with args (NULL-terminated), capturing stdout and stderr into res. */
static result_t *conc(const char *first, ...) {
    char *argv[32] = {CONC, (char *)first};
    va_list ap;
    va_start(ap, first);
    for (int i = 2; i < 31 && (argv[i - 1]); i++) argv[i] = va_arg(ap, char *);
    va_end(ap);
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        execv(CONC, argv);
        _exit(99);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp(out, res.out, sizeof res.out);
    slurp(err, res.err, sizeof res.err);
    print_message("exit %d\nstdout: %s\nstderr: %s\n", res.status, res.out, res.err);
    return &res;
}

static bool have_python(void) {
    return system("command -v python3 >/dev/null 2>&1") == 0;
}

static void python_check(const char *json, const char *check) {
    if (!have_python()) return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(sys.stdin); assert %s, d' 1>&2", check);
    FILE *p = popen(cmd, "w");
    assert_non_null(p);
    fputs(json, p);
    assert_int_equal(pclose(p), 0);
}

static void report_table(void **state) {
    (void)state;
    result_t *r = conc("bound", "--", "sleep", "0.3", NULL); /* not sanitized: one thread */
    assert_int_equal(r->status, 0);
    const char *rows[] = {
        "command        ", "exit           status 0\n", "wall           ",
        "user / sys     ", "utilisation    ",           "peak threads   1\n",
        "switches       ", "bytes read     ",           "verdict        IO/wait-bound: CPU idle"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (!strstr(r->out, rows[i])) fail_msg("no '%s' in the report", rows[i]);
    assert_non_null(strstr(r->out, "command        sleep 0.3\n"));
    assert_string_equal(r->err, "");
}

static void busy_loop_report(void **state) {
    (void)state;
    result_t *r = conc("bound", "--", BURN, "--seconds", "0.3", NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "verdict        CPU-bound: CPU busy"));
}

static void json_report_parses(void **state) {
    (void)state;
    result_t *r = conc("bound", "--json", "--", "sh", "-c", "exit 3", NULL);
    assert_int_equal(r->status, 3);
    assert_true(r->out[0] == '{');
    const char *keys[] = {"\"command\": \"sh -c 'exit 3'\"",
                          "\"exit_status\": 3",
                          "\"wall\": ",
                          "\"user\": ",
                          "\"sys\": ",
                          "\"utilisation\": ",
                          "\"peak_threads\": ",
                          "\"voluntary_switches\": ",
                          "\"involuntary_switches\": ",
                          "\"bytes_read\": ",
                          "\"bytes_written\": ",
                          "\"verdict\": \"",
                          "\"reason\": \""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strstr(r->out, keys[i])) fail_msg("no %s in the JSON", keys[i]);
    python_check(r->out, "d[\"exit_status\"] == 3 and d[\"verdict\"] in (\"cpu\", \"io\", "
                         "\"mixed\") and d[\"wall\"] > 0");
    r = conc("bound", "--json", "--", "sleep", "0.3", NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "\"verdict\": \"io\""));
    python_check(r->out, "d[\"verdict\"] == \"io\" and d[\"wall\"] >= 0.3");
}

static void json_survives_any_argument(void **state) {
    (void)state;
    result_t *r =
        conc("bound", "--json", "--", "sh", "-c", "exit 0", "q\"b\\s\nl\tt\x01\xff\xc3\xa9", NULL);
    assert_int_equal(r->status, 0);
    python_check(r->out, "d[\"command\"] == \"sh -c \\x27exit 0\\x27 \\x27q\\\"b\\\\s\\nl\\tt\\x01"
                         "\\ufffd\\u00e9\\x27\"");
}

static void report_to_a_file(void **state) {
    (void)state;
    char path[] = "/tmp/conc_bound_report_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    result_t *r = conc("bound", "--json", "-o", path, "--", "sh", "-c", "echo hello", NULL);
    assert_int_equal(r->status, 0);
    assert_string_equal(r->out, "hello\n"); /* the command's output alone */
    char buf[4096];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    slurp(f, buf, sizeof buf);
    unlink(path);
    assert_true(buf[0] == '{');
    python_check(buf, "d[\"command\"] == \"sh -c \\x27echo hello\\x27\"");
    r = conc("bound", "-o", "/nonexistent/dir/report", "--", "true", NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->err, "/nonexistent/dir/report"));
}

static void exit_status_passes_through(void **state) {
    (void)state;
    assert_int_equal(conc("bound", "--", "sh", "-c", "exit 7", NULL)->status, 7);
    assert_int_equal(conc("bound", "--", "true", NULL)->status, 0);
    assert_int_equal(conc("bound", "--", "false", NULL)->status, 1);
}

static void killed_by_a_signal_is_128_plus_signo(void **state) {
    (void)state;
    result_t *r = conc("bound", "--", "sh", "-c", "kill -KILL $$", NULL);
    assert_int_equal(r->status, 128 + 9);
    assert_non_null(strstr(r->out, "killed by signal 9"));
    assert_int_equal(conc("bound", "--json", "--", "sh", "-c", "kill -TERM $$", NULL)->status,
                     128 + 15);
    assert_non_null(strstr(res.out, "\"signal\": 15"));
}

static void command_not_found_is_127(void **state) {
    (void)state;
    result_t *r = conc("bound", "--", "conc-no-such-command-xyz", "arg", NULL);
    assert_int_equal(r->status, 127);
    assert_string_equal(r->err, "conc bound: conc-no-such-command-xyz: command not found\n");
    assert_string_equal(r->out, "");
    r = conc("bound", "--", "/nonexistent/dir/cmd", NULL);
    assert_int_equal(r->status, 127);
    assert_non_null(strstr(r->err, "conc bound: /nonexistent/dir/cmd: No such file or directory"));
}

static void not_executable_is_126(void **state) {
    (void)state;
    char path[] = "/tmp/conc_bound_noexec_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    chmod(path, 0644);
    result_t *r = conc("bound", "--", path, NULL);
    unlink(path);
    assert_int_equal(r->status, 126);
    assert_non_null(strstr(r->err, "Permission denied"));
    assert_string_equal(r->out, "");
}

static void usage_errors_are_2_and_run_nothing(void **state) {
    (void)state;
    char marker[] = "/tmp/conc_bound_ran_XXXXXX";
    int fd = mkstemp(marker);
    assert_true(fd >= 0);
    close(fd);
    unlink(marker); /* the command would create it */
    result_t *r = conc("bound", "touch", marker, NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->err, "'--'"));
    assert_non_null(strstr(r->err, "usage: conc bound"));
    r = conc("bound", "--frob", "--", "touch", marker, NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->err, "unknown option '--frob'"));
    r = conc("bound", "--", NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->err, "no command"));
    r = conc("bound", NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->err, "no command"));
    r = conc("bound", "--json", "-o", NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->err, "needs a file name"));
    assert_int_equal(access(marker, F_OK), -1);
}

static void help_is_0(void **state) {
    (void)state;
    result_t *r = conc("bound", "--help", NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "usage: conc bound [--json]"));
    assert_string_equal(r->err, "");
}

CONC_TEST_MAIN(cmocka_unit_test(report_table), cmocka_unit_test(busy_loop_report),
               cmocka_unit_test(json_report_parses), cmocka_unit_test(json_survives_any_argument),
               cmocka_unit_test(report_to_a_file), cmocka_unit_test(exit_status_passes_through),
               cmocka_unit_test(killed_by_a_signal_is_128_plus_signo),
               cmocka_unit_test(command_not_found_is_127), cmocka_unit_test(not_executable_is_126),
               cmocka_unit_test(usage_errors_are_2_and_run_nothing), cmocka_unit_test(help_is_0))
