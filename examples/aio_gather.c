/* asyncio.gather in C: run three "downloads" concurrently in one thread and collect their results.
 *
 *   async def fetch(name, delay): await asyncio.sleep(delay); return len(name)
 *   results = await asyncio.gather(fetch("a", .03), fetch("bb", .01), fetch("ccc", .02))
 *
 * Each task is a plain C function on its own small stack; conc_sleep suspends only the task.
 * Results are read from the futures, in the order given, whatever order the tasks finished in. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <conc.h>

struct job {
    const char *name;
    double delay;
};

static void *fetch(void *arg) {
    struct job *j = arg;
    int r = conc_sleep(j->delay); /* other tasks run meanwhile */
    if (r < 0) return conc_task_error(r);
    printf("fetched %s\n", j->name);
    return (void *)(intptr_t)strlen(j->name);
}

static void *amain(void *arg) {
    (void)arg;
    struct job jobs[3] = {{"a", 0.03}, {"bb", 0.01}, {"ccc", 0.02}};
    conc_task_t *tasks[3];
    conc_future_t *futures[3];
    for (int i = 0; i < 3; i++) {
        tasks[i] = conc_task_spawn(NULL, fetch, &jobs[i], NULL);
        futures[i] = conc_task_future(tasks[i]);
    }
    double t0 = conc_monotonic();
    int r = conc_gather(futures, 3, false);
    double took = conc_monotonic() - t0;
    if (r == 0) {
        printf("results:");
        for (int i = 0; i < 3; i++) {
            void *v;
            conc_future_result(futures[i], &v);
            printf(" %d", (int)(intptr_t)v);
        }
        printf("\nconcurrent: %s\n", took < 0.055 ? "yes" : "no (slow machine?)");
    }
    for (int i = 0; i < 3; i++) conc_task_release(tasks[i]);
    return r == 0 ? NULL : conc_task_error(r);
}

int main(void) {
    int r = conc_run(amain, NULL, NULL); /* asyncio.run(amain()) */
    if (r < 0) fprintf(stderr, "gather failed: %s\n", conc_strerror(r));
    return r < 0;
}
