/* The process rows: 4 worker processes per start method (fork, spawn, forkserver).
 *
 * Each worker is the target demo_worker (CONC_TARGET, so a spawned or forkserver child finds it):
 * it loads the demo's VM program, runs one unit under its own GIL - a process does not share the
 * parent's - and sends its CPU time back over a Pipe handed to it, because its parent may not be
 * us (forkserver children are the server's) and so getrusage(RUSAGE_CHILDREN) would miss it. The
 * row's CPU (and wait for a core) is the parent's measured one plus the workers' reports,
 * classified by the bound module's rule (conc_bound_classify). The wall time includes starting the processes: that cost
 * is part of what the start methods teach. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "demo.h"

typedef struct {
    double user, sys, wait;
} usage_t;

/* This thread's time runnable but waiting for a core (/proc/self/schedstat), in seconds. */
static double run_delay(void) {
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    unsigned long long run = 0, delay = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &run, &delay) != 2) delay = 0;
        fclose(f);
    }
    return (double)delay / 1e9;
}

static int demo_worker(const void *arg, size_t len) {
    demo_work_t w;
    conc_conn_t *report = conc_passed_conn(0);
    if (len != sizeof w || !report) return 2;
    memcpy(&w, arg, sizeof w);
    double t0 = conc_monotonic();
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *prog;
    if (conc_vm_load("demo", demo_program, strlen(demo_program), &prog, err, sizeof err) != 0)
        return 3;
    int fd = -1, r = 0;
    if (w.job == JOB_IO && (fd = demo_echo_connect(&w.addr, w.addrlen, 'D')) < 0) r = fd;
    if (r == 0) r = demo_run_unit(prog, NULL, w.job, w.n, fd, false);
    if (fd >= 0) close(fd);
    conc_vm_free(prog);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    usage_t u = {(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, run_delay()};
    /* weighted by the share of its life the worker was runnable, as conc_bound_measure weighs
     * each thread's wait (conc/bound.h): a worker that mostly waited on the echo counts little */
    double life = conc_monotonic() - t0, busy = u.user + u.sys + u.wait;
    if (life > 0 && busy < life) u.wait *= busy / life;
    if (conc_conn_send(report, &u, sizeof u) != 0) return 4;
    return r == 0 ? 0 : 1;
}
CONC_TARGET(demo_worker)

typedef struct {
    demo_t *d;
    int job, err;
    conc_start_method_t method;
    usage_t children;
} procrun_t;

static void run_procs(void *arg) {
    procrun_t *pr = arg;
    demo_t *d = pr->d;
    demo_work_t w = {pr->job, pr->job == JOB_CPU ? d->vm_n : d->io_rounds, d->echo_addr,
                     d->echo_addrlen};
    conc_process_t *p[WORKERS];
    conc_conn_t *rx[WORKERS];
    int started = 0;
    for (; started < WORKERS; started++) {
        conc_conn_t *tx;
        if ((pr->err = conc_pipe(&rx[started], &tx, false)) != 0) break;
        conc_obj_t pass = CONC_OBJ_CONN(tx);
        conc_process_opts_t o = {.method = pr->method, .pass = &pass, .n_pass = 1};
        pr->err = conc_process_start(&p[started], "demo_worker", &w, sizeof w, &o);
        conc_conn_close(tx); /* the child has its own copy */
        if (pr->err) {
            conc_conn_close(rx[started]);
            break;
        }
    }
    for (int i = 0; i < started; i++) {
        int code = -1, r;
        while ((r = conc_process_join(p[i], 60)) == -EINTR) {
        }
        if (r == 0) conc_process_exitcode(p[i], &code);
        if (!pr->err && code != 0) pr->err = r ? r : -ECHILD;
        void *buf;
        size_t len;
        if (conc_conn_recv(rx[i], &buf, &len, 0) == 0) {
            if (len == sizeof(usage_t)) {
                usage_t u;
                memcpy(&u, buf, sizeof u);
                pr->children.user += u.user;
                pr->children.sys += u.sys;
                pr->children.wait += u.wait;
            }
            free(buf);
        }
        conc_conn_close(rx[i]);
        conc_process_free(p[i]);
    }
}

void demo_row_procs(demo_t *d, int job, int row) {
    static const conc_start_method_t methods[] = {
        [ROW_FORK] = CONC_START_FORK,
        [ROW_SPAWN] = CONC_START_SPAWN,
        [ROW_FORKSERVER] = CONC_START_FORKSERVER,
    };
    demo_row_t *r = &d->rows[job][row];
    r->ran = true;
    procrun_t pr = {d, job, 0, methods[row], {0, 0, 0}};
    conc_bound_measure(run_procs, &pr, &r->br);
    r->br.user += pr.children.user;
    r->br.sys += pr.children.sys;
    r->br.cpu_wait += pr.children.wait;
    conc_bound_classify(&r->br);
    r->wall = r->br.wall;
    r->err = pr.err;
}
