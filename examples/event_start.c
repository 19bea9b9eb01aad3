/* threading.Event: a flag threads can wait for.
 *
 * Runners line up and wait for the starting gun; main fires it once everything is ready, and
 * every waiter wakes. wait(timeout) returns 0 once the flag is set and -ETIMEDOUT otherwise, where
 * Python returns True/False. clear() re-arms the event for the next round. */
#include <conc.h>
#include <stdio.h>

enum { RUNNERS = 3 };

static conc_event_t gun = CONC_EVENT_INIT;
static unsigned started;

static void *runner(void *arg) {
    long id = (long)arg;
    conc_event_wait(&gun, CONC_FOREVER); /* gun.wait() */
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    printf("runner %ld: off\n", id);
    return NULL;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_thread_t *t[RUNNERS];
    for (long i = 0; i < RUNNERS; i++) conc_thread_start(&t[i], runner, (void *)i, NULL);

    /* Nobody has started yet: the gun is not set, and a wait with a timeout gives up. */
    int err = conc_event_wait(&gun, 0.1);
    printf("before the gun: is_set=%d, wait(0.1)=%s, started=%u\n", conc_event_is_set(&gun),
           conc_errname(err), __atomic_load_n(&started, __ATOMIC_SEQ_CST));
    if (err != -ETIMEDOUT || __atomic_load_n(&started, __ATOMIC_SEQ_CST) != 0) return 1;

    printf("bang\n");
    conc_event_set(&gun); /* wakes every waiter, now and later */
    for (int i = 0; i < RUNNERS; i++) {
        conc_thread_join(t[i], CONC_FOREVER, NULL);
        conc_thread_release(t[i]);
    }
    printf("all %u runners started; wait() on a set event returns at once: %s\n", started,
           conc_errname(conc_event_wait(&gun, 0)));

    conc_event_clear(&gun); /* re-armed */
    printf("after clear(): is_set=%d\n", conc_event_is_set(&gun));
    return started == RUNNERS && !conc_event_is_set(&gun) ? 0 : 1;
}
