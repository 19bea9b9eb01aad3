/* KeyboardInterrupt for C: SIGINT becomes -EINTR in the main thread's blocking conc_ calls.
 *
 * The handler only counts the signal and bumps conc__intr_seq, the second futex word the main
 * thread sleeps on (see base/futex.c), so a sleeping main thread wakes at once and a main thread
 * about to sleep does not. Where the main thread blocks in a syscall directly (recv on x86_64), the
 * handler also steers it out of the call through the interrupted context (base/intr_syscall.c). Threads conc starts block SIGINT; if a thread conc did not start takes
 * it anyway, the handler forwards it to the main thread, so only the main thread is interrupted.
 * A SIGINT that arrives while the previous one is still unconsumed restores the default action and
 * re-raises: the second Ctrl+C always kills, even if the program ignores -EINTR.
 *
 * All counting happens in the main thread's handler, and a handler is never re-entered by its own
 * signal (SIGINT is blocked while it runs), so "pending, then count" needs no further atomicity. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "conc/signal.h"
#include "../internal/hooks.h"
#include "priv.h"

static void on_sigint(int signo, siginfo_t *info, void *uc) {
    (void)info;
    int saved = errno;
    pid_t main_tid = conc__main_tid();
    if ((pid_t)syscall(SYS_gettid) != main_tid) {
        syscall(SYS_tgkill, getpid(), main_tid, signo);
        errno = saved;
        return;
    }
    if (__atomic_load_n(&conc__intr_pending, __ATOMIC_ACQUIRE) > 0) {
        /* Still blocked here, so the re-raised SIGINT waits until we return, then kills. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGINT, &dfl, NULL);
        raise(SIGINT);
        errno = saved;
        return;
    }
    __atomic_add_fetch(&conc__intr_pending, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&conc__intr_seq, 1, __ATOMIC_SEQ_CST);
    /* The main thread is the one running this handler, so its futex_waitv ends anyway (EINTR, or
     * a restart that sees the new sequence); the wake is for anyone else watching the word. */
    syscall(SYS_futex, &conc__intr_seq, 1 /* FUTEX_WAKE, shared: see futex.c */, 1, 0, 0, 0);
    /* and for fd waits (base/fdwait.c) */
    int efd = __atomic_load_n(&conc__intr_efd, __ATOMIC_ACQUIRE);
    if (efd >= 0) {
        uint64_t one = 1;
        ssize_t w = write(efd, &one, sizeof one);
        (void)w;
    }
#if CONC__HAVE_INTR_SYSCALL
    /* Counted first: a recv cancelled here finds the interrupt to consume (base/intr_syscall.c). */
    conc__intr_redirect(uc);
#else
    (void)uc;
#endif
    errno = saved;
}

/* A fork child has not received the parent's SIGINTs (as CPython's _PySignal_AfterFork). */
static void interrupt_after_fork(void) {
    __atomic_store_n(&conc__intr_pending, 0, __ATOMIC_RELAXED);
}

static void register_atfork(void) {
    pthread_atfork(NULL, NULL, interrupt_after_fork);
}

/* Called with the registry lock held (dispatch.c), by conc_init and by
 * conc_signal_handle(SIGINT, NULL, ...) after conc_init. */
int conc__interrupt_install(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_atfork);
    conc__signals_flush(); /* TSan: see internal/base.h */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = CONC_SA_FLAGS | SA_SIGINFO;
    if (sigaction(SIGINT, &sa, NULL) < 0) return -errno;
    __atomic_store_n(&conc__intr_enabled, 1, __ATOMIC_RELEASE);
    return 0;
}

/* SIGINT now goes to a conc_signal_handle handler: a SIGINT caught before no longer counts. */
void conc__interrupt_uninstall(void) {
    __atomic_store_n(&conc__intr_enabled, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&conc__intr_pending, 0, __ATOMIC_RELEASE);
}

int conc_check_interrupt(void) {
    if (!conc__is_main_thread()) return 0;
    conc__signals_flush();
    return conc__intr_take() ? -EINTR : 0;
}

void conc__block_async_signals(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &set, old);
}
