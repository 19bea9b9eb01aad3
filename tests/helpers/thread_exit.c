/* Child program for tests/unit/thread_exit.c: exit-time semantics observed from outside.
 *
 * argv[1] picks a scenario; the output goes to stdout with write() (unbuffered, so a thread that
 * outlives main cannot lose it) and the test checks it and the exit status. The trick that makes
 * the order observable without sleeping: an atexit handler registered after conc registered its
 * own runs before conc's exit-time join, so it marks the moment main has finished. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "internal/thread.h"
#include "../unit/thread_gate.h"

static void say(const char *s) {
    if (write(1, s, strlen(s)) < 0) _exit(99);
}

static void sayf(const char *fmt, long v) {
    char buf[128];
    snprintf(buf, sizeof buf, fmt, v);
    say(buf);
}

static uint32_t gate, never;

static void *worker(void *arg) {
    gate_wait(&gate, 30);
    say(arg ? arg : "done\n");
    return NULL;
}

static void *blocker(void *arg) {
    (void)arg;
    gate_wait(&never, -1);
    return NULL;
}

static void at_exit_open_gate(void) {
    say("atexit\n");
    gate_open(&gate);
}

static conc_thread_t *start(conc_thread_fn fn, void *arg, bool daemon) {
    conc_thread_t *t;
    conc_thread_opts_t o = {.daemon = daemon};
    if (conc_thread_start(&t, fn, arg, &o) != 0) _exit(98);
    return t;
}

/* main returns (or calls exit) while a non-daemon thread still has work to do. */
static int main_returns(bool init, int code, bool use_exit) {
    if (init) conc_init(0, NULL);
    conc_thread_release(start(worker, NULL, false));
    atexit(at_exit_open_gate); /* after conc's: runs first */
    say("main returns\n");
    if (use_exit) exit(code);
    return code;
}

/* A daemon thread blocked forever does not hold up the exit; a non-daemon one is still joined. */
static int daemon_abandoned(void) {
    conc_thread_release(start(blocker, NULL, true));
    conc_thread_release(start(worker, "worker done\n", false));
    atexit(at_exit_open_gate);
    say("main returns\n");
    return 0;
}

/* conc_shutdown joins threads started by the threads it joins: A starts B only once conc_shutdown
 * is waiting for A (a watcher sees A's joiner), B starts C. */
static uint32_t a_gate;
static conc_thread_t *a;

static void *c_fn(void *arg) {
    (void)arg;
    say("C done\n");
    return NULL;
}

static void *b_fn(void *arg) {
    (void)arg;
    conc_thread_release(start(c_fn, NULL, false));
    say("B done\n");
    return NULL;
}

static void *a_fn(void *arg) {
    (void)arg;
    gate_wait(&a_gate, 30);
    conc_thread_t *b;
    if (conc_thread_start(&b, b_fn, NULL, NULL) != 0) _exit(97); /* inherits non-daemon */
    conc_thread_release(b);
    say("A done\n");
    return NULL;
}

static void *watcher(void *arg) {
    (void)arg;
    double deadline = conc_monotonic() + 20;
    while (!__atomic_load_n(&a->joiner, __ATOMIC_ACQUIRE) &&
           !(__atomic_load_n(&a->state, __ATOMIC_ACQUIRE) & CONC__T_WAIT_DONE) &&
           conc_monotonic() < deadline)
        usleep(1000); /* polls a condition; not a sleep standing in for one */
    gate_open(&a_gate);
    return NULL;
}

static int shutdown_nested(void) {
    a = start(a_fn, NULL, false);
    conc_thread_release(start(watcher, NULL, false));
    int r = conc_shutdown();
    sayf("shutdown=%ld\n", r);
    sayf("active=%ld\n", (long)conc_thread_active_count());
    conc_thread_release(a);
    return 0;
}

/* exit() from a thread while main is joining it: no deadlock, other non-daemons still joined. */
static void *exits(void *arg) {
    (void)arg;
    atexit(at_exit_open_gate);
    exit(7);
}

static int exit_from_thread(void) {
    conc_thread_release(start(worker, "worker done\n", false));
    conc_thread_t *t = start(exits, NULL, false);
    conc_thread_join(t, CONC_FOREVER, NULL);
    say("not reached\n");
    return 1;
}

/* A non-daemon thread that joins the main thread is let go when main finishes. */
static void *join_main(void *arg) {
    (void)arg;
    int r = conc_thread_join(conc_thread_main(), CONC_FOREVER, NULL);
    sayf("main joined=%ld\n", r);
    sayf("main alive=%ld\n", conc_thread_is_alive(conc_thread_main()));
    return NULL;
}

static int joins_main(void) {
    conc_thread_release(start(join_main, NULL, false));
    say("main returns\n");
    return 0;
}

/* A SIGINT from the test interrupts conc_shutdown in the main thread; a second call goes on. */
static int sigint_shutdown(void) {
    conc_init(0, NULL);
    conc_thread_release(start(worker, NULL, false));
    say("ready\n");
    sayf("first=%ld\n", conc_shutdown());
    gate_open(&gate);
    sayf("second=%ld\n", conc_shutdown());
    return 0;
}

/* ... and conc_thread_join, with and without a timeout. */
static int sigint_join(void) {
    conc_init(0, NULL);
    conc_thread_t *t = start(worker, NULL, false);
    say("ready\n");
    sayf("forever=%ld\n", conc_thread_join(t, CONC_FOREVER, NULL));
    say("ready\n");
    sayf("timed=%ld\n", conc_thread_join(t, 60, NULL));
    gate_open(&gate);
    sayf("joined=%ld\n", conc_thread_join(t, CONC_FOREVER, NULL));
    conc_thread_release(t);
    return 0;
}

/* ... and the exit-time join: Ctrl+C at exit stops waiting and the process ends. */
static int sigint_at_exit(void) {
    conc_init(0, NULL);
    conc_thread_release(start(blocker, NULL, false));
    say("ready\n");
    return 0;
}

int main(int argc, char **argv) {
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "return")) return main_returns(false, 0, false);
    if (!strcmp(m, "return-init")) return main_returns(true, 0, false);
    if (!strcmp(m, "exit")) return main_returns(false, 3, true);
    if (!strcmp(m, "daemon")) return daemon_abandoned();
    if (!strcmp(m, "shutdown-nested")) return shutdown_nested();
    if (!strcmp(m, "exit-from-thread")) return exit_from_thread();
    if (!strcmp(m, "join-main")) return joins_main();
    if (!strcmp(m, "sigint-shutdown")) return sigint_shutdown();
    if (!strcmp(m, "sigint-join")) return sigint_join();
    if (!strcmp(m, "sigint-at-exit")) return sigint_at_exit();
    return 2;
}
