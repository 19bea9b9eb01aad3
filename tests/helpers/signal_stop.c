/* Child program for tests/unit/signal_stop.c: conc_signal_on_stop hooks around Ctrl+Z.
 * argv[1] picks the scenario; it reports on stdout and takes orders on stdin (signal_proc.h). */
#define _GNU_SOURCE
#include <math.h>
#include "conc.h"
#include "internal/base.h"
#include "signal_proc.h"

static void before(void *arg) {
    say("stop %s", (const char *)arg);
}

static void after(void *arg) {
    say("cont %s", (const char *)arg);
}

static uint32_t go;

/* Keeps the dispatcher busy until the main thread hears "go". */
static void busy(int signo, void *arg) {
    (void)signo, (void)arg;
    say("busy");
    while (__atomic_load_n(&go, __ATOMIC_ACQUIRE) == 0) conc__wait(&go, 0, INFINITY, false);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    bool together = !strcmp(argv[1], "together");
    if (conc_signal_on_stop(before, after, "hook") != 0) return 2;
    if (together && conc_signal_handle(SIGUSR1, busy, NULL) != 0) return 2;
    say("ready");
    char line[64];
    for (;;) {
        hear(line, sizeof line);
        if (!strcmp(line, "go")) {
            __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
            conc__futex_wake(&go, 1, false);
        } else if (!strcmp(line, "exit")) {
            return 0;
        }
    }
}
