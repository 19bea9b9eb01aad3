/* threading.Timer: run a function later, in a thread of its own, unless cancelled first.
 *
 * Timer(0.1, remind).start() becomes conc_timer_start(&t, 0.1, remind, arg). The function runs in
 * the timer's thread, so it must synchronise like any other thread (here: an Event). A timer that
 * is cancelled before it fires never runs (in Python a cancel can still lose that race), and its
 * thread ends at once, so it does not hold up the exit. */
#include <conc.h>
#include <stdio.h>

static conc_event_t fired = CONC_EVENT_INIT;
static double started;

static void remind(void *arg) {
    printf("%s after %.2f s, in thread %s\n", (const char *)arg, conc_monotonic() - started,
           conc_thread_name(conc_thread_current()));
    conc_event_set(&fired);
}

static void never(void *arg) {
    (void)arg;
    printf("cancelled timer ran!\n");
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    started = conc_monotonic();
    conc_timer_t *t, *late;
    conc_timer_start(&t, 0.1, remind, "reminder");
    conc_timer_start(&late, 30.0, never, NULL); /* would keep the program alive 30 s */

    int err = conc_event_wait(&fired, 5.0);
    double waited = conc_monotonic() - started;
    printf("main: the timer fired (%s), %.2f s after it was started\n", conc_errname(err), waited);
    if (err != 0 || waited < 0.1) return 1;

    conc_timer_cancel(late); /* timer.cancel(): it had not fired, so never() will not run */
    double t1 = conc_monotonic();
    err = conc_timer_join(late, 5.0); /* timer.join(): its thread ends at once, no 30 s sleep */
    printf("main: cancelled the 30 s timer; its thread ended after %.2f s (%s)\n",
           conc_monotonic() - t1, conc_errname(err));
    conc_timer_release(t);
    conc_timer_release(late);
    return err == 0 ? 0 : 1;
}
