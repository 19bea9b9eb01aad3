/* `conc vm run` as a user runs it: the sample programs in vm/examples (a countdown, a threaded
 * countdown, an IO loop through a pipe whose blocking reads and writes release the GIL), the
 * countdown in several threads at once, and the CLI's answers to broken programs: the loader's
 * FILE:LINE message and exit status 2, a runtime error's message and exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

#define CLI CONC_BINARY_DIR "/tools/conc/conc"
#define EX  CONC_SOURCE_DIR "/vm/examples/"

/* Run a shell command, stdout and stderr together into out; its exit status. */
static int run(const char *cmd, char *out, size_t cap) {
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    fprintf(stderr, "---- %s ----\n%s", cmd, out);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void countdown(void **state) {
    (void)state;
    char out[4096];
    assert_int_equal(run(CLI " vm run " EX "countdown.s 2>&1", out, sizeof out), 0);
    assert_string_equal(out, "0\n");
    assert_int_equal(run(CLI " vm run " EX "countdown.s --threads 3 --stats 2>&1", out, sizeof out),
                     0);
    assert_non_null(strstr(out, "0\n0\n0\n"));
    assert_non_null(strstr(out, "3 threads, "));
    assert_non_null(strstr(out, "switches"));
}

static void threads(void **state) {
    (void)state;
    char out[4096];
    assert_int_equal(run(CLI " vm run " EX "threads.s 2>&1", out, sizeof out), 0);
    assert_string_equal(out, "0\n");
}

static void io_loop(void **state) {
    (void)state;
    char out[4096];
    assert_int_equal(run(CLI " vm run " EX "io.s 2>&1", out, sizeof out), 0);
    assert_string_equal(out, "1000\n7000\n");
    /* check-interval-free, io_priority on: the same answer */
    assert_int_equal(
        run(CLI " vm run --io-priority --switch-interval 1 " EX "io.s 2>&1", out, sizeof out), 0);
    assert_string_equal(out, "1000\n7000\n");
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void errors(void **state) {
    (void)state;
    char out[4096], path[64], cmd[256];
    snprintf(path, sizeof path, "/tmp/conc_vm_test_%d.s", (int)getpid());
    write_file(path, "func main 0\n  push 1\n  pus 2\n  ret\nend\n");
    snprintf(cmd, sizeof cmd, CLI " vm run %s 2>&1", path);
    assert_int_equal(run(cmd, out, sizeof out), 2);
    char want[128];
    snprintf(want, sizeof want, "%s:3: unknown instruction 'pus'\n", path);
    assert_string_equal(out, want);
    snprintf(cmd, sizeof cmd, CLI " vm check %s 2>&1", path);
    assert_int_equal(run(cmd, out, sizeof out), 2);

    write_file(path, "func main 0\n  push 1\n  push 0\n  div\n  ret\nend\n");
    snprintf(cmd, sizeof cmd, CLI " vm run %s 2>&1", path);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    snprintf(want, sizeof want, "%s:4: division by zero\n", path);
    assert_string_equal(out, want);
    snprintf(cmd, sizeof cmd, CLI " vm check %s 2>&1", path);
    assert_int_equal(run(cmd, out, sizeof out), 0);

    write_file(path, "func main 2\n  push 0\n  ret\nend\n");
    snprintf(cmd, sizeof cmd, CLI " vm run %s 2>&1", path);
    assert_int_equal(run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "main must take 0 or 1 arguments"));
    unlink(path);

    assert_int_equal(run(CLI " vm run /nonexistent.s 2>&1", out, sizeof out), 2);
    assert_string_equal(out, "/nonexistent.s: cannot read: No such file or directory\n");
    assert_int_equal(run(CLI " vm run 2>&1", out, sizeof out), 2);
    assert_int_equal(run(CLI " vm run " EX "io.s --threads 0 2>&1", out, sizeof out), 2);
    assert_int_equal(run(CLI " vm frobnicate 2>&1", out, sizeof out), 2);
}

CONC_TEST_MAIN(cmocka_unit_test(countdown), cmocka_unit_test(threads), cmocka_unit_test(io_loop),
               cmocka_unit_test(errors))
