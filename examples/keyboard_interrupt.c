/* KeyboardInterrupt in C: Ctrl+C makes the main thread's blocking conc_ call return -EINTR.
 *
 * After conc_init, SIGINT belongs to the main thread, as in Python: whatever conc_ call the main
 * thread is blocked in (a wait, a join, an acquire) returns -EINTR, once per Ctrl+C, and no other
 * thread is disturbed. C has no exceptions, so unlike CPython's KeyboardInterrupt it never lands
 * at an arbitrary line (half-way through a `finally`, between an acquire and its `try`): only at a
 * blocking conc_ call, or where a CPU loop asks conc_check_interrupt().
 *
 * To run unattended, a Timer sends this process SIGINT, standing in for the user's Ctrl+C. */
#include <conc.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void ctrl_c(void *arg) {
    (void)arg;
    kill(getpid(), SIGINT); /* the whole process, as the terminal does */
}

static conc_event_t never = CONC_EVENT_INIT, stop = CONC_EVENT_INIT;

/* Another thread, going on with its own timed waits while main is interrupted. */
static void *ticker(void *arg) {
    long *ticks = arg;
    int err;
    while ((err = conc_event_wait(&stop, 0.01)) == -ETIMEDOUT) (*ticks)++;
    return (void *)(long)err; /* 0 when stopped; -EINTR would mean it was disturbed */
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    long ticks = 0;
    conc_thread_t *tk;
    conc_thread_start(&tk, ticker, &ticks, &(conc_thread_opts_t){.name = "ticker"});

    /* 1. Blocked: try: never.wait() except KeyboardInterrupt: ... */
    conc_timer_t *t;
    conc_timer_start(&t, 0.2, ctrl_c, NULL);
    double t0 = conc_monotonic();
    int err = conc_event_wait(&never, CONC_FOREVER);
    printf("main: wait() returned %s after %.2f s: KeyboardInterrupt\n", conc_errname(err),
           conc_monotonic() - t0);
    conc_timer_release(t);
    if (err != -EINTR) return 1;

    /* 2. Computing: poll for the interrupt between chunks of work. */
    conc_timer_start(&t, 0.1, ctrl_c, NULL);
    unsigned long x = 1, chunks = 0;
    t0 = conc_monotonic();
    while ((err = conc_check_interrupt()) == 0) {
        for (int i = 0; i < 10000; i++) x = x * 2862933555777941757UL + 3037000493UL;
        chunks++;
        if (conc_monotonic() - t0 > 10) break; /* no Ctrl+C came: give up */
    }
    printf("main: CPU loop stopped by conc_check_interrupt() = %s after %lu chunks (x=%lu)\n",
           conc_errname(err), chunks, x % 10);
    conc_timer_release(t);
    if (err != -EINTR) return 1;

    /* The interrupt was consumed: the next wait times out normally. */
    printf("main: next wait(0.05): %s\n", conc_errname(conc_event_wait(&never, 0.05)));

    conc_event_set(&stop);
    void *res;
    conc_thread_join(tk, CONC_FOREVER, &res);
    conc_thread_release(tk);
    printf("ticker: %ld ticks, ended with %s: never interrupted\n", ticks,
           conc_errname((int)(long)res));
    return res == NULL ? 0 : 1;
}
