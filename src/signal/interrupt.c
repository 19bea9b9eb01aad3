/* KeyboardInterrupt for C: SIGINT becomes -EINTR in the main thread's blocking conc_ calls.
 *
 * The handler only counts the signal and bumps conc__intr_seq, the second futex word the main
 * thread sleeps on (see base/futex.c), so a sleeping main thread wakes at once and a main thread
 * about to sleep does not. Threads conc starts block SIGINT; if a thread conc did not start takes
 * it anyway, the handler forwards it to the main thread, so only the main thread is interrupted.
 * A SIGINT that arrives while the previous one is still unconsumed restores the default action and
 * re-raises: the second Ctrl+C always kills, even if the program ignores -EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "conc/signal.h"
#include "../internal/hooks.h"

static void on_sigint(int signo) {
    int saved = errno;
    if (gettid() != conc__main_tid()) {
        syscall(SYS_tgkill, getpid(), conc__main_tid(), signo);
        errno = saved;
        return;
    }
    if (__atomic_load_n(&conc__intr_pending, __ATOMIC_ACQUIRE) > 0) {
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
    __atomic_add_fetch(&conc__intr_pending, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&conc__intr_seq, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &conc__intr_seq, 1 /* FUTEX_WAKE, shared: see futex.c */, 1, 0, 0, 0);
    errno = saved;
}

/* Installed by conc_init, and again by conc_signal_handle(SIGINT, NULL, ...). */
CONC_HIDDEN int conc__interrupt_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* foreign code keeps its syscalls; conc's waits see the futex word */
    if (sigaction(SIGINT, &sa, NULL) < 0) return -errno;
    __atomic_store_n(&conc__intr_enabled, 1, __ATOMIC_RELEASE);
    return 0;
}

CONC_HIDDEN void conc__interrupt_uninstall(void) {
    __atomic_store_n(&conc__intr_enabled, 0, __ATOMIC_RELEASE);
}

int conc_check_interrupt(void) {
    if (!conc__is_main_thread()) return 0;
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
