/* `conc bound [--json] [-o FILE] -- CMD [ARGS...]`: run CMD, measure it, and say whether it is
 * CPU-bound, IO/wait-bound or mixed, and why.
 *
 * Exit statuses follow the shell, so `conc bound -- CMD` can stand in for CMD in a script: CMD's
 * own status, 128+signo if a signal killed it, 127 if it was not found, 126 if it could not be
 * executed, 2 for a usage error. The report goes to stdout after CMD has finished (or to FILE with
 * -o, to keep it apart from CMD's output).
 *
 * Ctrl+C and Ctrl+\ reach the whole foreground process group. Like a shell waiting for a job, conc
 * lets CMD decide what they mean and then reports how it ended, instead of dying first and
 * leaving CMD running unmeasured. It catches them with a handler that does nothing rather than
 * ignoring them, because exec resets caught signals to their default in CMD, while ignored ones
 * would stay ignored there. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "conc/bound.h"
#include "cli.h"

static void usage(FILE *f) {
    fputs("usage: conc bound [--json] [-o FILE] -- CMD [ARGS...]\n"
          "Run CMD and report wall time, CPU time, utilisation, peak threads, context switches\n"
          "and bytes read/written, with a verdict: CPU-bound, IO/wait-bound or mixed, and why.\n"
          "  --json            print the report as one JSON object\n"
          "  -o, --output FILE write the report to FILE instead of stdout\n"
          "Exit status: CMD's (128+N if signal N killed it), 127 not found, 126 not executable,\n"
          "2 usage error.\n",
          f);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("conc bound: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nusage: conc bound [--json] [-o FILE] -- CMD [ARGS...]\n", stderr);
    return 2;
}

static void let_the_command_decide(int signo) {
    (void)signo;
}

int conc_cli_bound(int argc, char **argv) {
    int json = 0, i;
    const char *output = NULL;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) break;
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) return usage_error("option '%s' needs a file name", a);
            output = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            output = a + 9;
        } else if (a[0] == '-') {
            return usage_error("unknown option '%s'", a);
        } else {
            return usage_error("put '--' before the command: conc bound -- %s ...", a);
        }
    }
    if (i >= argc) return usage_error("no command: expected '--' and a command");
    if (i + 1 >= argc) return usage_error("no command after '--'");
    char **cmd = argv + i + 1;

    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "conc bound: cannot write '%s': %s\n", output, strerror(errno));
        return 2;
    }

    struct sigaction quiet, old_int, old_quit;
    memset(&quiet, 0, sizeof quiet);
    quiet.sa_handler = let_the_command_decide;
    quiet.sa_flags = SA_RESTART;
    sigemptyset(&quiet.sa_mask);
    sigaction(SIGINT, &quiet, &old_int);
    sigaction(SIGQUIT, &quiet, &old_quit);
    conc_bound_report_t r;
    int err = conc_bound_run(cmd, &r);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);

    if (err < 0) {
        if (out != stdout) fclose(out);
        if (err == -ENOENT && !strchr(cmd[0], '/')) {
            fprintf(stderr, "conc bound: %s: command not found\n", cmd[0]);
            return 127;
        }
        fprintf(stderr, "conc bound: %s: %s\n", cmd[0], strerror(-err));
        return err == -ENOENT ? 127 : 126;
    }
    conc_bound_print(out, &r, json);
    if ((out == stdout ? fflush(out) : fclose(out)) != 0)
        fprintf(stderr, "conc bound: cannot write the report: %s\n", strerror(errno));
    return r.exit_status >= 0 ? r.exit_status : 128 - r.exit_status;
}
