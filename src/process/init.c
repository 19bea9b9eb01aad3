/* What conc_init does for processes (API.md "Process start: conc_init").
 *
 * Early, before anything in conc_init could start a thread: note argv (a spawned child and the
 * forkserver get the same), become the forkserver if this exec is one, allow starting processes,
 * and register the exit handler that joins children. atexit runs handlers in reverse order, and
 * this one is registered before the thread module's, so at exit threads are joined first and
 * children after, as in Python (threading._shutdown, then util._exit_function).
 *
 * Late, once conc_init has done the rest (interrupt routing, thread exit handling): if this exec is
 * a spawned child, read the request, run the target and exit - never returning to main.
 *
 * The marker variable names the kind of exec and its parent; the socket is always fd 3. An
 * inherited or hand-set variable without a socket at fd 3 is ignored, so a stray variable in a
 * shell cannot make a program silently exit. The variable is removed either way. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "proc.h"

CONC_HIDDEN void conc__process_init_early(int argc, char **argv);
CONC_HIDDEN void conc__process_init_late(void);

#define MARKER_FD 3

static bool marker_fd_ok(void) {
    struct stat st;
    return fstat(MARKER_FD, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void at_exit(void) {
    conc__proc_exit_children();
}

void conc__process_init_early(int argc, char **argv) {
    conc__proc_argc = argc;
    conc__proc_argv = argv;
    /* Before the server starts: its children inherit both. */
    atexit(at_exit);
    __atomic_store_n(&conc__proc_initialised, 1, __ATOMIC_RELEASE);
    const char *m = getenv(CONC__MARKER_ENV);
    int ppid = 0, pdeath = 0;
    if (m && sscanf(m, "forkserver:%d:%d", &ppid, &pdeath) == 2) {
        unsetenv(CONC__MARKER_ENV);
        if (marker_fd_ok()) conc__forkserver_main(MARKER_FD, pdeath != 0, (pid_t)ppid);
    }
}

void conc__process_init_late(void) {
    const char *m = getenv(CONC__MARKER_ENV);
    int ppid = 0;
    if (!m) return;
    int is_spawn = sscanf(m, "spawn:%d", &ppid) == 1;
    unsetenv(CONC__MARKER_ENV);
    if (is_spawn && marker_fd_ok()) conc__child_main(MARKER_FD, (pid_t)ppid);
}
