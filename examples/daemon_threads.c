/* Daemon vs non-daemon threads, and what happens when main returns.
 *
 * As in Python: returning from main (or calling exit) first joins every non-daemon thread, so
 * their work is finished; daemon threads are abandoned and die with the process, wherever they
 * are. A thread started with no options inherits the daemon flag of the thread that starts it.
 * Use daemon threads only for work that may be cut off at any point: they can die holding a lock
 * or with output unwritten. */
#include <conc.h>
#include <stdio.h>

static conc_event_t never = CONC_EVENT_INIT; /* nobody sets it */
static conc_event_t main_returning = CONC_EVENT_INIT;
static conc_event_t watchdog_ready = CONC_EVENT_INIT;

static void *worker(void *arg) {
    (void)arg;
    /* start only once main has said goodbye, so the output shows the exit-time join */
    conc_event_wait(&main_returning, CONC_FOREVER);
    conc_event_wait(&never, 0.2); /* 0.2 s of "work" */
    printf("worker (non-daemon): finished its work after main returned\n");
    return NULL;
}

static void *helper(void *arg) {
    (void)arg;
    conc_event_wait(&never, CONC_FOREVER);
    printf("helper: never printed\n");
    return NULL;
}

static void *watchdog(void *arg) {
    (void)arg;
    /* opts NULL: inherits daemon=true from this thread, as Thread() does in Python */
    conc_thread_t *h;
    conc_thread_start(&h, helper, NULL, NULL);
    printf("watchdog (daemon) started %s, daemon=%d\n", conc_thread_name(h),
           conc_thread_is_daemon(h));
    conc_thread_release(h);
    conc_event_set(&watchdog_ready);
    conc_event_wait(&never, CONC_FOREVER); /* loops forever in real life */
    printf("watchdog: never printed\n");
    return NULL;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_thread_t *w, *d;
    conc_thread_start(&w, worker, NULL, &(conc_thread_opts_t){.name = "worker"});
    conc_thread_start(&d, watchdog, NULL,
                      &(conc_thread_opts_t){.name = "watchdog", .daemon = true});
    printf("worker daemon=%d, watchdog daemon=%d\n", conc_thread_is_daemon(w),
           conc_thread_is_daemon(d));
    /* Dropping the handles does not stop the threads. */
    conc_thread_release(w);
    conc_thread_release(d);
    conc_event_wait(&watchdog_ready, CONC_FOREVER);
    printf("main: returning\n");
    conc_event_set(&main_returning);
    return 0; /* joins "worker" (0.2 s), abandons "watchdog" and its helper */
}
