/* Calls between modules that are not public API. */
#ifndef CONC_INTERNAL_HOOKS_H
#define CONC_INTERNAL_HOOKS_H

#include "base.h"

/* thread module: conc_init calls this once, so non-daemon threads are joined at exit(). */
CONC_HIDDEN void conc__threads_at_init(void);

/* process module: conc_init calls this last, once, when set (from a constructor). In a child
 * started by spawn or forkserver it runs the child's target and exits; otherwise it returns 0.
 * A negative return is conc_init's. */
CONC_HIDDEN extern int (*conc__init_hook)(int argc, char **argv);

/* signal module: block the asynchronous signals (SIGINT, SIGTERM, SIGTSTP, SIGQUIT) in the caller,
 * saving the old mask in *old; threads conc starts are created with them blocked. */
#include <signal.h>
CONC_HIDDEN void conc__block_async_signals(sigset_t *old);

#endif
