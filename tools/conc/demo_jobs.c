/* The demo's work: the VM program every row runs, and how big one unit of each job is.
 *
 * The CPU unit is a countdown sized to take `unit` seconds of CPU on one core, measured on this
 * machine at start (a short probe, scaled; timed in thread CPU time, so a busy machine does not
 * shrink the units). The "native threads" row runs the same unit as a C kernel
 * (native spin) sized to take the same time on one core, so its speedup shows parallelism, not
 * the speed of C over bytecode: the question is what threads do when the work releases the GIL,
 * as numpy's does. The IO unit is a number of blocking round trips to the echo process; natively
 * it is the `roundtrips` kernel, which releases the GIL once around all of them. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "demo.h"

const char demo_program[] =
    "; the programs of `conc demo` (tools/conc/demo_jobs.c)\n"
    "func countdown 1\n"
    "loop:\n"
    "    load 0\n"
    "    jz done\n"
    "    load 0\n"
    "    push 1\n"
    "    sub\n"
    "    store 0\n"
    "    jmp loop\n"
    "done:\n"
    "    load 0\n"
    "    ret\n"
    "end\n"
    "; echo fd n: n blocking round trips; 0, or -1 if the echo broke\n"
    "func echo 2\n"
    "loop:\n"
    "    load 1\n"
    "    jz done\n"
    "    load 0\n"
    "    push 120\n"
    "    native write\n"
    "    push 1\n"
    "    ne\n"
    "    jnz broke\n"
    "    load 0\n"
    "    native read\n"
    "    push 0\n"
    "    lt\n"
    "    jnz broke\n"
    "    load 1\n"
    "    push 1\n"
    "    sub\n"
    "    store 1\n"
    "    jmp loop\n"
    "done:\n"
    "    push 0\n"
    "    ret\n"
    "broke:\n"
    "    push -1\n"
    "    ret\n"
    "end\n"
    "func spin 1\n"
    "    load 0\n"
    "    native spin\n"
    "    ret\n"
    "end\n"
    "; roundtrips fd n: 0 if all n were done\n"
    "func roundtrips 2\n"
    "    load 0\n"
    "    load 1\n"
    "    native roundtrips\n"
    "    load 1\n"
    "    sub\n"
    "    ret\n"
    "end\n"
    "; convoy_io fd deadline: round trips until the clock (us) passes it\n"
    "func convoy_io 2 1\n"
    "loop:\n"
    "    load 0\n"
    "    push 120\n"
    "    native write\n"
    "    push 1\n"
    "    ne\n"
    "    jnz broke\n"
    "    load 0\n"
    "    native read\n"
    "    push 0\n"
    "    lt\n"
    "    jnz broke\n"
    "    load 2\n"
    "    push 1\n"
    "    add\n"
    "    store 2\n"
    "    native clock\n"
    "    load 1\n"
    "    lt\n"
    "    jnz loop\n"
    "    load 2\n"
    "    ret\n"
    "broke:\n"
    "    push -1\n"
    "    ret\n"
    "end\n"
    "; convoy_cpu deadline: count down in chunks until the clock passes it\n"
    "func convoy_cpu 1\n"
    "loop:\n"
    "    push 20000\n"
    "    call countdown\n"
    "    pop\n"
    "    native clock\n"
    "    load 0\n"
    "    lt\n"
    "    jnz loop\n"
    "    push 0\n"
    "    ret\n"
    "end\n";

/* One unit of job in this thread: the VM countdown or echo loop, or (native) the C kernel. */
int demo_run_unit(const conc_vm_prog_t *prog, conc_gil_t *gil, int job, int64_t n, int fd,
                  bool native) {
    char err[CONC_VM_ERRLEN];
    conc_vm_opts_t o = {gil, NULL};
    int64_t args[2] = {fd, n}, res = 0;
    int r;
    if (job == JOB_CPU)
        r = conc_vm_run(prog, native ? "spin" : "countdown", &n, 1, &o, &res, err, sizeof err);
    else
        r = conc_vm_run(prog, native ? "roundtrips" : "echo", args, 2, &o, &res, err, sizeof err);
    if (r != 0) return r;
    if (job == JOB_IO && res != 0) return -EPIPE;
    return 0;
}

/* This thread's CPU time: unlike the wall clock, it does not count the time other processes had
 * the core, so the sizing holds on a busy machine too. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Steps per CPU second: run a probe, growing it until it lasts long enough to time. Adds the
 * probe's CPU and wall time to *cpu and *wall. */
static double rate(const conc_vm_prog_t *prog, bool native, double probe, double *cpu,
                   double *wall) {
    int64_t n = 1000;
    for (;;) {
        double w = conc_monotonic(), t = cpu_now();
        if (demo_run_unit(prog, NULL, JOB_CPU, n, -1, native) != 0) return 0;
        t = cpu_now() - t;
        *cpu += t;
        *wall += conc_monotonic() - w;
        if (t >= probe || n > ((int64_t)1 << 40)) return (double)n / (t > 0 ? t : 1e-9);
        n *= t < probe / 8 ? 8 : 2;
    }
}

/* A busy machine gives each of our threads only a share of a core, and every CPU row's wall time
 * grows by 1/share: the units shrink by the share the probes got (at most 5x), so the demo keeps
 * its time budget. The table says so (d->share). */
int demo_calibrate(demo_t *d) {
    double probe = d->quick ? 0.01 : 0.03, cpu = 0, wall = 0;
    double vm = rate(d->prog, false, probe, &cpu, &wall);
    double spin = rate(d->prog, true, probe, &cpu, &wall);
    if (vm <= 0 || spin <= 0) return -EINVAL;
    d->share = wall > 0 ? cpu / wall : 1;
    d->share = d->share > 1 ? 1 : d->share < 0.2 ? 0.2 : d->share;
    if (d->share < 0.8) d->unit *= d->share;
    d->vm_n = (int64_t)(vm * d->unit) + 1;
    d->spin_n = (int64_t)(spin * d->unit) + 1;
    return 0;
}
