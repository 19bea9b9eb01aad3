/* multiprocessing.JoinableQueue and Queue: a pool of worker processes fed by one queue of jobs,
 * answering on another.
 *
 * Python:
 *     jobs, results = JoinableQueue(), Queue()
 *     workers = [Process(target=worker, args=(jobs, results)) for _ in range(3)]
 *     for n in range(1, 11): jobs.put(n)
 *     jobs.join()                         # every job task_done
 *     for _ in workers: jobs.put(None)    # one "stop" each
 *     total = sum(results.get() for _ in range(10))
 *
 * Both queues are handed to each worker (conc_process_opts_t.pass); a queue is a ring in shared
 * memory, so put copies the message in before it returns - no feeder thread, and an error (say a
 * timeout on a full queue) comes back to the caller. Messages are bytes: here an int each. */
#include <conc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS 3
#define JOBS    10

static int worker(const void *arg, size_t len) {
    (void)arg, (void)len;
    conc_queue_t *jobs = conc_passed_queue(0), *results = conc_passed_queue(1);
    for (;;) {
        void *msg;
        size_t n;
        if (conc_queue_get(jobs, &msg, &n, 10) != 0) return 1;
        if (n == 0) { /* the empty message is our "None": stop */
            free(msg);
            conc_queue_task_done(jobs);
            return 0;
        }
        int job;
        memcpy(&job, msg, sizeof job);
        free(msg);
        int square = job * job;
        if (conc_queue_put(results, &square, sizeof square, 10) != 0) return 2;
        conc_queue_task_done(jobs); /* after the result is out: join() then means "all answered" */
    }
}
CONC_TARGET(worker)

int main(int argc, char **argv) {
    conc_init(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    conc_queue_t *jobs, *results;
    conc_queue_opts_t jopts = {.maxsize = 4, .joinable = true}; /* a put waits while 4 are queued */
    if (conc_queue_new(&jobs, &jopts) < 0 || conc_queue_new(&results, NULL) < 0) return 1;
    conc_obj_t pass[] = {CONC_OBJ_QUEUE(jobs), CONC_OBJ_QUEUE(results)};
    conc_process_opts_t opts = {.pass = pass, .n_pass = 2}; /* the default start method */
    conc_process_t *w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        int r = conc_process_start(&w[i], "worker", NULL, 0, &opts);
        if (r < 0) {
            fprintf(stderr, "start: %s\n", conc_strerror(r));
            return 1;
        }
    }
    for (int n = 1; n <= JOBS; n++)
        if (conc_queue_put(jobs, &n, sizeof n, 10) != 0) return 1;
    if (conc_queue_join(jobs, 30) != 0) return 1;
    printf("all %d jobs done (qsize of results: %zu)\n", JOBS, conc_queue_qsize(results));
    for (int i = 0; i < WORKERS; i++) conc_queue_put(jobs, NULL, 0, 10);

    int total = 0;
    for (int i = 0; i < JOBS; i++) {
        void *msg;
        size_t n;
        if (conc_queue_get(results, &msg, &n, 10) != 0) return 1;
        int square;
        memcpy(&square, msg, sizeof square);
        free(msg);
        total += square;
    }
    printf("sum of squares 1..%d = %d\n", JOBS, total);
    void *msg;
    size_t n;
    printf("results empty: %s (get with timeout 0: %s)\n", conc_queue_empty(results) ? "yes" : "no",
           conc_errname(conc_queue_get(results, &msg, &n, 0)));
    for (int i = 0; i < WORKERS; i++) {
        int code = -1;
        conc_process_join(w[i], 10);
        conc_process_exitcode(w[i], &code);
        printf("worker %d exit code %d\n", i, code);
        conc_process_free(w[i]);
    }
    conc_queue_close(jobs);
    printf("put after close: %s\n", conc_errname(conc_queue_put(jobs, "x", 1, 0)));
    conc_queue_free(jobs);
    conc_queue_free(results);
    return 0;
}
