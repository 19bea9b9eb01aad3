/* Threads conc starts block the asynchronous signals, so those reach the main thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include "conc.h"
#include "test.h"

static void *read_mask(void *arg) {
    pthread_sigmask(SIG_BLOCK, NULL, arg);
    return NULL;
}

static void async_signals_blocked_in_conc_threads(void **state) {
    (void)state;
    sigset_t before, after, inside;
    /* Something the creator blocks itself is inherited as pthread_create would. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, NULL), 0);
    pthread_sigmask(SIG_BLOCK, NULL, &before);
    assert_false(sigismember(&before, SIGINT));

    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, read_mask, &inside, NULL), 0);
    assert_int_equal(conc_thread_join(t, 10.0, NULL), 0);
    conc_thread_release(t);
    int sigs[] = {SIGINT, SIGTERM, SIGTSTP, SIGQUIT, SIGUSR1};
    for (int i = 0; i < 5; i++) assert_true(sigismember(&inside, sigs[i]));
    assert_false(sigismember(&inside, SIGUSR2));
    assert_false(sigismember(&inside, SIGHUP));

    /* The creator's own mask is left as it was. */
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    for (int s = 1; s < 32; s++) assert_int_equal(sigismember(&before, s), sigismember(&after, s));
}

CONC_TEST_MAIN(cmocka_unit_test(async_signals_blocked_in_conc_threads))
