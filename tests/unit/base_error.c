/* Error codes, names and messages; the clock and deadlines. */
#include <math.h>
#include <string.h>
#include "conc.h"
#include "test.h"

static void every_own_code_has_a_name(void **state) {
    (void)state;
    int codes[] = {CONC_EBROKEN, CONC_ECLOSED, CONC_EAUTH, CONC_EOWNERDEAD, CONC_EPROTO};
    const char *names[] = {"CONC_EBROKEN", "CONC_ECLOSED", "CONC_EAUTH", "CONC_EOWNERDEAD",
                           "CONC_EPROTO"};
    for (size_t i = 0; i < 5; i++) {
        assert_true(codes[i] < -4000);
        assert_string_equal(conc_errname(codes[i]), names[i]);
        assert_true(strlen(conc_strerror(codes[i])) > 5);
    }
}

static void errno_codes_use_errno_names(void **state) {
    (void)state;
    int codes[] = {-ETIMEDOUT, -EINTR,     -ECANCELED, -EINVAL, -EPERM,  -ENOMEM,
                   -EPIPE,     -EOVERFLOW, -EDEADLK,   -ENOENT, -EAGAIN, -EMSGSIZE};
    const char *names[] = {"ETIMEDOUT", "EINTR",     "ECANCELED", "EINVAL", "EPERM",  "ENOMEM",
                           "EPIPE",     "EOVERFLOW", "EDEADLK",   "ENOENT", "EAGAIN", "EMSGSIZE"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_string_equal(conc_errname(codes[i]), names[i]);
        assert_string_equal(conc_strerror(codes[i]), strerror(-codes[i]));
    }
    assert_string_equal(conc_errname(0), "OK");
}

static void unknown_codes_are_said_to_be_unknown(void **state) {
    (void)state;
    assert_string_equal(conc_errname(-4999), "UNKNOWN");
    assert_string_equal(conc_errname(12345), "UNKNOWN");
    assert_non_null(conc_strerror(-4999));
    assert_non_null(conc_strerror(-100000));
}

static void deadlines(void **state) {
    (void)state;
    double t0 = conc_monotonic();
    assert_true(t0 > 0);
    assert_true(isinf(conc_deadline(CONC_FOREVER)));
    assert_true(isinf(conc_deadline(-0.5)));
    assert_true(conc_deadline_remaining(conc_deadline(-1)) < 0);
    assert_false(conc_deadline_expired(conc_deadline(-1)));
    double d = conc_deadline(10);
    assert_true(d >= t0 + 10);
    double left = conc_deadline_remaining(d);
    assert_true(left > 9 && left <= 10);
    assert_true(conc_deadline_expired(conc_deadline(0)));
    assert_true(conc_deadline_remaining(t0 - 1) == 0);
    assert_true(conc_monotonic() >= t0);
}

CONC_TEST_MAIN(cmocka_unit_test(every_own_code_has_a_name),
               cmocka_unit_test(errno_codes_use_errno_names),
               cmocka_unit_test(unknown_codes_are_said_to_be_unknown), cmocka_unit_test(deadlines))
