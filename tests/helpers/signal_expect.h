/* The test side of signal_proc.h: assertions on what a signalled child prints and how it ends.
 * Kept apart because the helper programs include signal_proc.h too and have no cmocka. */
#ifndef CONC_TEST_SIGNAL_EXPECT_H
#define CONC_TEST_SIGNAL_EXPECT_H

#include <string.h>
#include <sys/wait.h>
#include "signal_proc.h"
#include "test.h"

#define SIGNAL_EXPECT_TIMEOUT 10.0 /* s: for anything the child should do at once */

static inline void expect_line(struct child *c, const char *want) {
    char line[256] = "";
    bool got = child_line(c, line, sizeof line, SIGNAL_EXPECT_TIMEOUT);
    if (!got || strcmp(line, want) != 0) fail_msg("expected \"%s\", got \"%s\"", want, line);
}

static inline void expect_exit_0(struct child *c) {
    int st = child_exit(c, SIGNAL_EXPECT_TIMEOUT);
    assert_true(st != -1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

#endif
