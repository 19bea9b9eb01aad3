/* The MPI pool's warm round trip vs a raw MPI send+recv pair, in one `mpirun -n 2` job (bench/run).
 *
 * First the raw pair: rank 0 sends 8 bytes to rank 1, which sends them back (MPI_Send/MPI_Recv,
 * rank 1 receiving with a blocking MPI_Recv, Open MPI's spinning one). Then both ranks call
 * conc_mpi_init, rank 1 serves, and rank 0 submits a tiny CONC_WORK to the MPI pool and waits for
 * each result. Output: executor_mpi_roundtrip, ns/roundtrip, pool, raw, median ratio (target <= 2). */
#include "../harness.h"
#include <mpi.h>
#include "conc.h"

enum { REPS = 21 };

static int tiny(const void *arg, size_t len, conc_bytes_t *out) {
    out->data = malloc(len ? len : 1);
    memcpy(out->data, arg, len);
    out->len = len;
    return 0;
}
CONC_WORK(tiny)

static conc_executor_t *ex;

static double raw(long n) {
    char b[8] = {1};
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        MPI_Send(b, 8, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
        MPI_Recv(b, 8, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return bench_now() - t;
}

static double pool(long n) {
    char b[8] = {1};
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_future_t *f;
        if (conc_executor_submit(ex, tiny, b, 8, &f) != 0) exit(2);
        conc_future_wait(f, -1);
        conc_future_release(f);
    }
    return bench_now() - t;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    int provided, rank;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    double tr[REPS], tp[REPS], r[REPS];
    long nr = 0;
    if (rank == 1) {
        char b[8];
        MPI_Status st;
        for (;;) {
            MPI_Recv(b, 8, MPI_BYTE, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
            if (st.MPI_TAG == 2) break;
            MPI_Send(b, 8, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
        }
    } else {
        nr = bench_calibrate(raw, 0.01);
        for (int i = 0; i < REPS; i++) tr[i] = raw(nr) / (double)nr * 1e9;
        char b[8] = {0};
        MPI_Send(b, 8, MPI_BYTE, 1, 2, MPI_COMM_WORLD);
    }
    if (conc_mpi_init(&argc, &argv) != 0) return 1; /* rank 1 serves from here on */
    if (conc_mpi_pool_new(&ex, NULL) != 0) return 1;
    long np = bench_calibrate(pool, 0.01);
    for (int i = 0; i < REPS; i++) {
        tp[i] = pool(np) / (double)np * 1e9;
        r[i] = tp[i] / tr[i];
    }
    double mr = bench_median(tr, REPS), mp = bench_median(tp, REPS);
    printf("executor_mpi_roundtrip\tns/roundtrip\t%.1f\t%.1f\t%.3f\n", mp, mr,
           bench_median(r, REPS));
    conc_executor_free(ex);
    return 0;
}
