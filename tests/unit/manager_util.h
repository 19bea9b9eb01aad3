/* Shared scaffolding for the manager tests: a main that calls conc_init (the server runs as a conc
 * process, and spawned children re-run main), and a manager started under a given method. */
#ifndef CONC_TEST_MANAGER_UTIL_H
#define CONC_TEST_MANAGER_UTIL_H

#include <stdio.h>
#include <unistd.h>
#include "process_util.h"
#include "conc/manager.h"

static inline conc_manager_t *start_manager(conc_start_method_t method, const char *address) {
    conc_manager_opts_t o;
    memset(&o, 0, sizeof o);
    o.address = address;
    o.method = method;
    conc_manager_t *m = NULL;
    int r = conc_manager_start(&m, &o);
    if (r != 0) fail_msg("conc_manager_start: %s", conc_errname(r));
    return m;
}

static inline void expect_bytes(int r, void *v, size_t len, const char *want) {
    assert_int_equal(r, 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    free(v);
}

#endif
