/* conc_init: the first call in main. Installs the interrupt routing and exit-time joining of
 * non-daemon threads. (The processes layer adds: a spawned child runs its target here.) */
#include "conc/signal.h"
#include "../internal/hooks.h"

CONC_HIDDEN int conc__interrupt_install(void);

static int initialised;

int conc_init(int argc, char **argv) {
    (void)argc;
    (void)argv;
    if (__atomic_exchange_n(&initialised, 1, __ATOMIC_ACQ_REL)) return 0;
    int r = conc__interrupt_install();
    if (r < 0) return r;
    conc__threads_at_init();
    return 0;
}
