/* The demo's output: the table a person reads, or one JSON object for scripts and tests.
 *
 * JSON layout: {"quick", "cpus", "core_share" (of a core the sizing probes got: under 0.8 the CPU
 * units were shrunk by it), "seconds", "jobs": {"cpu": {...}, "io": {...}}, "convoy": {...}}.
 * A job: "unit" (what one of its 4 units is) and "rows", a list of {"key", "label", "wall",
 * "speedup", "utilisation", "verdict" ("cpu", "io", "mixed"), "error" (null or a message)}.
 * The convoy: round trips/s "alone", "gil", "io_priority" and "cpython" (null when python3 was not
 * run, else {"version", "alone", "with_cpu_thread"} or {"error"}). */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "demo.h"

const char *const demo_row_names[NROWS] = {
    [ROW_SEQ] = "sequential, 1 thread",
    [ROW_GIL] = "4 VM threads, one GIL",
    [ROW_NATIVE] = "4 threads, native, GIL released",
    [ROW_FORK] = "4 processes, fork",
    [ROW_SPAWN] = "4 processes, spawn",
    [ROW_FORKSERVER] = "4 processes, forkserver",
    [ROW_ASYNC] = "4 async tasks, 1 thread",
};
const char *const demo_row_keys[NROWS] = {
    [ROW_SEQ] = "sequential",    [ROW_GIL] = "vm_threads", [ROW_NATIVE] = "native_threads",
    [ROW_FORK] = "fork",         [ROW_SPAWN] = "spawn",    [ROW_FORKSERVER] = "forkserver",
    [ROW_ASYNC] = "async_tasks",
};

static const char *verdict_key(conc_bound_verdict_t v) {
    return v == CONC_BOUND_CPU ? "cpu" : v == CONC_BOUND_IO ? "io" : "mixed";
}

static void unit_text(const demo_t *d, int job, char *buf, size_t cap) {
    if (job == JOB_CPU)
        snprintf(buf, cap, "a VM countdown of %lld steps (%.2f s of CPU)", (long long)d->vm_n,
                 d->unit);
    else
        snprintf(buf, cap, "%lld blocking round trips to an echo process that answers after %d ms",
                 (long long)d->io_rounds, d->io_delay_us / 1000);
}

static double rate_ratio(double base, double x) {
    return x > 0 ? base / x : INFINITY;
}

void demo_print_table(const demo_t *d, FILE *out) {
    static const char *titles[NJOBS] = {"CPU-bound job", "IO-bound job"};
    fprintf(out, "conc demo: Python's concurrency model, measured (%ld CPUs%s)\n\n",
            sysconf(_SC_NPROCESSORS_ONLN), d->quick ? ", --quick: small and noisy" : "");
    for (int j = 0; j < NJOBS; j++) {
        char unit[200];
        unit_text(d, j, unit, sizeof unit);
        fprintf(out, "%s: 4 units of %s\n", titles[j], unit);
        if (j == JOB_CPU && d->share < 0.8)
            fprintf(out,
                    "  (units shrunk: the machine is busy, the sizing probe got %.0f%% of a core; "
                    "speedups are less telling)\n",
                    d->share * 100);
        fprintf(out, "  %-34s %9s %8s %9s  %s\n", "how", "wall", "speedup", "CPU util", "verdict");
        for (int r = 0; r < NROWS; r++) {
            const demo_row_t *row = &d->rows[j][r];
            if (!row->ran) continue;
            if (row->err) {
                fprintf(out, "  %-34s failed: %s\n", demo_row_names[r], strerror(-row->err));
                continue;
            }
            fprintf(out, "  %-34s %7.3f s %7.2fx %8.0f%%  %s\n", demo_row_names[r], row->wall,
                    row->speedup, row->br.utilisation * 100,
                    conc_bound_verdict_name(row->br.verdict));
        }
        fputc('\n', out);
    }
    fprintf(out, "Convoy effect: 1-byte round trips/s of an I/O thread to the echo process (no "
                 "delay)\n");
    if (d->convoy_err) {
        fprintf(out, "  conc VM: failed: %s\n", strerror(-d->convoy_err));
    } else {
        fprintf(out, "  %-58s %9.0f/s\n", "conc VM, I/O thread alone", d->convoy_alone);
        fprintf(out, "  %-58s %9.0f/s  %6.1fx slower\n",
                "conc VM, beside 1 CPU-bound VM thread, GIL as CPython's", d->convoy_gil,
                rate_ratio(d->convoy_alone, d->convoy_gil));
        fprintf(out, "  %-58s %9.0f/s  %6.1fx slower\n",
                "conc VM, beside 1 CPU-bound VM thread, I/O priority", d->convoy_prio,
                rate_ratio(d->convoy_alone, d->convoy_prio));
    }
    if (!d->py.ran) {
        fprintf(out, "  CPython: not run\n");
    } else if (d->py.err == -ENOENT) {
        fprintf(out, "  CPython: python3 not found, skipped\n");
    } else if (d->py.err) {
        fprintf(out, "  CPython (python3): failed: %s\n", strerror(-d->py.err));
    } else {
        char label[80];
        snprintf(label, sizeof label, "CPython %s (python3), I/O thread alone", d->py.version);
        fprintf(out, "  %-58s %9.0f/s\n", label, d->py.alone);
        snprintf(label, sizeof label, "CPython %s (python3), beside 1 CPU-bound thread",
                 d->py.version);
        fprintf(out, "  %-58s %9.0f/s  %6.1fx slower\n", label, d->py.with_cpu,
                rate_ratio(d->py.alone, d->py.with_cpu));
    }
    fprintf(out, "\ntotal %.1f s. What each row shows: docs/demo.md\n", conc_monotonic() - d->t0);
}

