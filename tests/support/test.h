/* Shared test scaffolding: cmocka plus a main that runs one case by name.
 *
 * tests/CMakeLists.txt registers every cmocka_unit_test(NAME) it finds in a test file as its own
 * ctest entry ("file.NAME") running `exe NAME`, so each case is isolated in its own process with
 * its own timeout - a deadlock fails that case alone. */
#ifndef CONC_TEST_H
#define CONC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define CONC_TEST_MAIN(...)                                                                        \
    int main(int argc, char **argv) {                                                              \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        if (argc > 1) cmocka_set_test_filter(argv[1]);                                             \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

/* Path of a helper program built from tests/helpers/NAME.c */
#define CONC_TEST_HELPER(name) CONC_TEST_HELPER_DIR "/" name

#endif
