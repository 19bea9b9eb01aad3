/* Loop signal handlers: the callback runs on the loop's thread, for a signal sent to the process
 * and for one the kernel hands to another thread (forwarded); repeated signals; replacing and
 * removing a handler (the previous disposition comes back); bad signals; one loop per signal.
 * Signals go only to this test's own process (each case is a process of its own). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

struct hits {
    int n;
    int last;
    pthread_t thread;
    conc_aevent_t ev;
};

static void on_sig(int signo, void *arg) {
    struct hits *h = arg;
    h->n++;
    h->last = signo;
    h->thread = pthread_self();
    conc_aevent_set(&h->ev);
}

static void *killer(void *arg) {
    /* this thread does not block the signal: the kernel may run the handler here */
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    (void)arg;
    pthread_kill(pthread_self(), SIGUSR1);
    return NULL;
}

static void *basic_main(void *arg) {
    (void)arg;
    struct hits h = {0};
    conc_aevent_init(&h.ev);
    assert_int_equal(conc_loop_add_signal_handler(NULL, SIGUSR1, on_sig, &h), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);
    assert_int_equal(conc_aevent_wait(&h.ev, 10), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.last, SIGUSR1);
    assert_true(pthread_equal(h.thread, pthread_self()));
    /* sent to a thread that does not block it: forwarded to the loop */
    conc_aevent_clear(&h.ev);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, killer, NULL), 0);
    assert_int_equal(conc_aevent_wait(&h.ev, 10), 0);
    pthread_join(th, NULL);
    assert_int_equal(h.n, 2);
    assert_true(pthread_equal(h.thread, pthread_self()));
    /* several in a row: at least one call, all on the loop */
    conc_aevent_clear(&h.ev);
    for (int i = 0; i < 5; i++) kill(getpid(), SIGUSR1);
    assert_int_equal(conc_aevent_wait(&h.ev, 10), 0);
    assert_true(h.n >= 3);
    assert_true(conc_loop_remove_signal_handler(NULL, SIGUSR1));
    assert_false(conc_loop_remove_signal_handler(NULL, SIGUSR1));
    return NULL;
}

static void handler_runs_on_loop(void **state) {
    (void)state;
    assert_int_equal(conc_run(basic_main, NULL, NULL), 0);
}

static volatile sig_atomic_t old_hits;
static void old_handler(int signo) {
    (void)signo;
    old_hits++;
}

static void *restore_main(void *arg) {
    (void)arg;
    struct hits a = {0}, b = {0};
    conc_aevent_init(&a.ev);
    conc_aevent_init(&b.ev);
    assert_int_equal(conc_loop_add_signal_handler(NULL, SIGUSR2, on_sig, &a), 0);
    assert_int_equal(conc_loop_add_signal_handler(NULL, SIGUSR2, on_sig, &b), 0); /* replaces */
    kill(getpid(), SIGUSR2);
    assert_int_equal(conc_aevent_wait(&b.ev, 10), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(old_hits, 0);
    assert_true(conc_loop_remove_signal_handler(NULL, SIGUSR2));
    kill(getpid(), SIGUSR2); /* the old handler again, unblocked here */
    assert_int_equal(old_hits, 1);
    return NULL;
}

static void remove_restores_disposition(void **state) {
    (void)state;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = old_handler;
    sigaction(SIGUSR2, &sa, NULL);
    assert_int_equal(conc_run(restore_main, NULL, NULL), 0);
    sigset_t m;
    pthread_sigmask(SIG_SETMASK, NULL, &m);
    assert_false(sigismember(&m, SIGUSR2));
}

static void *other_loop(void *arg) {
    conc_loop_t *loop = conc_loop_new();
    struct hits h = {0};
    *(int *)arg = conc_loop_add_signal_handler(loop, SIGUSR1, on_sig, &h);
    conc_loop_free(loop);
    return NULL;
}

static void *bad_main(void *arg) {
    (void)arg;
    struct hits h = {0};
    assert_int_equal(conc_loop_add_signal_handler(NULL, SIGKILL, on_sig, &h), -EINVAL);
    assert_int_equal(conc_loop_add_signal_handler(NULL, SIGSEGV, on_sig, &h), -EINVAL);
    assert_int_equal(conc_loop_add_signal_handler(NULL, 0, on_sig, &h), -EINVAL);
    assert_int_equal(conc_loop_add_signal_handler(NULL, 65, on_sig, &h), -EINVAL);
    assert_int_equal(conc_loop_add_signal_handler(NULL, SIGUSR1, NULL, &h), -EINVAL);
    assert_int_equal(conc_loop_add_signal_handler(NULL, SIGUSR1, on_sig, &h), 0);
    int r = 0;
    pthread_t th;
    pthread_create(&th, NULL, other_loop, &r);
    pthread_join(th, NULL);
    assert_int_equal(r, -EBUSY);
    return NULL; /* freeing the loop removes the handler */
}

static void bad_signals_and_busy(void **state) {
    (void)state;
    assert_int_equal(conc_run(bad_main, NULL, NULL), 0);
    sigset_t m;
    pthread_sigmask(SIG_SETMASK, NULL, &m);
    assert_false(sigismember(&m, SIGUSR1));
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    assert_true(sa.sa_handler == SIG_DFL);
}

CONC_TEST_MAIN(cmocka_unit_test(handler_runs_on_loop),
               cmocka_unit_test(remove_restores_disposition),
               cmocka_unit_test(bad_signals_and_busy))
