/* Ctrl+Z: run code before the process stops and after it continues.
 *
 * SIGTSTP (Ctrl+Z) asks a program to stop; a program that changed the terminal (raw mode, a hidden
 * cursor, a progress bar) must put it back first and redo it on `fg`. conc_signal_on_stop runs
 * before_stop in ordinary thread context, then really stops the process (with SIGSTOP, which cannot
 * be refused, so the stop happens even where the kernel would drop a SIGTSTP); when SIGCONT
 * arrives it runs after_continue.
 *
 * To run unattended, the program plays the shell too: it forks a helper that waits until this
 * process shows as stopped ('T' in /proc/PID/stat), then sends SIGCONT as `fg` would; and it sends
 * itself SIGTSTP as the terminal does on Ctrl+Z. */
#include <conc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static conc_event_t continued = CONC_EVENT_INIT;

static void before_stop(void *arg) {
    printf("before_stop: %s: restoring the terminal, stopping now\n", (const char *)arg);
    fflush(stdout);
}

static void after_continue(void *arg) {
    printf("after_continue: %s: continued, redrawing\n", (const char *)arg);
    conc_event_set(&continued);
}

/* 'R', 'S', 'T', ... from /proc/PID/stat, or 0 if the process is gone. */
static char state_of(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may contain spaces and parentheses */
    return p && p[1] == ' ' ? p[2] : 0;
}

/* The "shell": wait (up to 10 s) for the parent to stop, then continue it. */
static void shell(pid_t target) {
    for (int i = 0; i < 10000; i++) {
        char st = state_of(target);
        if (st == 0) _exit(1);
        if (st == 'T') {
            kill(target, SIGCONT);
            _exit(0);
        }
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    }
    _exit(1);
}

int main(int argc, char **argv) {
    pid_t me = getpid();
    fflush(stdout);
    pid_t helper = fork(); /* before any thread exists */
    if (helper == 0) shell(me);

    conc_init(argc, argv);
    int err = conc_signal_on_stop(before_stop, after_continue, "editor");
    if (err < 0) return 1;

    printf("main: pressing Ctrl+Z\n");
    fflush(stdout);
    kill(getpid(), SIGTSTP);
    err = conc_event_wait(&continued, 10.0);
    int status;
    waitpid(helper, &status, 0);
    printf("main: running again (%s), the shell sent SIGCONT: %s\n", conc_errname(err),
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
    return err == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
