/* The in-process rows: sequential, 4 VM threads under one GIL, 4 threads of native work.
 *
 * Each row is measured with conc_bound_measure, the in-process `conc bound`: wall time, the
 * process's CPU time and the time its threads waited for a core, and the verdict from the same
 * rule `conc bound` uses. Connections to the echo process are opened before the clock starts:
 * the rows compare how the round trips overlap, not how fast a connect is. */
#include <errno.h>
#include <unistd.h>
#include "demo.h"

typedef struct {
    demo_t *d;
    conc_gil_t *gil;
    int job, fd, err;
    bool native;
} worker_t;

static int64_t unit_size(const demo_t *d, int job, bool native) {
    if (job == JOB_IO) return d->io_rounds;
    return native ? d->spin_n : d->vm_n;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    w->err = demo_run_unit(w->d->prog, w->gil, w->job, unit_size(w->d, w->job, w->native), w->fd,
                           w->native);
    return NULL;
}

typedef struct {
    worker_t w[WORKERS];
    int row, err;
} rowrun_t;

static void run_row(void *arg) {
    rowrun_t *rr = arg;
    if (rr->row == ROW_SEQ) { /* one thread, the units one after another */
        for (int i = 0; i < WORKERS && !rr->err; i++) {
            worker_main(&rr->w[0]);
            rr->err = rr->w[0].err;
        }
        return;
    }
    conc_thread_t *t[WORKERS];
    int started = 0;
    for (; started < WORKERS; started++) {
        rr->err = conc_thread_start(&t[started], worker_main, &rr->w[started], NULL);
        if (rr->err) break;
    }
    for (int i = 0; i < started; i++) {
        while (conc_thread_join(t[i], -1, NULL) == -EINTR) {
        }
        conc_thread_release(t[i]);
        if (!rr->err) rr->err = rr->w[i].err;
    }
}

void demo_row_threads(demo_t *d, int job, int row) {
    demo_row_t *r = &d->rows[job][row];
    r->ran = true;
    conc_gil_t gil;
    conc_gil_init(&gil, NULL);
    rowrun_t rr = {.row = row};
    int nconn = row == ROW_SEQ ? 1 : WORKERS;
    for (int i = 0; i < WORKERS; i++) {
        rr.w[i] = (worker_t){d, &gil, job, -1, 0, row == ROW_NATIVE};
        if (job == JOB_IO && i < nconn) {
            rr.w[i].fd = demo_echo_connect(&d->echo_addr, d->echo_addrlen, 'D');
            if (rr.w[i].fd < 0) r->err = rr.w[i].fd;
        }
    }
    if (!r->err) {
        conc_bound_measure(run_row, &rr, &r->br);
        r->wall = r->br.wall;
        r->err = rr.err;
    }
    for (int i = 0; i < nconn; i++)
        if (rr.w[i].fd >= 0) close(rr.w[i].fd);
    conc_gil_destroy(&gil);
}
