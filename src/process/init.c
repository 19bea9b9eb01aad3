/* What conc_init does for processes (API.md "Process start: conc_init"), through conc__init_hook,
 * which conc_init calls last (internal/hooks.h).
 *
 * The hook notes argv (a spawned child and the forkserver get the same), allows starting
 * processes, and if this exec is the forkserver or a spawned child it becomes that and never
 * returns to main. conc_init starts no thread before the hook runs, so the server forks from a
 * single-threaded process.
 *
 * The exit handler that joins children is registered from a constructor, before conc_init
 * registers the thread module's: atexit runs handlers in reverse order, so at exit threads are
 * joined first and children after, as in Python (threading._shutdown, then util._exit_function).
 * Both the hook and the handler are installed by start.c's constructor: a program that starts
 * processes links that file (from a static library too), and a child is the same program.
 *
 * The marker variable names the kind of exec and its parent; the socket is always fd 3. An
 * inherited or hand-set variable without a socket at fd 3 is ignored, so a stray variable in a
 * shell cannot make a program silently exit. The variable is removed either way. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include "proc.h"

#define MARKER_FD 3

static bool marker_fd_ok(void) {
    struct stat st;
    return fstat(MARKER_FD, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* An exec of /proc/self/exe is called "exe" in ps and top; take the program's name back. */
static void name_after(char **argv) {
    const char *base = argv && argv[0] ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : argv && argv[0] ? argv[0] : NULL;
    if (base && *base) prctl(PR_SET_NAME, base);
}

void conc__process_at_exit(void) {
    conc__proc_exit_children();
}

int conc__process_init_hook(int argc, char **argv) {
    conc__proc_argc = argc;
    conc__proc_argv = argv;
    __atomic_store_n(&conc__proc_initialised, 1, __ATOMIC_RELEASE);
    const char *m = getenv(CONC__MARKER_ENV);
    if (!m) return 0;
    int ppid = 0, pdeath = 0, bound = 0, rseq = 0;
    bool server = sscanf(m, "forkserver:%d:%d:%d:%d", &ppid, &pdeath, &bound, &rseq) == 4;
    bool spawned = !server && sscanf(m, "spawn:%d", &ppid) == 1;
    unsetenv(CONC__MARKER_ENV);
    if (!marker_fd_ok()) return 0;
    name_after(argv);
    if (server) conc__forkserver_main(MARKER_FD, pdeath != 0, (pid_t)ppid, bound != 0, rseq);
    if (spawned) conc__child_main(MARKER_FD, NULL, 0, NULL, 0, (pid_t)ppid, false);
    return 0;
}
