/* KeyboardInterrupt while the main thread waits on a process pool's future: the waiting thread
 * takes answers from the workers' rings itself while they keep coming (process.c), and a SIGINT
 * must still end that wait with -EINTR at once, not when the awaited task is done. The body runs in
 * a forked child (after conc_init there) that the parent interrupts once answers are streaming; a
 * SIGINT that lands before the wait starts stays pending and ends it all the same. */
#include "executor_util.h"
#include "sync_util.h"

/* About 20 us of work, so that a map streams answers for a second or more. */
static int spin(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg, (void)len, (void)out;
    double end = conc_monotonic() + 20e-6;
    while (conc_monotonic() < end) {
    }
    return 0;
}
CONC_WORK(spin)

enum { TASKS = 100000 };

static int child(void *arg, int ready) {
    (void)arg;
    conc_executor_t *ex;
    if (conc_process_pool_new(&ex, 2, &(conc_pool_opts_t){.method = CONC_START_FORK}) != 0)
        return 3;
    static conc_bytes_t args[TASKS];
    static conc_future_t *fs[TASKS];
    if (conc_executor_map(ex, spin, args, TASKS, 64, fs) != 0) return 4;
    /* answers are streaming in: the wait below helps take them */
    if (conc_future_wait(fs[0], 60) != 0) return 5;
    if (write(ready, "r", 1) != 1) return 6;
    int r = conc_future_wait(fs[TASKS - 1], 60);
    if (r != -EINTR) return 7;
    if (conc_future_done(fs[TASKS - 1])) return 8; /* it waited for the whole map */
    conc_executor_shutdown(ex, true, true);
    for (size_t i = 0; i < TASKS; i++) conc_future_release(fs[i]);
    conc_executor_free(ex);
    return 0;
}

static void helping_wait_is_interrupted(void **state) {
    (void)state;
    run_interrupted_when(child, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(helping_wait_is_interrupted))
