/* Child program for tests/unit/signal_handle.c: conc_signal_handle handlers.
 * argv[1] picks the scenario; it reports on stdout and takes orders on stdin (signal_proc.h). */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include "conc.h"
#include "internal/base.h"
#include "signal_proc.h"

static uint32_t ran; /* bumped by each handler call, waited on by the main thread */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void mark_ran(void) {
    __atomic_add_fetch(&ran, 1, __ATOMIC_ACQ_REL);
    conc__futex_wake(&ran, 1, false);
}

/* Returns the number of -EINTR seen while waiting for `ran` to pass `seen`. */
static int wait_ran(uint32_t seen) {
    int eintr = 0;
    uint32_t v;
    while ((v = __atomic_load_n(&ran, __ATOMIC_ACQUIRE)) == seen)
        eintr += conc__wait(&ran, v, INFINITY, false) == -EINTR;
    return eintr;
}

/* Things a C signal handler must not do. */
static void on_usr1(int signo, void *arg) {
    char *p = malloc(100);
    memset(p, 'x', 100);
    pthread_mutex_lock(&mu);
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    say("handler %d tid %d name %s arg %s", signo, (int)gettid(), name, (const char *)arg);
    pthread_mutex_unlock(&mu);
    free(p);
    mark_ran();
}

static int usr1(void) {
    if (conc_signal_handle(SIGUSR1, on_usr1, "hello") != 0) return 2;
    say("ready %d", (int)gettid());
    wait_ran(0);
    if (conc_signal_handle(SIGUSR1, NULL, NULL) != 0) return 2;
    say("default");
    char line[64];
    for (;;) hear(line, sizeof line);
}

static void on_int(int signo, void *arg) {
    (void)arg;
    say("handled %d in %s", signo, gettid() == getpid() ? "main" : "other");
    mark_ran();
}

/* conc_signal_handle(SIGINT) replaces KeyboardInterrupt; NULL brings it back. */
static int sigint(void) {
    if (conc_init(0, NULL) != 0) return 2;
    if (conc_signal_handle(SIGINT, on_int, NULL) != 0) return 2;
    say("ready");
    int eintr = wait_ran(0);
    say("main eintr %d check %s", eintr, conc_errname(conc_check_interrupt()));
    if (conc_signal_handle(SIGINT, NULL, NULL) != 0) return 2;
    say("restored");
    uint32_t w = 0;
    int r;
    do r = conc__wait(&w, 0, INFINITY, false);
    while (r == 0);
    say("%s", conc_errname(r));
    return 0;
}

static void on_usr1_count(int signo, void *arg) {
    (void)signo, (void)arg;
    say("handled pid %d", (int)getpid());
    mark_ran();
}

/* fork after the dispatcher started: each process dispatches its own signals. */
static int forked(void) {
    if (conc_signal_handle(SIGUSR1, on_usr1_count, NULL) != 0) return 2;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) return 2;
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failing test kills the helper: this goes too */
        if (getppid() != parent) _exit(2);
        say("child %d", (int)getpid());
        wait_ran(0);
        say("child done %u", __atomic_load_n(&ran, __ATOMIC_ACQUIRE));
        _exit(0);
    }
    say("parent %d", (int)getpid());
    wait_ran(0);
    int st;
    if (waitpid(child, &st, 0) != child) return 2;
    say("parent done %u child status %d", __atomic_load_n(&ran, __ATOMIC_ACQUIRE), st);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "usr1")) return usr1();
    if (!strcmp(argv[1], "sigint")) return sigint();
    if (!strcmp(argv[1], "fork")) return forked();
    return 2;
}
