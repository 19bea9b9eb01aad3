/* conc_signal_on_stop: Ctrl+Z for programs that must tidy up first (a terminal to restore, a
 * lock to drop) and redo it after fg.
 *
 * SIGTSTP and SIGCONT both go through the dispatcher. On SIGTSTP it runs before_stop and then
 * stops the whole process for real with SIGSTOP, which cannot be caught; the SIGCONT that ends
 * the stop runs after_continue. When the dispatcher was busy and finds SIGTSTP and SIGCONT
 * together, the continue has already happened: stopping then would wait for a second SIGCONT
 * that never comes, so it runs before_stop and after_continue and does not stop. */
#include <signal.h>
#include <unistd.h>
#include "conc/signal.h"
#include "priv.h"

/* Guarded by the registry lock, so replacing them never tears a hook from its argument. */
static void (*before_hook)(void *);
static void (*after_hook)(void *);
static void *hook_arg;

static void on_tstp(int signo, void *unused) {
    (void)signo, (void)unused;
    conc__signal_lock();
    void (*before)(void *) = before_hook;
    void *arg = hook_arg;
    conc__signal_unlock();
    if (before) before(arg);
    if (!conc__signal_coming(SIGCONT)) kill(getpid(), SIGSTOP);
}

static void on_cont(int signo, void *unused) {
    (void)signo, (void)unused;
    conc__signal_lock();
    void (*after)(void *) = after_hook;
    void *arg = hook_arg;
    conc__signal_unlock();
    if (after) after(arg);
}

int conc_signal_on_stop(void (*before_stop)(void *), void (*after_continue)(void *), void *arg) {
    conc__signal_lock();
    before_hook = before_stop;
    after_hook = after_continue;
    hook_arg = arg;
    conc__signal_unlock();
    bool any = before_stop || after_continue;
    int r = conc__signal_set(SIGTSTP, any ? on_tstp : NULL, NULL);
    if (r == 0) r = conc__signal_set(SIGCONT, any ? on_cont : NULL, NULL);
    return r;
}
