/* conc/signal.h - conc_init, KeyboardInterrupt for C, and signal handlers that run as ordinary
 * calls.
 *
 * After conc_init, SIGINT belongs to the main thread: a blocking conc_ call there returns -EINTR
 * (once per SIGINT), conc_check_interrupt() reports it to CPU loops, and no other thread is ever
 * interrupted. A second SIGINT while the first is still unconsumed kills the process with the
 * default action, so a program that ignores -EINTR still stops on a second Ctrl+C. */
#ifndef CONC_SIGNAL_H
#define CONC_SIGNAL_H

#include "conc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Call first in main: installs the interrupt routing and exit-time joining of non-daemon threads,
 * and (once processes exist) runs a spawned child's target and exits. argc/argv may be 0/NULL. */
CONC_API int conc_init(int argc, char **argv);

/* Run handler(signo, arg) in ordinary thread context (a dispatcher thread named "conc-signals"),
 * where it may lock, allocate and log. Signals of one kind that arrive before the handler runs are
 * merged into one call. handler NULL restores the default disposition (for SIGINT after conc_init:
 * KeyboardInterrupt). -EINVAL for signo outside 1..64, SIGKILL and SIGSTOP, and the fault signals
 * SIGSEGV, SIGBUS, SIGFPE and SIGILL (a handler in another thread cannot stop the fault from
 * recurring). Any thread may call it. Handling SIGINT this way replaces the KeyboardInterrupt
 * behaviour, as signal.signal does. A fork child dispatches its own signals to the same handlers. */
CONC_API int conc_signal_handle(int signo, void (*handler)(int signo, void *arg), void *arg);

/* SIGTSTP (Ctrl+Z): run before_stop(arg), then really stop (SIGSTOP); on SIGCONT run
 * after_continue(arg). Either hook may be NULL; both NULL restores the defaults. Both run in the
 * dispatcher thread. If SIGCONT has already come when before_stop returns, the process does not
 * stop. */
CONC_API int conc_signal_on_stop(void (*before_stop)(void *), void (*after_continue)(void *),
                                 void *arg);

/* -EINTR once per pending SIGINT, else 0. For CPU loops in the main thread. */
CONC_API int conc_check_interrupt(void);

#ifdef __cplusplus
}
#endif
#endif
