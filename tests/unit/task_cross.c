/* Every context switch implementation passes the same standalone check (tests/cross/ctx_check.c):
 * the native assembly, the ucontext fallback, and the aarch64 assembly built with the cross
 * compiler and run under qemu-user (skipped when gcc-aarch64-linux-gnu or qemu-user is missing). */
/* TEST_TIMEOUT: 120 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"

static bool have(const char *tool) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* Build ctx_check with cc and the given sources/flags, run it (through runner if not NULL), and
 * assert it reports every check passed. */
static void build_and_run(const char *cc, const char *flags, const char *sources,
                          const char *runner) {
    char dir[] = "/tmp/conc-cross-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s -O2 -Wall -Wextra -Werror %s -I%s/src -I%s/include %s/tests/cross/ctx_check.c %s "
             "-lm -o %s/ctx_check 2>&1",
             cc, flags, CONC_SOURCE_DIR, CONC_SOURCE_DIR, CONC_SOURCE_DIR, sources, dir);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    snprintf(cmd, sizeof cmd, "%s %s/ctx_check > %s/out.txt 2>&1", runner ? runner : "", dir, dir);
    st = system(cmd);
    char path[512], out[2048] = "";
    snprintf(path, sizeof path, "%s/out.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    print_message("%s", out);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(out, "ok 4 callee-saved registers"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void native_assembly_switch(void **state) {
    (void)state;
#if defined(__x86_64__)
    build_and_run("cc", "",
                  CONC_SOURCE_DIR "/src/task/ctx_make.c " CONC_SOURCE_DIR "/src/task/ctx_x86_64.S",
                  NULL);
#elif defined(__aarch64__)
    build_and_run("cc", "",
                  CONC_SOURCE_DIR "/src/task/ctx_make.c " CONC_SOURCE_DIR "/src/task/ctx_aarch64.S",
                  NULL);
#else
    skip();
#endif
}

static void ucontext_fallback_switch(void **state) {
    (void)state;
    build_and_run("cc", "-DCONC_TASK_UCONTEXT", CONC_SOURCE_DIR "/src/task/ctx_ucontext.c", NULL);
}

static void aarch64_switch_under_qemu(void **state) {
    (void)state;
#if defined(__aarch64__)
    skip(); /* native_assembly_switch covers it */
#else
    if (!have("aarch64-linux-gnu-gcc") || !have("qemu-aarch64")) {
        print_message("aarch64-linux-gnu-gcc or qemu-aarch64 not installed: skipped\n");
        skip();
    }
    build_and_run("aarch64-linux-gnu-gcc", "-static",
                  CONC_SOURCE_DIR "/src/task/ctx_make.c " CONC_SOURCE_DIR "/src/task/ctx_aarch64.S",
                  "qemu-aarch64");
#endif
}

CONC_TEST_MAIN(cmocka_unit_test(native_assembly_switch), cmocka_unit_test(ucontext_fallback_switch),
               cmocka_unit_test(aarch64_switch_under_qemu))
