/* The argument reaches the target byte for byte under each start method: empty, small, with zero
 * bytes, and 1 MiB (larger than a socket buffer, so the parent writes while the child reads). */
#define _GNU_SOURCE
#include <stdlib.h>
#include "process_util.h"

static unsigned char pattern(size_t i, size_t len) {
    return (unsigned char)((i * 131u + len * 7u) >> 3);
}

/* 0 if arg holds the pattern for its length; the failing check's number otherwise. */
static int check_arg(const void *arg, size_t len) {
    if (len && !arg) return 1;
    const unsigned char *b = arg;
    for (size_t i = 0; i < len; i++)
        if (b[i] != pattern(i, len)) return 2;
    return 0;
}
CONC_TARGET(check_arg)

static int exit_len(const void *arg, size_t len) {
    (void)arg;
    return (int)len;
}
CONC_TARGET(exit_len)

static void arg_of(conc_start_method_t m, size_t len) {
    unsigned char *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++) buf[i] = pattern(i, len);
    assert_int_equal(run_child(m, "check_arg", buf, len), 0);
    free(buf);
}

static void arguments(conc_start_method_t m) {
    /* Around 60 KiB a forkserver request stops riding in the control message. */
    const size_t lens[] = {0, 1, 2, 255, 4096, 61000, 61440, 65537, 1 << 20, (1 << 20) + 7};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) arg_of(m, lens[i]);
    /* NULL with length 0 is an empty argument. */
    assert_int_equal(run_child(m, "exit_len", NULL, 0), 0);
    assert_int_equal(run_child(m, "exit_len", "\0\0\0", 3), 3);
}
PER_METHOD(arguments)

PROCESS_TEST_MAIN(cmocka_unit_test(arguments_fork), cmocka_unit_test(arguments_spawn),
                  cmocka_unit_test(arguments_forkserver))
