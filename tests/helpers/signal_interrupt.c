/* Child program for tests/unit/signal_interrupt.c: KeyboardInterrupt after conc_init.
 * argv[1] picks the scenario; it reports on stdout and takes orders on stdin (signal_proc.h). */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include "conc.h"
#include "internal/base.h"
#include "internal/hooks.h"
#include "signal_proc.h"

/* Sleep in conc__wait until it returns something other than "woken, re-check". */
static int wait_for_result(uint32_t *word, double deadline) {
    int r;
    do r = conc__wait(word, 0, deadline, false);
    while (r == 0 && __atomic_load_n(word, __ATOMIC_ACQUIRE) == 0);
    return r;
}

/* Main thread sleeps in conc__wait; the test sends SIGINT. */
static int blocked_wait(void) {
    if (conc_init(0, NULL) != 0 || conc_init(0, NULL) != 0) return 2; /* idempotent */
    uint32_t w = 0;
    say("ready");
    int r = wait_for_result(&w, INFINITY);
    say("%s", conc_errname(r));
    /* consumed once: the next wait sleeps to its deadline */
    double t0 = conc_monotonic();
    r = wait_for_result(&w, conc_deadline(0.2));
    say("%s %.3f", conc_errname(r), conc_monotonic() - t0);
    return 0;
}

/* A thread conc did not start sleeps in conc__wait too; SIGINT sent to that very thread. */
static uint32_t thread_tid, thread_word, thread_saw_eintr;

static void *other_thread(void *unused) {
    (void)unused;
    __atomic_store_n(&thread_tid, (uint32_t)gettid(), __ATOMIC_RELEASE);
    conc__futex_wake(&thread_tid, 1, false);
    while (__atomic_load_n(&thread_word, __ATOMIC_ACQUIRE) == 0)
        if (conc__wait(&thread_word, 0, INFINITY, false) == -EINTR)
            __atomic_store_n(&thread_saw_eintr, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int other_thread_waits_on(void) {
    if (conc_init(0, NULL) != 0) return 2;
    pthread_t th;
    if (pthread_create(&th, NULL, other_thread, NULL) != 0) return 2;
    while (__atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE) == 0)
        conc__wait_nointr(&thread_tid, 0, INFINITY, false);
    say("ready %u", thread_tid);
    uint32_t w = 0;
    say("main %s", conc_errname(wait_for_result(&w, INFINITY)));
    __atomic_store_n(&thread_word, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&thread_word, 1, false);
    pthread_join(th, NULL);
    say("thread %s", thread_saw_eintr ? "EINTR" : "OK");
    return 0;
}

/* A thread that reports when the main thread's SIGINT handler has run, by watching the futex
 * word the handler bumps (and wakes, as shared). It blocks the async signals, as conc threads. */
struct watcher {
    uint32_t seq0;
    const char *what;
};

static void *watch(void *arg) {
    struct watcher *w = arg;
    while (__atomic_load_n(&conc__intr_seq, __ATOMIC_ACQUIRE) == w->seq0)
        conc__wait_nointr(&conc__intr_seq, w->seq0, INFINITY, true);
    say("%s %s pending %u", w->what, conc_errname(conc_check_interrupt()),
        __atomic_load_n(&conc__intr_pending, __ATOMIC_ACQUIRE));
    return NULL;
}

static pthread_t start_watcher(struct watcher *w, const char *what) {
    w->seq0 = __atomic_load_n(&conc__intr_seq, __ATOMIC_ACQUIRE);
    w->what = what;
    sigset_t old;
    conc__block_async_signals(&old);
    pthread_t th;
    if (pthread_create(&th, NULL, watch, w) != 0) _exit(2);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return th;
}

/* conc_check_interrupt: 0 in another thread, -EINTR once in the main thread, also when a CPU
 * loop is what the SIGINT interrupts. */
static int check_in_loop(void) {
    if (conc_init(0, NULL) != 0) return 2;
    struct watcher w;
    pthread_t th = start_watcher(&w, "thread");
    say("ready");
    char line[64];
    hear(line, sizeof line); /* blocked outside conc: the interrupt stays pending */
    pthread_join(th, NULL);
    int first = conc_check_interrupt(), second = conc_check_interrupt();
    say("main %s %s", conc_errname(first), conc_errname(second));
    say("spinning");
    double end = conc_monotonic() + 20;
    int r = 0;
    while (r == 0 && conc_monotonic() < end) r = conc_check_interrupt();
    int extra = 0;
    for (int i = 0; i < 1000; i++) extra += conc_check_interrupt() != 0;
    say("spun %s %d", conc_errname(r), extra);
    return 0;
}

/* A second SIGINT while the first is unconsumed kills. The main thread never calls conc. */
static int never_consume(void) {
    if (conc_init(0, NULL) != 0) return 2;
    struct watcher w;
    start_watcher(&w, "first");
    say("ready");
    char line[64];
    for (;;) hear(line, sizeof line);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "wait")) return blocked_wait();
    if (!strcmp(argv[1], "thread")) return other_thread_waits_on();
    if (!strcmp(argv[1], "check")) return check_in_loop();
    if (!strcmp(argv[1], "twice")) return never_consume();
    return 2;
}
