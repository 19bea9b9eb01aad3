/* Child program for tests/unit/loop_interrupt.c: KeyboardInterrupt in an event loop and in
 * conc_run. argv[1] picks the scenario; it reports on stdout and takes orders on stdin
 * (signal_proc.h), and the test sends it SIGINT. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include "conc.h"
#include "internal/base.h"
#include "internal/hooks.h"
#include "signal_proc.h"

static void say_ready(void *arg) {
    (void)arg;
    say("ready");
}

/* run_forever asleep in epoll_wait (the test waits until it sleeps): -EINTR, consumed once, and
 * the loop runs again afterwards. */
static void stop_cb(void *arg) {
    conc_loop_stop(arg);
}

static int forever(void) {
    if (conc_init(0, NULL) != 0) return 2;
    conc_loop_t *loop = conc_loop_new();
    conc_call_soon(loop, say_ready, NULL);
    int r = conc_loop_run(loop);
    say("run %s check %s", conc_errname(r), conc_errname(conc_check_interrupt()));
    conc_call_soon(loop, stop_cb, loop);
    say("again %s", conc_errname(conc_loop_run(loop)));
    conc_loop_free(loop);
    return 0;
}

/* A loop that never blocks: a callback re-schedules itself forever. */
static long spins;
static void spin_cb(void *arg) {
    if (++spins == 1000) say("ready"); /* busy by then */
    conc_call_soon(arg, spin_cb, arg);
}

static int busy(void) {
    if (conc_init(0, NULL) != 0) return 2;
    conc_loop_t *loop = conc_loop_new();
    conc_call_soon(loop, spin_cb, loop);
    int r = conc_loop_run(loop);
    say("run %s spun %s", conc_errname(r), spins >= 1000 ? "yes" : "no");
    conc_loop_free(loop);
    return 0;
}

/* run_until_complete on a future nobody completes. */
static int until(void) {
    if (conc_init(0, NULL) != 0) return 2;
    conc_loop_t *loop = conc_loop_new();
    conc_future_t *f = conc_future_new();
    conc_call_soon(loop, say_ready, NULL);
    int r = conc_loop_run_until_complete(loop, f);
    say("until %s done %d", conc_errname(r), (int)conc_future_done(f));
    conc_future_release(f);
    conc_loop_free(loop);
    return 0;
}

/* A loop in a thread conc did not start, asleep; the SIGINT goes to that very thread (its handler
 * passes it to the main thread, asleep in an interruptible conc wait). */
static uint32_t loop_tid;
static int loop_result = 99;
static conc_loop_t *thread_loop;

static void tell_tid(void *arg) {
    (void)arg;
    __atomic_store_n(&loop_tid, (uint32_t)gettid(), __ATOMIC_RELEASE);
    conc__futex_wake(&loop_tid, 1, false);
}

static void *loop_thread(void *arg) {
    (void)arg;
    conc_call_soon(thread_loop, tell_tid, NULL);
    loop_result = conc_loop_run(thread_loop);
    return NULL;
}

static int other_thread(void) {
    if (conc_init(0, NULL) != 0) return 2;
    thread_loop = conc_loop_new();
    pthread_t th;
    if (pthread_create(&th, NULL, loop_thread, NULL) != 0) return 2;
    while (__atomic_load_n(&loop_tid, __ATOMIC_ACQUIRE) == 0)
        conc__wait_nointr(&loop_tid, 0, INFINITY, false);
    say("ready %u", loop_tid);
    uint32_t w = 0;
    int r;
    do r = conc__wait(&w, 0, conc_deadline(30), false);
    while (r == 0);
    conc_loop_stop(thread_loop);
    pthread_join(th, NULL);
    say("main %s loop %s", conc_errname(r), conc_errname(loop_result));
    conc_loop_free(thread_loop);
    return 0;
}

/* conc_run: main awaits, a worker task sleeps; both clean up after the cancellation, main first
 * (asyncio.Runner), and conc_run returns -EINTR. busy: main yields in a loop instead of sleeping,
 * so the loop never blocks. */
static bool main_busy;
static int worker_state; /* 1 started, 2 cancelled, 3 cleaned up */

static void *worker(void *arg) {
    (void)arg;
    worker_state = 1;
    int r = conc_sleep(3600);
    worker_state = 2;
    say("worker %s", conc_errname(r));
    say("worker cleanup %s", conc_errname(conc_sleep(0.001)));
    worker_state = 3;
    return NULL;
}

static void *amain(void *arg) {
    (void)arg;
    conc_task_release(conc_task_spawn(NULL, worker, NULL, NULL));
    conc_sleep(0);
    if (worker_state != 1) return conc_task_error(-EPROTO);
    say("ready");
    int r;
    if (main_busy)
        while ((r = conc_sleep(0)) == 0) {
        }
    else
        r = conc_sleep(3600);
    say("main %s", conc_errname(r));
    /* awaiting still works in the cleanup; the worker is not cancelled yet */
    say("main cleanup %s worker %d", conc_errname(conc_sleep(0.001)), worker_state);
    return (void *)1;
}

static int run(bool is_busy) {
    if (conc_init(0, NULL) != 0) return 2;
    main_busy = is_busy;
    void *res = (void *)2;
    int r = conc_run(amain, NULL, &res);
    say("run %s worker %d result %p check %s", conc_errname(r), worker_state, res,
        conc_errname(conc_check_interrupt()));
    return 0;
}

/* A second SIGINT while the first is unconsumed kills: a callback holds the loop (it waits for
 * the test's input outside conc) while another thread reports that the first was counted. */
static uint32_t seq0;
static void *watch(void *arg) {
    (void)arg;
    while (__atomic_load_n(&conc__intr_seq, __ATOMIC_ACQUIRE) == seq0)
        conc__wait_nointr(&conc__intr_seq, seq0, INFINITY, true);
    say("first pending %u", __atomic_load_n(&conc__intr_pending, __ATOMIC_ACQUIRE));
    return NULL;
}

static void hold_loop(void *arg) {
    (void)arg;
    say("ready");
    char line[64];
    for (;;) hear(line, sizeof line);
}

static int twice(void) {
    if (conc_init(0, NULL) != 0) return 2;
    seq0 = __atomic_load_n(&conc__intr_seq, __ATOMIC_ACQUIRE);
    sigset_t old;
    conc__block_async_signals(&old);
    pthread_t th;
    if (pthread_create(&th, NULL, watch, NULL) != 0) return 2;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    conc_loop_t *loop = conc_loop_new();
    conc_call_soon(loop, hold_loop, NULL);
    conc_loop_run(loop);
    return 5; /* not reached: the second SIGINT kills */
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "forever")) return forever();
    if (!strcmp(argv[1], "busy")) return busy();
    if (!strcmp(argv[1], "until")) return until();
    if (!strcmp(argv[1], "thread")) return other_thread();
    if (!strcmp(argv[1], "run")) return run(false);
    if (!strcmp(argv[1], "runbusy")) return run(true);
    if (!strcmp(argv[1], "twice")) return twice();
    return 2;
}
