/* `conc demo [--quick] [--json]`: what `make run` shows - the Python guide's experiments, run on
 * conc and measured, in one table (docs/demo.md explains each row).
 *
 * Order matters for honesty: the echo process starts first (before any thread exists), the unit
 * sizes are calibrated on this machine, then every row runs one after another so no two rows
 * compete for the CPUs. Sizes: the default run takes about 10 s on an idle 2-core machine and
 * stays under 30 s when it is busy; --quick shrinks every unit about tenfold (under 5 s, figures
 * noisier). Progress goes to stderr, one updating line on a terminal, one line per step otherwise.
 * Ctrl+C stops the demo at once: SIGINT gets its default action back, and the echo process is a
 * daemon child, killed when the demo dies. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "demo.h"

#define NSTEPS 18

static void usage(FILE *f) {
    fputs("usage: conc demo [--quick] [--json]\n"
          "Run the concurrency experiments of the Python guide on conc and print one table: a\n"
          "CPU-bound job (a VM countdown) and an IO-bound job (round trips to an echo process),\n"
          "each run sequentially, in 4 VM threads under one GIL, in 4 threads of native code that\n"
          "releases the GIL, in 4 processes per start method, and (IO) in 4 async tasks; then the\n"
          "convoy effect, on conc's GIL and on CPython's (python3, when installed).\n"
          "  --quick  small units: under 5 s, noisier figures\n"
          "  --json   print the results as one JSON object\n",
          f);
}

void demo_progress(demo_t *d, const char *what) {
    d->step++;
    if (d->tty)
        fprintf(stderr, "\r\033[Kconc demo [%d/%d] %s...", d->step, d->nsteps, what);
    else
        fprintf(stderr, "conc demo [%d/%d] %.1f s: %s\n", d->step, d->nsteps,
                conc_monotonic() - d->t0, what);
    fflush(stderr);
}

static void run_job(demo_t *d, int job) {
    static const char *names[NJOBS] = {"CPU job", "IO job"};
    char what[96];
    for (int r = 0; r < NROWS; r++) {
        if (r == ROW_ASYNC && job != JOB_IO) continue;
        snprintf(what, sizeof what, "%s: %s", names[job], demo_row_names[r]);
        demo_progress(d, what);
        if (r <= ROW_NATIVE)
            demo_row_threads(d, job, r);
        else if (r == ROW_ASYNC)
            demo_row_async(d);
        else
            demo_row_procs(d, job, r);
    }
    double seq = d->rows[job][ROW_SEQ].wall;
    for (int r = 0; r < NROWS; r++) {
        demo_row_t *row = &d->rows[job][r];
        if (row->ran && !row->err && row->wall > 0 && seq > 0) row->speedup = seq / row->wall;
    }
}

int conc_cli_demo(int argc, char **argv) {
    static demo_t d; /* large: the rows' reports */
    memset(&d, 0, sizeof d);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            d.quick = true;
        } else if (!strcmp(argv[i], "--json")) {
            d.json = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "conc demo: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    signal(SIGINT, SIG_DFL);
    d.t0 = conc_monotonic();
    d.tty = isatty(2);
    d.nsteps = NSTEPS;
    d.unit = d.quick ? 0.03 : 0.25;
    d.io_rounds = d.quick ? 12 : 50;
    d.io_delay_us = 5000; /* long beside a wake-up on a busy machine (~1 ms) */
    d.convoy_secs = d.quick ? 0.2 : 0.75;

    char err[CONC_VM_ERRLEN];
    if (conc_vm_load("demo", demo_program, strlen(demo_program), &d.prog, err, sizeof err)) {
        fprintf(stderr, "conc demo: %s\n", err);
        return 1;
    }
    int r = demo_echo_start(&d);
    if (r < 0) {
        fprintf(stderr, "conc demo: cannot start the echo process: %s\n", strerror(-r));
        conc_vm_free(d.prog);
        return 1;
    }
    demo_progress(&d, "sizing the work on this machine");
    if ((r = demo_calibrate(&d)) < 0) {
        fprintf(stderr, "\nconc demo: calibration failed: %s\n", strerror(-r));
    } else {
        run_job(&d, JOB_CPU);
        run_job(&d, JOB_IO);
        demo_convoy(&d);
        demo_convoy_cpython(&d);
    }
    if (!d.tty) fprintf(stderr, "conc demo: %.1f s: done\n", conc_monotonic() - d.t0);
    demo_echo_stop(&d);
    conc_vm_free(d.prog);
    if (d.tty) fputs("\r\033[K", stderr);
    if (r < 0) return 1;
    if (d.json)
        demo_print_json(&d, stdout);
    else
        demo_print_table(&d, stdout);
    fflush(stdout);
    int failed = d.convoy_err != 0;
    for (int j = 0; j < NJOBS; j++)
        for (int k = 0; k < NROWS; k++) failed |= d.rows[j][k].ran && d.rows[j][k].err != 0;
    return failed ? 1 : 0;
}
