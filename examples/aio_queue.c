/* Producer / consumers on an async queue, as asyncio.Queue:
 *
 *   q = asyncio.Queue(maxsize=4)
 *   workers = [asyncio.create_task(worker(q)) for _ in range(3)]
 *   for job in jobs: await q.put(job)     # waits while the queue is full
 *   await q.join()                        # every job task_done
 *   for w in workers: w.cancel()
 *
 * Items are pointers; the queue owns none of them. A worker cancelled while waiting in get loses
 * no item: it is unlinked before anything is handed to it. */
#include <stdint.h>
#include <stdio.h>
#include <conc.h>

#define JOBS 20

static conc_aqueue_t *q;
static long total;
static int done_by[3];

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    for (;;) {
        void *item;
        if (conc_aqueue_get(q, &item, -1) < 0) return NULL; /* cancelled: stop */
        conc_sleep(0.001);                                  /* "process" it */
        total += (intptr_t)item;
        done_by[id]++;
        conc_aqueue_task_done(q);
    }
}

static void *amain(void *arg) {
    (void)arg;
    conc_aqueue_opts_t opts = {.maxsize = 4, .kind = CONC_AQUEUE_FIFO};
    conc_aqueue_new(&q, &opts);
    conc_task_t *workers[3];
    for (int i = 0; i < 3; i++)
        workers[i] = conc_task_spawn(NULL, worker, (void *)(intptr_t)i, NULL);
    for (intptr_t job = 1; job <= JOBS; job++) conc_aqueue_put(q, (void *)job, -1);
    conc_aqueue_join(q, -1);
    for (int i = 0; i < 3; i++) conc_task_cancel(workers[i]);
    for (int i = 0; i < 3; i++) {
        conc_await(conc_task_future(workers[i]), NULL);
        conc_task_uncancel();
        conc_task_release(workers[i]);
    }
    printf("processed %d jobs, sum %ld; per worker: %d %d %d\n", JOBS, total, done_by[0],
           done_by[1], done_by[2]);
    conc_aqueue_free(q);
    return total == JOBS * (JOBS + 1) / 2 ? NULL : conc_task_error(-EPROTO);
}

int main(void) {
    return conc_run(amain, NULL, NULL) != 0;
}
