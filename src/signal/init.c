/* conc_init: the first call in main. Installs the interrupt routing and exit-time joining of
 * non-daemon threads. (The processes layer adds: a spawned child runs its target here.) */
#include "conc/signal.h"
#include "../internal/hooks.h"

CONC_HIDDEN int conc__interrupt_install(void);
/* src/process/init.c: early, a forkserver exec becomes the server (before anything starts a
 * thread); late, a spawned child runs its target and exits. */
CONC_HIDDEN void conc__process_init_early(int argc, char **argv);
CONC_HIDDEN void conc__process_init_late(void);

static int initialised;

int conc_init(int argc, char **argv) {
    if (__atomic_exchange_n(&initialised, 1, __ATOMIC_ACQ_REL)) return 0;
    conc__process_init_early(argc, argv);
    int r = conc__interrupt_install();
    if (r < 0) return r;
    conc__threads_at_init();
    conc__process_init_late();
    return 0;
}
