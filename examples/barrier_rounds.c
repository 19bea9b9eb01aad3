/* threading.Barrier: N threads meet, round after round.
 *
 * Three workers compute in rounds; nobody starts round r+1 before all have finished round r. The
 * action runs once per round, in the last thread to arrive, before anyone is released (a good
 * place to combine the round's results). A timeout breaks the barrier for everyone, as in Python:
 * the thread whose time ran out gets -ETIMEDOUT, the others CONC_EBROKEN (Python raises
 * BrokenBarrierError in all of them). abort() breaks it on purpose; reset() makes it usable again. */
#include <conc.h>
#include <stdio.h>

enum { WORKERS = 3, ROUNDS = 3 };

static conc_barrier_t barrier;
static long partial[WORKERS];
static long total;
static int round_no;

/* Runs in the last arriver while the others are still held, so it may read every partial[]. */
static int end_of_round(void *arg) {
    (void)arg;
    long sum = 0;
    for (int i = 0; i < WORKERS; i++) sum += partial[i];
    total += sum;
    printf("round %d complete: sum %ld\n", ++round_no, sum);
    return 0; /* non-zero would break the barrier */
}

static void *worker(void *arg) {
    long id = (long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        partial[id] = (r + 1) * (id + 1); /* this round's "work" */
        int idx = conc_barrier_wait(&barrier, 5.0);
        if (idx < 0) return (void *)(long)idx;
    }
    return NULL;
}

static conc_barrier_t meeting;

static void *punctual(void *arg) {
    (void)arg;
    return (void *)(long)conc_barrier_wait(&meeting, CONC_FOREVER);
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_barrier_init(&barrier, WORKERS, end_of_round, NULL, 0); /* Barrier(3, action=...) */
    conc_thread_t *t[WORKERS];
    for (long i = 0; i < WORKERS; i++) conc_thread_start(&t[i], worker, (void *)i, NULL);
    for (int i = 0; i < WORKERS; i++) {
        void *res;
        conc_thread_join(t[i], CONC_FOREVER, &res);
        conc_thread_release(t[i]);
        if (res) return 1;
    }
    printf("%d rounds, total %ld\n", round_no, total);
    if (round_no != ROUNDS || total != 6 + 12 + 18) return 1;

    /* Three parties, but only two come: the one with a timeout gives up and breaks it. */
    conc_barrier_init(&meeting, 3, NULL, NULL, 0);
    conc_thread_t *p;
    conc_thread_start(&p, punctual, NULL, NULL);
    int mine = conc_barrier_wait(&meeting, 0.2);
    void *theirs;
    conc_thread_join(p, CONC_FOREVER, &theirs);
    conc_thread_release(p);
    printf("timeout: the waiter that timed out got %s, the other %s; broken=%d\n",
           conc_errname(mine), conc_errname((int)(long)theirs), conc_barrier_broken(&meeting));
    if (mine != -ETIMEDOUT || (long)theirs != CONC_EBROKEN) return 1;
    printf("a broken barrier refuses new waiters: %s\n",
           conc_errname(conc_barrier_wait(&meeting, 0)));

    conc_barrier_reset(&meeting); /* usable again */
    printf("after reset(): broken=%d, n_waiting=%u, parties=%u\n", conc_barrier_broken(&meeting),
           conc_barrier_n_waiting(&meeting), conc_barrier_parties(&meeting));
    conc_barrier_abort(&meeting); /* e.g. a worker failed: release everyone with an error */
    printf("after abort(): broken=%d\n", conc_barrier_broken(&meeting));
    return conc_barrier_broken(&meeting) ? 0 : 1;
}
