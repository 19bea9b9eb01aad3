/* Cancellation and cleanup in C.
 *
 * There is no exception to unwind the stack: a cancelled task sees -ECANCELED from the call it is
 * suspended in (conc_await, conc_sleep, a queue get...), cleans up, and returns. Whatever it
 * returns, it ends *cancelled* - an ignored -ECANCELED can never swallow a cancellation - unless
 * it calls conc_task_uncancel() to say it handled it and goes on (Python's `except
 * CancelledError:` without re-raising). */
#include <stdint.h>
#include <stdio.h>
#include <conc.h>

static int connections_open;

static void *worker(void *arg) {
    const char *name = arg;
    connections_open++;
    printf("%s: connected\n", name);
    int r = conc_sleep(3600); /* long work; cancelled after 20 ms */
    /* cleanup runs in every case: it may itself await (a polite goodbye) */
    if (r == -ECANCELED) printf("%s: cancelled, saying goodbye\n", name);
    conc_task_uncancel(); /* let the goodbye's own await run... */
    conc_sleep(0.01);
    connections_open--;
    printf("%s: closed\n", name);
    /* ...and end cancelled anyway, on purpose: the caller asked for it */
    return r == -ECANCELED ? conc_task_error(-ECANCELED) : NULL;
}

static void *stubborn(void *arg) {
    (void)arg;
    conc_sleep(3600);
    return (void *)(intptr_t)1; /* ignores -ECANCELED: still ends cancelled */
}

static void *amain(void *arg) {
    (void)arg;
    conc_task_t *w = conc_task_spawn(NULL, worker, "worker", NULL);
    conc_task_t *s = conc_task_spawn(NULL, stubborn, NULL, NULL);
    conc_sleep(0.02);
    conc_task_cancel(w);
    conc_task_cancel(s);
    /* awaiting them: -ECANCELED, and it only returns once their cleanup has finished */
    int rw = conc_await(conc_task_future(w), NULL);
    int rs = conc_await(conc_task_future(s), NULL);
    conc_task_uncancel(); /* those -ECANCELED were theirs, not ours */
    conc_task_uncancel();
    printf("worker: %s, stubborn: %s, connections open: %d\n", conc_errname(rw), conc_errname(rs),
           connections_open);
    conc_task_release(w);
    conc_task_release(s);
    return connections_open == 0 && rw == -ECANCELED && rs == -ECANCELED ? NULL
                                                                         : conc_task_error(-EPROTO);
}

int main(void) {
    return conc_run(amain, NULL, NULL) != 0;
}
