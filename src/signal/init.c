/* conc_init: the first call in main. Installs the interrupt routing and exit-time joining of
 * non-daemon threads, then lets the processes layer take over a spawned child.
 *
 * The processes layer plugs in through conc__init_hook rather than a direct call so that the
 * signal module builds without it. It sets the hook from a constructor in the file that also
 * holds conc_process_start: a program that starts processes links that file, and a spawned child
 * is the same program, so the hook is set in every child that needs it. */
#include <pthread.h>
#include "conc/signal.h"
#include "../internal/hooks.h"
#include "priv.h"

int (*conc__init_hook)(int argc, char **argv);

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialised;

int conc_init(int argc, char **argv) {
    pthread_mutex_lock(&init_lock);
    if (initialised) {
        pthread_mutex_unlock(&init_lock);
        return 0;
    }
    int r = conc__signal_keyboard_interrupt();
    if (r == 0) {
        conc__threads_at_init();
        initialised = true;
    }
    pthread_mutex_unlock(&init_lock);
    if (r < 0) return r;
    /* Unlocked: in a spawned child the hook runs the target and exits without returning. */
    int (*hook)(int, char **) = __atomic_load_n(&conc__init_hook, __ATOMIC_ACQUIRE);
    return hook ? hook(argc, argv) : 0;
}
