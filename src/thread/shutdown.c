/* threading._shutdown: non-daemon threads keep the process alive.
 *
 * At exit() - whether main returned or anyone called it - every non-daemon thread conc started is
 * joined; daemon threads are abandoned and die with the process. The atexit handler is registered
 * by conc_init and, so that a program which never calls conc_init gets the same semantics, by the
 * first conc_thread_start. Joining repeats until no candidate is left, since the threads being
 * joined may start more. The caller is skipped (exit() may be called from any thread) and so is the
 * main thread (a thread that calls exit() while main waits for it must not wait for main). */
#include <errno.h>
#include <stdlib.h>
#include "../internal/hooks.h"
#include "../internal/thread.h"

static int registered;

static int join_all(void) {
    conc_thread_t *t;
    while ((t = conc__reg_next_to_join(conc__self, conc_thread_main()))) {
        int r = conc_thread_join(t, CONC_FOREVER, NULL);
        conc__thread_unref(t);
        /* A SIGINT in the main thread stops the joining (KeyboardInterrupt); a second call can
         * carry on. */
        if (r == -EINTR) return r;
    }
    return 0;
}

static void at_exit(void) {
    /* The main thread is finishing: a thread that joins it may go on, as in Python's _shutdown
     * (else a non-daemon thread waiting for main, and main waiting for it, would deadlock). */
    if (conc__is_main_thread()) conc__thread_post(conc_thread_main(), CONC__T_DONE);
    /* If interrupted, exit anyway: Python reports the KeyboardInterrupt and finalizes. */
    (void)join_all();
}

void conc__shutdown_register(void) {
    if (conc__likely(__atomic_load_n(&registered, __ATOMIC_ACQUIRE))) return;
    if (!__atomic_exchange_n(&registered, 1, __ATOMIC_ACQ_REL)) atexit(at_exit);
}

void conc__threads_at_init(void) {
    conc__shutdown_register();
}

int conc_shutdown(void) {
    return join_all();
}