/* JSON numbers must be finite. */
static double num(double x) {
    return isfinite(x) ? x : 0;
}

static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", *s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

void demo_print_json(const demo_t *d, FILE *out) {
    static const char *keys[NJOBS] = {"cpu", "io"};
    fprintf(out, "{\"quick\": %s, \"cpus\": %ld, \"core_share\": %.3f, \"jobs\": {",
            d->quick ? "true" : "false", sysconf(_SC_NPROCESSORS_ONLN), num(d->share));
    for (int j = 0; j < NJOBS; j++) {
        char unit[200];
        unit_text(d, j, unit, sizeof unit);
        fprintf(out, "%s\"%s\": {\"unit\": ", j ? ", " : "", keys[j]);
        json_string(out, unit);
        fprintf(out, ", \"rows\": [");
        int first = 1;
        for (int r = 0; r < NROWS; r++) {
            const demo_row_t *row = &d->rows[j][r];
            if (!row->ran) continue;
            fprintf(out, "%s{\"key\": \"%s\", \"label\": ", first ? "" : ", ", demo_row_keys[r]);
            json_string(out, demo_row_names[r]);
            fprintf(out,
                    ", \"wall\": %.6f, \"speedup\": %.4f, \"utilisation\": %.4f, \"verdict\": "
                    "\"%s\", \"error\": ",
                    num(row->wall), num(row->speedup), num(row->br.utilisation),
                    verdict_key(row->br.verdict));
            if (row->err)
                json_string(out, strerror(-row->err));
            else
                fputs("null", out);
            fputc('}', out);
            first = 0;
        }
        fputs("]}", out);
    }
    fprintf(out, "}, \"convoy\": {\"alone\": %.1f, \"gil\": %.1f, \"io_priority\": %.1f, ",
            num(d->convoy_alone), num(d->convoy_gil), num(d->convoy_prio));
    fputs("\"error\": ", out);
    if (d->convoy_err)
        json_string(out, strerror(-d->convoy_err));
    else
        fputs("null", out);
    fputs(", \"cpython\": ", out);
    if (!d->py.ran) {
        fputs("null", out);
    } else if (d->py.err) {
        fputs("{\"error\": ", out);
        json_string(out, d->py.err == -ENOENT ? "python3 not found" : strerror(-d->py.err));
        fputc('}', out);
    } else {
        fputs("{\"version\": ", out);
        json_string(out, d->py.version);
        fprintf(out, ", \"alone\": %.1f, \"with_cpu_thread\": %.1f}", num(d->py.alone),
                num(d->py.with_cpu));
    }
    fprintf(out, "}, \"seconds\": %.3f}\n", conc_monotonic() - d->t0);
}
