/* The async row (IO job only): 4 tasks on one event loop in one thread, each doing its unit of
 * round trips over a stream (conc/net.h, asyncio's StreamReader/StreamWriter).
 *
 * While a task waits for its echo, the loop runs the others: one thread overlaps the waits as 4
 * threads do, without a GIL to share and without a thread per connection. The CPU job has no
 * async row: a task that computes never gives the loop back, so tasks cannot beat sequential. */
#include <errno.h>
#include <unistd.h>
#include "conc/net.h"
#include "demo.h"

typedef struct {
    demo_t *d;
    int err;
} arun_t;

static void *roundtrip_task(void *arg) {
    arun_t *a = arg;
    demo_t *d = a->d;
    int fd = demo_echo_connect(&d->echo_addr, d->echo_addrlen, 'D');
    if (fd < 0) return conc_task_error(fd);
    conc_stream_t *s;
    int r = conc_stream_open_fd(NULL, fd, &s); /* owns fd from here on */
    if (r < 0) return conc_task_error(r);
    for (int64_t i = 0; i < d->io_rounds && r >= 0; i++) {
        char c = 'x';
        r = conc_stream_write(s, &c, 1);
        if (r >= 0) r = (int)conc_stream_readexactly(s, &c, 1);
    }
    conc_stream_close(s);
    return r < 0 ? conc_task_error(r) : NULL;
}

static void *main_task(void *arg) {
    arun_t *a = arg;
    conc_task_t *t[WORKERS];
    conc_future_t *f[WORKERS];
    int n = 0;
    for (; n < WORKERS; n++) {
        if (!(t[n] = conc_task_spawn(NULL, roundtrip_task, a, NULL))) break;
        f[n] = conc_task_future(t[n]);
    }
    int r = n < WORKERS ? -ENOMEM : 0;
    if (n > 0) {
        int g = conc_gather(f, (size_t)n, true); /* all of them end before the loop does */
        if (!r) r = g;
        for (int i = 0; i < n && !r; i++) r = conc_future_result(f[i], NULL);
    }
    for (int i = 0; i < n; i++) conc_task_release(t[i]);
    return r < 0 ? conc_task_error(r) : NULL;
}

static void run_async(void *arg) {
    arun_t *a = arg;
    a->err = conc_run(main_task, a, NULL);
}

void demo_row_async(demo_t *d) {
    demo_row_t *r = &d->rows[JOB_IO][ROW_ASYNC];
    r->ran = true;
    arun_t a = {d, 0};
    conc_bound_measure(run_async, &a, &r->br);
    r->wall = r->br.wall;
    r->err = a.err;
}
