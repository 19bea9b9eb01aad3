/* threading.Thread: start, join with a result, names, current/main/enumerate.
 *
 * Python subclasses Thread and overrides run(); in C the thread is a function and a pointer to its
 * arguments, and run()'s result (Python would stash it on self) comes back through join. */
#include <conc.h>
#include <stdio.h>
#include <string.h>

struct job {
    long from, to; /* sum the numbers in [from, to) */
    long sum;
};

static void *sum_range(void *arg) {
    struct job *j = arg;
    for (long i = j->from; i < j->to; i++) j->sum += i;
    printf("%s: summed [%ld, %ld)\n", conc_thread_name(conc_thread_current()), j->from, j->to);
    return &j->sum; /* what join hands back */
}

static conc_event_t stop = CONC_EVENT_INIT;

static void *idle(void *arg) {
    (void)arg;
    conc_event_wait(&stop, CONC_FOREVER);
    return NULL;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    printf("main thread is \"%s\"\n", conc_thread_name(conc_thread_main()));

    /* Thread(target=sum_range, args=(job,), name="summer-N").start() */
    enum { N = 3 };
    struct job jobs[N];
    conc_thread_t *t[N];
    char names[N][16];
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct job){.from = i * 1000, .to = (i + 1) * 1000};
        snprintf(names[i], sizeof names[i], "summer-%d", i);
        int err =
            conc_thread_start(&t[i], sum_range, &jobs[i], &(conc_thread_opts_t){.name = names[i]});
        if (err < 0) {
            fprintf(stderr, "start: %s\n", conc_strerror(err));
            return 1;
        }
    }
    long total = 0;
    for (int i = 0; i < N; i++) {
        void *result;
        conc_thread_join(t[i], CONC_FOREVER, &result); /* t.join() */
        total += *(long *)result;
        conc_thread_release(t[i]);
    }
    printf("total = %ld (expected %ld)\n", total, (long)N * 1000 * (N * 1000 - 1) / 2);
    if (total != (long)N * 1000 * (N * 1000 - 1) / 2) return 1;

    /* No name given: "Thread-N", as in Python. enumerate() lists it while it runs. */
    conc_thread_t *idler;
    conc_thread_start(&idler, idle, NULL, NULL);
    conc_thread_t *live[8];
    size_t n = conc_thread_enumerate(live, 8);
    printf("active_count() = %zu:", conc_thread_active_count());
    for (size_t i = 0; i < n && i < 8; i++) printf(" %s", conc_thread_name(live[i]));
    printf("\n");

    /* t.join(timeout=0.1) on a thread that is still running: -ETIMEDOUT, and it is still alive */
    int err = conc_thread_join(idler, 0.1, NULL);
    printf("join(timeout=0.1): %s, is_alive=%d\n", conc_errname(err), conc_thread_is_alive(idler));
    if (err != -ETIMEDOUT) return 1;
    conc_event_set(&stop);
    conc_thread_join(idler, CONC_FOREVER, NULL);
    printf("after stop: is_alive=%d\n", conc_thread_is_alive(idler));
    conc_thread_release(idler);

    /* Joining yourself would wait forever; Python raises RuntimeError, conc returns -EDEADLK. */
    err = conc_thread_join(conc_thread_current(), CONC_FOREVER, NULL);
    printf("join(current_thread()): %s\n", conc_errname(err));
    return err == -EDEADLK ? 0 : 1;
}
