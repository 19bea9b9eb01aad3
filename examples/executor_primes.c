/* concurrent.futures in C: the same program on a thread pool, a process pool, or MPI ranks.
 *
 *   build/examples/executor_primes thread          # ThreadPoolExecutor
 *   build/examples/executor_primes process         # ProcessPoolExecutor (forkserver workers)
 *   mpirun -n 4 build/examples/executor_primes_mpi mpi   # rank 0 drives ranks 1-3
 *   build/examples/executor_primes_mpi spawn       # MPI_Comm_spawn 3 worker ranks
 *
 * It counts the primes below 200,000 in 20 slices with map(), then shows as_completed and an
 * error travelling back. The work is registered with CONC_WORK so that workers in other
 * processes - or on other hosts - find it by name; arguments and results are bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"

struct slice {
    int lo, hi;
};

static int count_primes(const void *arg, size_t len, conc_bytes_t *out) {
    if (len != sizeof(struct slice)) return -EINVAL;
    struct slice s;
    memcpy(&s, arg, sizeof s);
    int count = 0;
    for (int n = s.lo < 2 ? 2 : s.lo; n < s.hi; n++) {
        int prime = 1;
        for (int d = 2; d * d <= n; d++)
            if (n % d == 0) {
                prime = 0;
                break;
            }
        count += prime;
    }
    out->data = malloc(sizeof count);
    if (!out->data) return -ENOMEM;
    memcpy(out->data, &count, sizeof count);
    out->len = sizeof count;
    return 0;
}
CONC_WORK(count_primes)

static int result_int(conc_future_t *f, int *v) {
    void *p;
    int r = conc_future_result(f, &p);
    if (r == 0) memcpy(v, ((conc_bytes_t *)p)->data, sizeof *v);
    return r;
}

int main(int argc, char **argv) {
    if (conc_init(argc, argv) != 0) return 1;
#ifdef CONC_EXAMPLE_MPI
    if (conc_mpi_init(&argc, &argv) != 0) return 1; /* ranks 1..N-1 serve in here */
#endif
    const char *kind = argc > 1 ? argv[1] : "thread";
    conc_executor_t *ex;
    int r;
    if (!strcmp(kind, "thread")) {
        r = conc_thread_pool_new(&ex, 4);
    } else if (!strcmp(kind, "process")) {
        r = conc_process_pool_new(&ex, 2, NULL);
#ifdef CONC_EXAMPLE_MPI
    } else if (!strcmp(kind, "mpi") || !strcmp(kind, "spawn")) {
        conc_mpi_opts_t o = {.spawn = !strcmp(kind, "spawn") ? 3 : 0};
        r = conc_mpi_pool_new(&ex, &o);
#endif
    } else {
        fprintf(stderr, "usage: %s thread|process|mpi|spawn\n", argv[0]);
        return 2;
    }
    if (r != 0) {
        fprintf(stderr, "pool: %s\n", conc_strerror(r));
        return 1;
    }

    enum { SLICES = 20, TOP = 200000 };
    struct slice s[SLICES];
    conc_bytes_t args[SLICES];
    conc_future_t *fs[SLICES];
    for (int i = 0; i < SLICES; i++) {
        s[i] = (struct slice){TOP / SLICES * i, TOP / SLICES * (i + 1)};
        args[i] = (conc_bytes_t){&s[i], sizeof s[i]};
    }
    /* ex.map(count_primes, slices, chunksize=2) */
    if ((r = conc_executor_map(ex, count_primes, args, SLICES, 2, fs)) != 0) return 1;
    int total = 0, done = 0;
    size_t i;
    /* for f in as_completed(fs): ... */
    while (conc_as_completed(fs, SLICES, 60, &i) == 0) {
        int v;
        if (result_int(fs[i], &v) != 0) return 1;
        total += v;
        done++;
    }
    printf("%s pool: %d slices done, %d primes below %d\n", kind, done, total, TOP);
    for (int k = 0; k < SLICES; k++) conc_future_release(fs[k]);

    /* an error comes back as the future's error, not as a crash */
    conc_future_t *bad;
    conc_executor_submit(ex, count_primes, "x", 1, &bad);
    conc_future_wait(bad, 60);
    printf("bad argument: %s\n", conc_errname(conc_future_result(bad, NULL)));
    conc_future_release(bad);

    conc_executor_shutdown(ex, true, false); /* with ... as ex: waits for the workers */
    conc_future_t *late;
    printf("after shutdown: %s\n",
           conc_errname(conc_executor_submit(ex, count_primes, s, sizeof *s, &late)));
    conc_executor_free(ex);
    return 0;
}
