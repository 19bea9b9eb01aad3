/* What the process-pool tests share: a work function, a pool with the options a case needs, and
 * the result of a future with a finite wait (a hung pool is a failure, not a hang). */
#ifndef CONC_TESTS_EXECUTOR_UTIL_H
#define CONC_TESTS_EXECUTOR_UTIL_H

#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "test.h"

/* The work both files submit: its argument twice over. */
static int twice(const void *arg, size_t len, conc_bytes_t *out) {
    out->data = malloc(len * 2 + 1);
    memcpy(out->data, arg, len);
    memcpy((char *)out->data + len, arg, len);
    out->len = len * 2;
    return 0;
}
CONC_WORK(twice)

static inline conc_executor_t *pool_with(conc_start_method_t m, unsigned n, unsigned max_tasks,
                                         const char *init) {
    conc_pool_opts_t o = {.method = m, .max_tasks_per_child = max_tasks, .initializer = init};
    conc_executor_t *ex;
    assert_int_equal(conc_process_pool_new(&ex, n, &o), 0);
    return ex;
}

static inline int result_of(conc_future_t *f, conc_bytes_t **b) {
    assert_int_equal(conc_future_wait(f, 60), 0);
    void *v = NULL;
    int r = conc_future_result(f, &v);
    if (b) *b = v;
    return r;
}

#endif
