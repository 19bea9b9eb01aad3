/* conc_signal_handle: signal.signal() for C, with the handler called in the dispatcher thread
 * (dispatch.c) rather than in signal context.
 *
 * Refused with -EINVAL besides SIGKILL and SIGSTOP (which cannot be caught): the synchronous fault
 * signals SIGSEGV, SIGBUS, SIGFPE and SIGILL. Their handler must not return to the faulting
 * instruction, and a handler in another thread cannot prevent that: the process would spin
 * re-faulting instead of dying. */
#include <errno.h>
#include <signal.h>
#include "conc/signal.h"
#include "priv.h"

int conc_signal_handle(int signo, void (*handler)(int signo, void *arg), void *arg) {
    if (signo < 1 || signo > 64) return -EINVAL;
    switch (signo) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL: return -EINVAL;
    default: break;
    }
    return conc__signal_set(signo, handler, arg);
}
