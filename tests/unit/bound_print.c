/* conc_bound_print: the aligned table and the JSON object, including strings that need escaping
 * and numbers JSON cannot hold. The JSON is checked with Python's parser when python3 exists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "test.h"

static char *print(const conc_bound_report_t *r, int json) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    conc_bound_print(f, r, json);
    fclose(f);
    return buf;
}

static bool have_python(void) {
    return system("command -v python3 >/dev/null 2>&1") == 0;
}

/* Feed json to Python, which asserts the expression `check` about the parsed object d. */
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

static conc_bound_report_t sample(void) {
    conc_bound_report_t r;
    memset(&r, 0, sizeof r);
    r.wall = 0.503;
    r.user = 0.497;
    r.sys = 0.001;
    r.cpu_wait = 0.002;
    r.peak_threads = 3;
    r.voluntary_switches = 2;
    r.involuntary_switches = 14;
    r.bytes_read = 1229;
    r.bytes_written = 0;
    r.exit_status = 0;
    strcpy(r.command, "sh -c 'exit 0'");
    conc_bound_classify(&r);
    return r;
}

static void table_has_one_aligned_row_per_measure(void **state) {
    (void)state;
    conc_bound_report_t r = sample();
    char *s = print(&r, 0);
    const char *rows[] = {"command        sh -c 'exit 0'\n",
                          "exit           status 0\n",
                          "wall           0.503 s\n",
                          "user / sys     0.497 s / 0.001 s\n",
                          "utilisation    99% (parallelism 1.0)\n",
                          "CPU wait       0.002 s",
                          "peak threads   3\n",
                          "switches       2 voluntary, 14 involuntary\n",
                          "bytes read     1.2 KiB   written 0 B\n",
                          "verdict        CPU-bound: CPU busy 99% of wall time"};
    const char *at = s;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *row = strstr(at, rows[i]);
        if (!row) fail_msg("missing row '%s' in:\n%s", rows[i], s);
        assert_true(row == s || row[-1] == '\n'); /* each row starts a line, in this order */
        at = row + 1;
    }
    free(s);
}

static void table_says_io_wait_and_signals(void **state) {
    (void)state;
    conc_bound_report_t r = sample();
    r.user = r.sys = 0.001;
    r.exit_status = -9;
    r.bytes_read = 3u << 20;
    r.bytes_written = 5ull << 30;
    strcpy(r.command, "a\nb");
    conc_bound_classify(&r);
    char *s = print(&r, 0);
    assert_non_null(strstr(s, "verdict        IO/wait-bound: CPU idle"));
    assert_non_null(strstr(s, "exit           killed by signal 9\n"));
    assert_non_null(strstr(s, "bytes read     3.0 MiB   written 5.0 GiB\n"));
    assert_non_null(strstr(s, "command        a?b\n")); /* a control character cannot break rows */
    free(s);
}

static void function_report_has_no_command_rows(void **state) {
    (void)state;
    conc_bound_report_t r = sample();
    r.command[0] = 0;
    char *s = print(&r, 0);
    assert_null(strstr(s, "command"));
    assert_null(strstr(s, "exit "));
    assert_true(strncmp(s, "wall ", 5) == 0);
    free(s);
    s = print(&r, 1);
    assert_non_null(strstr(s, "\"command\": null"));
    python_check(s, "d[\"command\"] is None");
    free(s);
}

static void json_is_one_object_with_every_key(void **state) {
    (void)state;
    conc_bound_report_t r = sample();
    char *s = print(&r, 1);
    assert_true(s[0] == '{');
    assert_non_null(strstr(s, "}\n"));
    assert_true(strchr(s, '\n') == s + strlen(s) - 1); /* one line */
    const char *keys[] = {"\"command\": \"sh -c 'exit 0'\"",
                          "\"exit_status\": 0",
                          "\"signal\": 0",
                          "\"wall\": 0.503",
                          "\"user\": 0.497",
                          "\"sys\": 0.001",
                          "\"utilisation\": 0.99",
                          "\"parallelism\": 1.0",
                          "\"cpu_wait\": 0.002",
                          "\"peak_threads\": 3",
                          "\"voluntary_switches\": 2",
                          "\"involuntary_switches\": 14",
                          "\"bytes_read\": 1229",
                          "\"bytes_written\": 0",
                          "\"verdict\": \"cpu\"",
                          "\"reason\": \"CPU busy 99% of wall time"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strstr(s, keys[i])) fail_msg("missing %s in %s", keys[i], s);
    python_check(s, "d[\"verdict\"] == \"cpu\" and d[\"peak_threads\"] == 3 and len(d) == 16");
    free(s);
}

static void json_verdicts_and_signal(void **state) {
    (void)state;
    conc_bound_report_t r = sample();
    r.exit_status = -15;
    r.user = 0.001;
    conc_bound_classify(&r);
    char *s = print(&r, 1);
    assert_non_null(strstr(s, "\"verdict\": \"io\""));
    assert_non_null(strstr(s, "\"exit_status\": -15, \"signal\": 15"));
    free(s);
    r.user = 0.25;
    conc_bound_classify(&r);
    s = print(&r, 1);
    assert_non_null(strstr(s, "\"verdict\": \"mixed\""));
    free(s);
}

static void json_escapes_strings_and_bad_utf8(void **state) {
    (void)state;
    conc_bound_report_t r = sample();
    /* quote, backslash, newline, tab, control, DEL, valid UTF-8 (é), invalid bytes */
    strcpy(r.command, "q\" b\\ n\n t\t c\x01 d\x7f \xc3\xa9 \xff \xc3");
    char *s = print(&r, 1);
    assert_non_null(
        strstr(s, "\"q\\\" b\\\\ n\\n t\\t c\\u0001 d\\u007f \xc3\xa9 \\ufffd \\ufffd\""));
    python_check(s, "d[\"command\"] == \"q\\\" b\\\\ n\\n t\\t c\\x01 d\\x7f \\u00e9 \\ufffd "
                    "\\ufffd\"");
    free(s);
}

static void json_has_no_nan(void **state) {
    (void)state;
    conc_bound_report_t r = sample();
    r.wall = NAN;
    r.user = INFINITY;
    r.utilisation = NAN;
    char *s = print(&r, 1);
    assert_null(strstr(s, "nan"));
    assert_null(strstr(s, "inf"));
    python_check(s, "d[\"wall\"] == 0");
    free(s);
}

CONC_TEST_MAIN(cmocka_unit_test(table_has_one_aligned_row_per_measure),
               cmocka_unit_test(table_says_io_wait_and_signals),
               cmocka_unit_test(function_report_has_no_command_rows),
               cmocka_unit_test(json_is_one_object_with_every_key),
               cmocka_unit_test(json_verdicts_and_signal),
               cmocka_unit_test(json_escapes_strings_and_bad_utf8),
               cmocka_unit_test(json_has_no_nan))
