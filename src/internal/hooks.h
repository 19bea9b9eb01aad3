/* Calls between modules that are not public API. */
#ifndef CONC_INTERNAL_HOOKS_H
#define CONC_INTERNAL_HOOKS_H

#include "base.h"

/* thread module: conc_init calls this once, so non-daemon threads are joined at exit(). */
CONC_HIDDEN void conc__threads_at_init(void);

/* signal module: block the asynchronous signals (SIGINT, SIGTERM, SIGTSTP, SIGQUIT) in the caller,
 * saving the old mask in *old; threads conc starts are created with them blocked. */
#include <signal.h>
CONC_HIDDEN void conc__block_async_signals(sigset_t *old);

#endif
