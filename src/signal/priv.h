/* Calls between the files of the signal module; nothing here leaves it. */
#ifndef CONC_SIGNAL_PRIV_H
#define CONC_SIGNAL_PRIV_H

#include <signal.h>
#include <stdbool.h>
#include "../internal/base.h"

/* sa_flags of every handler conc installs. SA_RESTART keeps foreign code's syscalls going (conc's
 * own waits see the futex words, not EINTR). Under TSan the handler itself runs late, so a
 * restarted futex sleep would never notice it: there the sleep must end with EINTR instead (see
 * conc__signals_flush in internal/base.h). */
#ifdef CONC_TSAN
#define CONC_SA_FLAGS 0
#else
#define CONC_SA_FLAGS SA_RESTART
#endif

typedef void (*conc__sig_fn)(int signo, void *arg);

/* interrupt.c: the KeyboardInterrupt handler for SIGINT. */
CONC_HIDDEN int conc__interrupt_install(void);
CONC_HIDDEN void conc__interrupt_uninstall(void);

/* dispatch.c: the handler registry and the dispatcher thread. */
CONC_HIDDEN int conc__signal_set(int signo, conc__sig_fn fn, void *arg);
CONC_HIDDEN int conc__signal_keyboard_interrupt(void); /* conc_init: SIGINT -> -EINTR */
CONC_HIDDEN bool conc__signal_coming(int signo); /* in the dispatcher: signo caught, not yet run */
CONC_HIDDEN void conc__signal_lock(void);        /* the registry lock, for data handlers read */
CONC_HIDDEN void conc__signal_unlock(void);

#endif
