/* `conc demo`: the Python guide's concurrency experiments, measured, shared by tools/conc/demo*.c.
 *
 * Two jobs, each cut into WORKERS equal units: a CPU-bound one (the VM countdown) and an IO-bound
 * one (blocking 1-byte round trips to an echo process that answers after a delay, like a server
 * across a LAN). Each job runs in several ways (rows); every row is measured with conc_bound
 * (wall, CPU utilisation, verdict). Then the convoy panel: an I/O thread's round trips per second
 * beside a CPU-bound thread, under conc's GIL with and without I/O priority, and under CPython's.
 * docs/demo.md explains what each row teaches. */
#ifndef CONC_DEMO_H
#define CONC_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "conc.h"
#include "conc_vm.h"

#define WORKERS 4

enum { JOB_CPU, JOB_IO, NJOBS };
enum { ROW_SEQ, ROW_GIL, ROW_NATIVE, ROW_FORK, ROW_SPAWN, ROW_FORKSERVER, ROW_ASYNC, NROWS };

typedef struct {
    bool ran;               /* this job has this row */
    int err;                /* 0, or why it could not be measured (-errno) */
    double wall, speedup;   /* speedup: the sequential row's wall / this one's */
    conc_bound_report_t br; /* utilisation and verdict */
} demo_row_t;

typedef struct {
    bool ran;
    int err;
    char version[32];
    double alone, with_cpu; /* round trips/s */
} demo_cpython_t;

typedef struct {
    bool quick, json, tty;
    double t0;
    int step, nsteps;
    /* the work */
    conc_vm_prog_t *prog;
    double unit;        /* CPU seconds one CPU unit takes on one core */
    double share;       /* of a core, the calibration probes got: < 1 on a busy machine */
    int64_t vm_n;       /* countdown steps in one CPU unit */
    int64_t spin_n;     /* native spin steps that take as long as one CPU unit */
    int64_t io_rounds;  /* round trips in one IO unit */
    int io_delay_us;    /* the echo process's answer delay */
    double convoy_secs; /* length of each convoy measurement */
    /* the echo process */
    struct sockaddr_un echo_addr;
    socklen_t echo_addrlen;
    conc_process_t *echo;
    /* results */
    demo_row_t rows[NJOBS][NROWS];
    double convoy_alone, convoy_gil, convoy_prio; /* round trips/s */
    int convoy_err;
    demo_cpython_t py;
} demo_t;

/* What a worker process gets from the parent: its job, its size, where the echo process is. */
typedef struct {
    int job;
    int64_t n;
    struct sockaddr_un addr;
    socklen_t addrlen;
} demo_work_t;

extern const char demo_program[]; /* the VM functions the jobs run (demo_jobs.c) */
extern const char *const demo_row_names[NROWS];
extern const char *const demo_row_keys[NROWS];

/* demo_echo.c: start the echo process / connect to it ('F': echo at once, 'D': after the delay). */
int demo_echo_start(demo_t *d);
void demo_echo_stop(demo_t *d);
int demo_echo_connect(const struct sockaddr_un *addr, socklen_t len, char mode);

/* demo_jobs.c: size the units, and run one unit's worth of VM work. */
int demo_calibrate(demo_t *d);
int demo_run_unit(const conc_vm_prog_t *prog, conc_gil_t *gil, int job, int64_t n, int fd,
                  bool native);
/* demo_rows.c, demo_procs.c, demo_async.c: one row each, measured into row. */
void demo_row_threads(demo_t *d, int job, int row);
void demo_row_procs(demo_t *d, int job, int row);
void demo_row_async(demo_t *d);
/* demo_convoy.c: the convoy panel, conc's VM and CPython. */
void demo_convoy(demo_t *d);
void demo_convoy_cpython(demo_t *d);
/* demo_print.c */
void demo_print_table(const demo_t *d, FILE *out);
void demo_print_json(const demo_t *d, FILE *out);
/* demo.c: the progress line on stderr. */
void demo_progress(demo_t *d, const char *what);

#endif
