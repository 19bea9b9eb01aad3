/* `conc vm run FILE [--threads N] ...` and `conc vm check FILE`: load a VM assembly program
 * (vm/conc_vm.h) and run its main, in one thread or in N conc threads sharing one GIL.
 *
 * With N threads each runs main at once (main takes no argument, or one: the thread's index 0..N-1),
 * so `--threads 4` on a CPU-bound program shows the GIL at work: four times the work, in about four
 * times the time. --stats prints the wall time and the GIL's counters on stderr.
 * Exit status: 0; 1 for a runtime error; 2 for a usage error or a program that does not load.
 * Ctrl+C ends the run at once (SIGINT's default action): the VM has no exceptions to raise a
 * KeyboardInterrupt into, and a program in an endless loop must still be stoppable. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "conc_vm.h"
#include "cli.h"

static void usage(FILE *f) {
    fputs("usage: conc vm run FILE [--threads N] [--io-priority] [--switch-interval MS] [--stats]\n"
          "       conc vm check FILE\n"
          "Run the main function of a VM assembly program (see vm/examples/*.s).\n"
          "  --threads N          run main in N threads at once under one GIL (main may take\n"
          "                       one argument: the thread's index)\n"
          "  --io-priority        threads returning from blocking calls get the GIL first\n"
          "  --switch-interval MS the GIL's switch interval (default 5 ms)\n"
          "  --stats              print wall time and GIL counters on stderr\n"
          "check: load and verify FILE only.\n"
          "Exit status: 0, 1 runtime error, 2 usage error or a program that does not load.\n",
          f);
}

static int usage_error(const char *msg, const char *arg) {
    fprintf(stderr, "conc vm: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    usage(stderr);
    return 2;
}

typedef struct {
    const conc_vm_prog_t *prog;
    conc_vm_opts_t opts;
    int64_t index;
    int arity;
    int rc;
    char err[CONC_VM_ERRLEN];
} runner_t;

static void *run_main(void *arg) {
    runner_t *r = arg;
    r->rc = conc_vm_run(r->prog, "main", &r->index, (size_t)r->arity, &r->opts, NULL, r->err,
                        sizeof r->err);
    return NULL;
}

static int parse_long(const char *s, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int conc_cli_vm(int argc, char **argv) {
    if (argc < 2) return usage_error("expected 'run' or 'check'", NULL);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    int check = !strcmp(argv[1], "check");
    if (!check && strcmp(argv[1], "run")) return usage_error("unknown subcommand", argv[1]);
    const char *file = NULL;
    long threads = 1;
    double interval = 0;
    int stats = 0;
    conc_gil_opts_t go = CONC_GIL_OPTS_INIT;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (!strcmp(a, "--threads") && !check) {
            if (i + 1 >= argc || parse_long(argv[++i], 1, 1024, &v))
                return usage_error("--threads needs a number from 1 to 1024", NULL);
            threads = v;
        } else if (!strcmp(a, "--switch-interval") && !check) {
            if (i + 1 >= argc || parse_long(argv[++i], 1, 10000, &v))
                return usage_error("--switch-interval needs milliseconds from 1 to 10000", NULL);
            interval = (double)v / 1000;
        } else if (!strcmp(a, "--io-priority") && !check) {
            go.io_priority = true;
        } else if (!strcmp(a, "--stats") && !check) {
            stats = 1;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option", a);
        } else if (file) {
            return usage_error("more than one file:", a);
        } else {
            file = a;
        }
    }
    if (!file) return usage_error("no program file", NULL);

    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *prog;
    if (conc_vm_load_file(file, &prog, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (check) {
        conc_vm_free(prog);
        return 0;
    }
    int arity = conc_vm_arity(prog, "main");
    if (arity < 0 || arity > 1) {
        fprintf(stderr, "%s: %s\n", file,
                arity < 0 ? "no function 'main'" : "main must take 0 or 1 arguments");
        conc_vm_free(prog);
        return 2;
    }
    signal(SIGINT, SIG_DFL);
    if (interval > 0) go.switch_interval = interval;
    conc_gil_t gil;
    conc_gil_init(&gil, &go);
    runner_t *r = calloc((size_t)threads, sizeof *r);
    conc_thread_t **th = calloc((size_t)threads, sizeof *th);
    int status = 0;
    if (!r || !th) {
        fprintf(stderr, "conc vm: out of memory\n");
        status = 2;
        threads = 0;
    }
    double t0 = conc_monotonic();
    for (long i = 0; i < threads; i++) {
        r[i] = (runner_t){prog, {&gil, stdout}, i, arity, 0, ""};
        if (threads == 1) {
            run_main(&r[i]);
        } else if (conc_thread_start(&th[i], run_main, &r[i], NULL) != 0) {
            fprintf(stderr, "conc vm: cannot start thread %ld\n", i);
            r[i].rc = -EAGAIN;
            snprintf(r[i].err, sizeof r[i].err, "thread %ld did not start", i);
            th[i] = NULL;
        }
    }
    for (long i = 0; i < threads; i++) {
        if (th[i]) {
            while (conc_thread_join(th[i], -1, NULL) == -EINTR) {
            }
            conc_thread_release(th[i]);
        }
        if (r[i].rc != 0) {
            fprintf(stderr, "%s\n", r[i].err);
            status = 1;
        }
    }
    double wall = conc_monotonic() - t0;
    if (stats && threads > 0) {
        conc_gil_stats_t s;
        conc_gil_stats(&gil, &s);
        fprintf(stderr,
                "%ld thread%s, %.3f s wall; GIL: %llu switches, %llu forced drops, wait p50 "
                "%.3f ms p99 %.3f ms\n",
                threads, threads == 1 ? "" : "s", wall, (unsigned long long)s.switches,
                (unsigned long long)s.forced_drops, s.wait_p50 * 1e3, s.wait_p99 * 1e3);
    }
    free(r);
    free(th);
    conc_gil_destroy(&gil);
    conc_vm_free(prog);
    return status;
}
