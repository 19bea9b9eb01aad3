/* Child program for tests/unit/process_life.c: a parent process whose exit, or death, the test
 * watches from outside.
 *
 *   process_parent noinit <method>      start before conc_init: prints "r=<code>" twice
 *   process_parent joinexit <method>    a non-daemon child outlives main; exit joins it
 *   process_parent daemonexit <method>  a daemon child blocks forever; exit terminates it
 *   process_parent orphan <method>      a daemon and a non-daemon child block forever; prints
 *                                       "daemon=<pid> other=<pid> server=<pid>" and waits to be
 *                                       SIGKILLed
 *
 * Output goes through write() (unbuffered: a child's and the parent's lines interleave in the order
 * they happen). An atexit handler registered before conc registers its own (from a constructor of
 * the highest priority) runs after it - they run in reverse order - so it sees the children as exit
 * left them. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "conc.h"

pid_t conc__forkserver_pid(void);

static void say(const char *fmt, long a, long b, long c) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, fmt, a, b, c);
    if (write(1, buf, (size_t)n) != n) _exit(98);
}

static int finish_later(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    /* Some work that takes a while, so main is long gone when it ends. */
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    say("child-done\n", 0, 0, 0);
    return 7;
}
CONC_TARGET(finish_later)

static int block_forever(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(block_forever)

static conc_process_t *kept;
static bool check_at_exit;

static void after_conc_exit(void) {
    /* A spawned child re-runs main up to conc_init, so it registered this too. */
    if (!check_at_exit || !kept) return;
    int code = -1000;
    int r = conc_process_exitcode(kept, &code);
    say("parent-exit r=%ld code=%ld\n", r, code, 0);
}

__attribute__((constructor(101))) static void register_first(void) {
    atexit(after_conc_exit);
}

static conc_start_method_t method_of(const char *s) {
    if (strcmp(s, "fork") == 0) return CONC_START_FORK;
    if (strcmp(s, "spawn") == 0) return CONC_START_SPAWN;
    return CONC_START_FORKSERVER;
}

int main(int argc, char **argv) {
    if (argc < 3) return 90;
    const char *mode = argv[1];
    conc_process_opts_t o = {.method = method_of(argv[2])};
    conc_process_t *p;
    if (strcmp(mode, "noinit") == 0) {
        for (int i = 0; i < 2; i++)
            say("r=%ld\n", conc_process_start(&p, "block_forever", NULL, 0, &o), 0, 0);
        return 0;
    }
    check_at_exit = strcmp(mode, "joinexit") == 0 || strcmp(mode, "daemonexit") == 0;
    if (conc_init(argc, argv) != 0) return 91;
    if (strcmp(mode, "joinexit") == 0) {
        /* One handle kept, one freed: both are joined. */
        if (conc_process_start(&p, "finish_later", NULL, 0, &o) != 0) return 92;
        conc_process_free(p);
        if (conc_process_start(&kept, "finish_later", NULL, 0, &o) != 0) return 92;
        say("main-return\n", 0, 0, 0);
        return 0;
    }
    if (strcmp(mode, "daemonexit") == 0) {
        o.daemon = true;
        if (conc_process_start(&kept, "block_forever", NULL, 0, &o) != 0) return 92;
        say("main-return\n", 0, 0, 0);
        return 0;
    }
    if (strcmp(mode, "orphan") == 0) {
        conc_process_t *other;
        if (conc_process_start(&other, "block_forever", NULL, 0, &o) != 0) return 92;
        o.daemon = true;
        if (conc_process_start(&p, "block_forever", NULL, 0, &o) != 0) return 92;
        say("daemon=%ld other=%ld server=%ld\n", conc_process_pid(p), conc_process_pid(other),
            conc__forkserver_pid());
        for (;;) pause();
    }
    return 93;
}
